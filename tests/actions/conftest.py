"""Shared helpers for the action tests: the domain, and trackers built as the Rasa server sends them (in the way
rasa-sdk's and covidflow's form tests build theirs)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.helpers import REPO


@pytest.fixture(scope="session")
def domain() -> dict:
    return yaml.safe_load((REPO / "domain.yml").read_text())


def conversation(text: str, intent: str = "nlu_fallback", *, slots: dict[str, Any] | None = None,
                 entities: list[dict[str, Any]] | None = None, loop: str | None = None,
                 sender: str = "fixture", earlier: list[str] = ()) -> Tracker:
    """A tracker whose latest message is `text`, read as `intent`, after the person's `earlier` messages."""
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
                                    {"event": "action", "name": "action_listen"}]
    for said in earlier:
        events += [{"event": "user", "text": said}, {"event": "bot", "text": "..."},
                   {"event": "action", "name": "action_listen"}]
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    events.append({"event": "user", "text": text, "parse_data": latest})
    return Tracker.from_dict({"sender_id": sender, "slots": dict(slots or {}), "events": events, "paused": False,
                              "followup_action": None, "latest_message": latest,
                              "active_loop": {"name": loop, "validate": True} if loop else {},
                              "latest_action_name": "action_listen"})


def run_action(action: Action, tracker: Tracker, domain: dict) -> tuple[list[dict], list[dict]]:
    """What the action said (dispatcher messages) and the events it returned."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def slots_set(events: list[dict]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}
