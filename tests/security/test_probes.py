"""Probes of what a bad input or a bad actor could do, replayed against the running servers (issue 17's findings):
no stall from one client, no forced intent or fake hand-off, no message text in the logs, no 500, no shared
conversation, and servers on this machine's loopback only. docs/security.md says what is protected and how."""

from __future__ import annotations

import concurrent.futures
import json
import os
import queue
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio

from liptwitch.core.limits import MAX_REQUEST_BYTES

pytestmark = pytest.mark.security

MARKER = "zqxmarker"  # written in the probes' messages: it must appear in no log


def conversation() -> str:
    return f"probe-{uuid.uuid4().hex[:12]}"


def post(assistant, body: object, content_type: str = "application/json", **headers: str) -> requests.Response:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return requests.post(f"{assistant.url}/webhooks/rest/webhook", data=data, timeout=60,
                         headers={"Content-Type": content_type, **headers})


def triage(replies: list[dict]) -> str | None:
    return next((r["custom"]["triage"] for r in replies if "triage" in r.get("custom", {})), None)


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


# --- 1. one long message must not stall the server ---------------------------------------------------------------

def test_a_body_over_the_limit_is_refused_before_anything_reads_it(local):
    refused = post(local, {"sender": conversation(), "message": "a" * (5 * MAX_REQUEST_BYTES)})
    assert refused.status_code == 413


def test_a_long_message_is_read_up_to_the_limit_says_so_and_does_not_hold_up_others(local):
    long = ("my lip keeps twitching and I am worried about it " * 1200)[:MAX_REQUEST_BYTES - 1000]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(post, local, {"sender": conversation(), "message": long + " my face is drooping"})
        quick = post(local, {"sender": conversation(), "message": "what causes lip twitching?"})
        assert quick.status_code == 200 and quick.json()
        answered = slow.result(timeout=60)
    assert answered.status_code == 200
    assert "so I read its first 1,495 and its last 500 characters" in texts(answered.json())
    # The red-flag check read the part it accepted: the sign at the very end was not in it, and the note says
    # to send anything important again.
    assert "If you think this is an emergency" in texts(answered.json())


# --- 2. nobody can force a red-flag intent or a hand-off --------------------------------------------------------

@pytest.mark.parametrize("command", ['/red_flag_emergency{"red_flag":["RF01","<b>x</b>"]}', "/red_flag_crisis",
                                     '/unclear_symptom{"safety_question": "mood"}'])
def test_a_typed_red_flag_intent_is_read_as_text_and_hands_nothing_off(local, receiver, command):
    me = conversation()
    reply = post(local, {"sender": me, "message": command})
    assert reply.status_code == 200
    assert triage(reply.json()) not in ("emergency", "crisis")
    assert "<b>x</b>" not in reply.text
    assert not [record for record in receiver.records if record["conversation_id"] == me]


def test_a_red_flag_after_a_command_on_another_line_is_heard(local):
    reply = post(local, {"sender": conversation(), "message": "/goodbye@1\nmy face has dropped on one side"})
    assert triage(reply.json()) == "emergency"


def test_a_repeated_emergency_repeats_the_advice_but_hands_off_once(local, receiver):
    me = conversation()
    for _ in range(3):
        assert triage(post(local, {"sender": me, "message": "my dad's face has dropped on one side"}).json()) == \
            "emergency"
    receiver.wait_for(me)
    assert len([record for record in receiver.records if record["conversation_id"] == me]) == 1


# --- 3. no message text in any log --------------------------------------------------------------------------------

def test_no_message_text_reaches_the_logs_whatever_the_path(local):
    me = conversation()
    for message in (f"/{{{MARKER}", f"/ask_cause{{\"topic\": \"{MARKER}\"}}", f"my {MARKER} lip twitches",
                    f"/goodbye {MARKER}"):
        assert post(local, {"sender": me, "message": message}).status_code == 200
    # The guided check with an absurd duration: asked again, no crash, nothing logged.
    checker = conversation()
    post(local, {"sender": checker, "message": "/check_my_twitching"})
    post(local, {"sender": checker, "message": "only my lip"})
    again = post(local, {"sender": checker, "message": "9" * 400 + f" weeks {MARKER}"}).json()
    assert "How long has it been going on?" in texts(again)
    assert "Where is the twitching" not in texts(post(local, {"sender": checker, "message": "3 days"}).json())
    for log in ("rasa.log", "actions.log"):
        assert MARKER not in (local.workdir / log).read_text(errors="replace"), log


