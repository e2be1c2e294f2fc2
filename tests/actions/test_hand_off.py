"""The hand-off action, on trackers as the Rasa server sends them: what it tells the people on call, and how often.

The webhook is a real HTTP server on 127.0.0.1 that records what it receives."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.hand_off as hand_off_module
from actions.hand_off import ActionHandOff
from liptwitch.core.handoff import HandOffClient
from tests.actions.conftest import conversation, slots_set

TOKEN = "on-call-webhook-token"


class Webhook(BaseHTTPRequestHandler):
    received: list[tuple[dict, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append((json.loads(body), self.headers.get("Authorization", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch):
    """A webhook on a free loopback port, and the action server's client pointed at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Webhook.received = []
    client = HandOffClient(f"http://127.0.0.1:{server.server_address[1]}/hand-off", TOKEN, attempts=1)
    monkeypatch.setattr(hand_off_module, "HAND_OFF_CLIENT", client)
    yield Webhook.received
    server.shutdown()
    server.server_close()


def hand_off(tracker, domain) -> tuple[list[dict], dict]:
    """Runs the action as the action server does, and waits for what it sends in the background."""
    async def run() -> list[dict]:
        events = await ActionHandOff().run(CollectingDispatcher(), tracker, domain)
        client = hand_off_module.HAND_OFF_CLIENT
        if client is not None:
            await asyncio.gather(*list(client._tasks))
        return events
    events = asyncio.run(run())
    return events, slots_set(events)


def escalated(level: str, red_flags: list[str], handed_off: list[str] = (), earlier: list[str] = (),
              text: str = "my mum's face has dropped on one side and she can't lift her arm") -> object:
    return conversation(text, f"red_flag_{level}", sender="whatsapp:+447700900123", earlier=list(earlier),
                        entities=[{"entity": "red_flag", "value": flag} for flag in red_flags],
                        slots={"handed_off": list(handed_off)})


def test_an_emergency_is_handed_off_with_a_summary_of_what_the_person_said(domain, webhook):
    tracker = escalated("emergency", ["RF01", "RF02"], earlier=["my lip has been twitching for 3 days"])
    _, slots = hand_off(tracker, domain)
    assert slots == {"handed_off": ["emergency"]}
    [(record, authorization)] = webhook
    assert authorization == f"Bearer {TOKEN}"
    assert record["conversation_id"] == "whatsapp:+447700900123"
    assert record["level"] == "emergency" and record["red_flags"] == ["RF01", "RF02"]
    assert "Triage level: emergency." in record["summary"]
    assert "RF01" in record["summary"] and "RF02" in record["summary"]
    assert "3 days" in record["summary"]  # what the person said earlier in the conversation counts too


def test_the_same_level_twice_in_a_conversation_tells_the_people_on_call_once(domain, webhook):
    _, first = hand_off(escalated("emergency", ["RF01"]), domain)
    again, _ = hand_off(escalated("emergency", ["RF01"], handed_off=first["handed_off"]), domain)
    assert again == [] and len(webhook) == 1
    _, worse = hand_off(escalated("crisis", ["RF09"], handed_off=first["handed_off"],
                                  text="honestly i don't want to be here anymore"), domain)
    assert worse == {"handed_off": ["emergency", "crisis"]} and len(webhook) == 2


def test_the_red_flags_of_the_escalation_are_used_when_the_message_names_none(domain, webhook):
    tracker = escalated("urgent", [])
    tracker.slots["red_flags"] = ["RF12"]
    hand_off(tracker, domain)
    assert webhook[0][0]["red_flags"] == ["RF12"]


def test_without_a_webhook_nothing_is_sent_and_the_level_is_still_remembered(domain, monkeypatch):
    monkeypatch.setattr(hand_off_module, "HAND_OFF_CLIENT", None)
    events, slots = hand_off(escalated("emergency", ["RF01"]), domain)
    assert slots == {"handed_off": ["emergency"]}


def test_a_webhook_that_is_down_never_delays_or_breaks_the_conversation(domain, monkeypatch):
    dead = HandOffClient("http://127.0.0.1:9/hand-off", attempts=1, timeout=1)
    monkeypatch.setattr(hand_off_module, "HAND_OFF_CLIENT", dead)
    _, slots = hand_off(escalated("emergency", ["RF01"]), domain)
    assert slots == {"handed_off": ["emergency"]}  # the advice has gone; the failure is only logged