# --- 4. the servers listen on loopback only; the action server runs actions only for the Rasa server ------------

def test_the_action_server_refuses_a_request_without_the_token(local):
    url = local.actions.health_url.replace("/health", "/webhook")
    request = {"next_action": "action_hand_off", "sender_id": "made-up",
               "tracker": {"sender_id": "made-up", "events": [], "slots": {}, "latest_message": {}}}
    assert requests.post(url, json=request, timeout=10).status_code == 403
    assert requests.post(url, json=request, timeout=10, headers={"X-Action-Token": "guess"}).status_code == 403


def listening_addresses(ports: set[int]) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp* writes them) that listen on `ports`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local_address, state = line.split()[1], line.split()[3]
            address, port = local_address.rsplit(":", 1)
            if state == "0A" and int(port, 16) in ports:  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def test_make_run_listens_on_loopback_only():
    """scripts/run.sh, as `make run` starts it, on free ports: every server it starts listens on 127.0.0.1."""
    from liptwitch.operations.cluster import free_port
    from tests.helpers import REPO

    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    environment = {**os.environ, **{name: str(port) for name, port in ports.items()}, "RASA_TELEMETRY_ENABLED": "false"}
    environment.pop("LIPTWITCH_INTERFACE", None)
    run = subprocess.Popen(["scripts/run.sh"], cwd=REPO, env=environment, start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while not answers(f"http://127.0.0.1:{ports['RASA_PORT']}/"):
            assert run.poll() is None and time.monotonic() < deadline, "make run did not start"
            time.sleep(1)
        listening = listening_addresses(set(ports.values()))
        assert listening and listening <= LOOPBACK, listening
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=60)


# --- 7. requests that are not the channel's shape -------------------------------------------------------------------

@pytest.mark.parametrize("body, content_type, status, says", [
    (b"", "application/json", 400, "not JSON"),
    ([{"sender": "a", "message": "hi"}], "application/json", 400, "JSON object"),
    ({"sender": "a", "message": 42}, "application/json", 400, "'message'"),
    ({"sender": "a", "message": {"text": "hi"}}, "application/json", 400, "'message'"),
    ({"sender": "a", "message": ["hi"]}, "application/json", 400, "'message'"),
    ({"message": "hi"}, "application/json", 400, "'sender'"),
    ({"sender": "", "message": "hi"}, "application/json", 400, "'sender'"),
    ({"sender": "x" * 1000, "message": "hi"}, "application/json", 400, "'sender'"),
    ({"sender": "a\x00b", "message": "hi"}, "application/json", 400, "'sender'"),
    ({"sender": "../../etc/passwd", "message": "hi"}, "application/json", 400, "'sender'"),
    ('{"sender": "a", "message": "hi"}', "text/plain", 415, "application/json"),
])
def test_a_request_that_is_not_the_channels_shape_gets_a_reason_not_a_500(local, body, content_type, status, says):
    refused = post(local, body, content_type)
    assert refused.status_code == status and says in refused.json()["error"]


@pytest.mark.parametrize("command", ["/restart", "/back", "/session_start"])
def test_a_typed_rasa_command_gets_an_answer_not_silence(local, command):
    reply = post(local, {"sender": conversation(), "message": command})
    assert reply.status_code == 200 and texts(reply.json()).strip()


class Socket:
    def __init__(self, assistant) -> None:
        self.replies: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)
        origin = f"http://127.0.0.1:{assistant.page_port}"
        self.client.connect(assistant.url, headers={"Origin": origin}, transports=["polling"])
        self.client.emit("session_request", {"session_id": None})

    def next(self) -> dict:
        return self.replies.get(timeout=30)


def test_a_socket_message_without_text_is_told_so_not_met_with_silence(local):
    socket = Socket(local)
    try:
        socket.client.emit("user_uttered", {"message": {"text": "hi"}, "customData": {}})
        assert "I can only read typed messages" in socket.next()["text"]
    finally:
        socket.client.disconnect()


def test_a_long_socket_message_is_read_up_to_the_limit_and_says_so(local):
    socket = Socket(local)
    try:
        socket.client.emit("user_uttered", {"message": "my lip twitches a lot " * 500, "customData": {}})
        for _ in range(10):  # the answer first, then the note
            if "so I read its first 1,495 and its last 500 characters" in socket.next().get("text", ""):
                break
        else:
            pytest.fail("no note that the message was read only in part")
    finally:
        socket.client.disconnect()
