"""The production-like cluster, as people and faults meet it (docs/operations.md).

Everything goes over real HTTP to real servers: nginx, two Rasa servers, two action servers, PostgreSQL and
Redis, started by tests/cluster/conftest.py. What a person would notice is counted: a lost, duplicated or
wrong reply, a conversation that forgets, silence. The tests run in this order; each leaves the cluster
answering for the next.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import jwt
import psycopg2
import pytest
import requests

from liptwitch.operations.cluster import REPO, wait_until_ready
from tests.cluster.client import new_conversation, texts
from tests.e2e.test_web_session import WebChat

pytestmark = pytest.mark.cluster

QUESTIONS = ["what causes lip twitching", "can coffee make my lip twitch", "how do i stop my lip twitching",
             "is lip twitching serious", "when should i see a doctor about my lip", "does stress cause lip twitching",
             "can a lack of sleep make my lip twitch", "what is lip fasciculation"]
UNAVAILABLE = "can't look that up right now"      # utter_temporarily_unavailable, sent by nginx's action gateway
NOT_ANSWERING = "not answering right now"        # nginx's reply when no Rasa server can answer
WENT_WRONG = "something went wrong on my side"   # a Rasa server's reply when a turn fails (liptwitch.channels)
SENT: list[str] = []  # every message this module sends; none may appear in a log (last test)


def said(message: str) -> str:
    SENT.append(message)
    return message


def is_answer(messages: list[dict]) -> bool:
    text = texts(messages)
    return bool(text.strip()) and not any(apology in text for apology in (UNAVAILABLE, NOT_ANSWERING, WENT_WRONG))


def test_nginx_serves_the_chat_page_and_keeps_a_browser_on_one_rasa_server(cluster):
    page = requests.get(f"{cluster.url}/", timeout=10)
    assert page.status_code == 200 and "Lip Twitch Guide" in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    route = re.search(r"liptwitch_route=([0-9a-f]+)", page.headers["Set-Cookie"])
    assert route and "HttpOnly" in page.headers["Set-Cookie"]
    config = requests.get(f"{cluster.url}/config.js", timeout=10).text
    assert f'"socketUrl": "{cluster.url}"' in config  # the widget talks to nginx, the page's own origin
    widget = requests.get(f"{cluster.url}/vendor/rasa-webchat.js", timeout=10)
    assert widget.status_code == 200 and "fonts.googleapis" not in widget.text

    def upstream_of_handshake(cookie: str) -> str:
        response = requests.get(f"{cluster.url}/socket.io/?EIO=4&transport=polling",
                                cookies={"liptwitch_route": cookie}, timeout=10)
        assert response.status_code == 200 and '"sid"' in response.text
        time.sleep(0.05)
        last = (cluster.logs / "nginx-access.log").read_text().strip().splitlines()[-1]
        assert "/socket.io/" in last
        return last.rsplit("upstream=", 1)[1]

    # The same browser (cookie) always reaches the same Rasa server; different browsers are spread over both.
    assert len({upstream_of_handshake(route.group(1)) for _ in range(6)}) == 1
    assert len({upstream_of_handshake(f"{n:032x}") for n in range(12)}) == 2


def test_a_conversation_alternating_between_the_two_rasa_servers_keeps_its_context(client):
    me = new_conversation("alternate")
    steps = [("my upper lip keeps twitching", "only in your lip"),
             ("just my lip", "long has it been"), ("since yesterday", "How often"), ("now and then", "Face"),
             ("no", "Arms"), ("nope", "Speech")]
    for number, (message, expected) in enumerate(steps):
        assert expected in texts(client.send(me, said(message), server=number % 2))
    result = client.send(me, "no", server=len(steps) % 2)
    # The outcome needs every earlier answer, given to one server or the other.
    assert any(m.get("custom", {}).get("check") == "self_care" for m in result), texts(result)
    assert client.stored_user_texts(me) == [m for m, _ in steps] + ["no"]


def test_twenty_concurrent_messages_in_one_conversation_are_all_answered_in_order(client):
    me = new_conversation("burst")
    messages = [said(f"{QUESTIONS[n % len(QUESTIONS)]} ({n + 1})") for n in range(20)]
    replies: dict[int, list[dict]] = {}
    errors: list[str] = []

    def send(number: int) -> None:
        time.sleep(0.03 * number)  # sent in this order, while the earlier ones are still being answered
        try:
            replies[number] = client.send(me, messages[number], server=number % 2)
        except Exception as error:  # noqa: BLE001 - counted below
            errors.append(f"{number}: {error}")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert all(is_answer(replies[n]) for n in range(20))

    events = client.stored_events(me)
    stored = [data["text"] for kind, data in events if kind == "user"]
    assert sorted(stored) == sorted(messages)  # none lost, none stored twice
    # Each server takes its messages in the order they were sent. (Across the two servers, messages 30 ms apart
    # can reach Redis in either order: a busy server reads its socket a few tens of ms late.)
    for server in (0, 1):
        assert [m for m in stored if messages.index(m) % 2 == server] == messages[server::2]
    # Each turn's stored answer is the one its sender received: no two turns ran at once.
    turns: list[list[str]] = []
    for kind, data in events:
        if kind == "user":
            turns.append([])
        elif kind == "bot" and turns and data.get("text"):
            turns[-1].append(data["text"])
    assert turns == [[m["text"] for m in replies[messages.index(sent)] if m.get("text")] for sent in stored]


def test_a_rasa_server_killed_under_load_loses_no_reply_and_no_event(cluster, client):
    stop_at = time.monotonic() + 14
    sent: dict[str, list[str]] = {}
    outcomes: list[tuple[str, int, bool]] = []
    lock = threading.Lock()

    def person(number: int) -> None:
        me = new_conversation(f"load{number}")
        sent[me] = []
        turn = 0
        while time.monotonic() < stop_at:
            message = said(f"{QUESTIONS[(number + turn) % len(QUESTIONS)]} [{number}.{turn}]")
            sent[me].append(message)
            try:
                response = client.post(me, message)
                answered = response.status_code == 200 and is_answer(response.json())
                status = response.status_code
            except requests.RequestException:
                answered, status = False, 0
            with lock:
                outcomes.append((me, status, answered))
            turn += 1

    people = [threading.Thread(target=person, args=(n,)) for n in range(6)]
    for thread in people:
        thread.start()
    time.sleep(4)
    cluster.rasa_servers[0].kill()  # SIGKILL, in the middle of the traffic
    killed_at = time.monotonic()
    for thread in people:
        thread.join(timeout=120)
    try:
        failed = [(me, status) for me, status, answered in outcomes if not answered]
        assert not failed, f"{len(failed)} of {len(outcomes)} messages got no answer: {failed[:5]}"
        assert len(outcomes) >= 30, "too little traffic to tell"
        assert time.monotonic() - killed_at > 8
        for me, messages in sent.items():
            assert client.stored_user_texts(me) == messages  # nothing lost, nothing stored twice
    finally:
        cluster.rasa_servers[0].start()  # back for the tests after this one; nginx skips it until it listens


def test_with_the_action_servers_down_emergency_advice_still_arrives_and_questions_get_a_polite_answer(
        cluster, client):
    for server in cluster.action_servers:
        server.stop()
    try:
        emergency = client.send(new_conversation("noactions"), said("my face is drooping and my speech is slurred"))
        assert "🚨" in texts(emergency) and "Call" in texts(emergency)
        assert any(m.get("custom", {}).get("triage") == "emergency" for m in emergency)
        ordinary = client.send(new_conversation("noactions"), said("can coffee make my lip twitch"))
        assert UNAVAILABLE in texts(ordinary) and "emergency number" in texts(ordinary)
    finally:
        for server in cluster.action_servers:
            server.start()
        wait_until_ready(cluster.action_servers)
    assert is_answer(client.send(new_conversation("actionsback"), "can coffee make my lip twitch"))


def answered_again_within(client, seconds: float) -> float:
    """Seconds until a new question is answered again (no one restarts anything but the failed part)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        response = client.post(new_conversation("recover"), "what causes lip twitching", timeout=30)
        if response.status_code == 200 and is_answer(response.json()):
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"still not answering {seconds} s after the restart")


@pytest.mark.parametrize("part", ["redis", "postgres"])
def test_the_service_recovers_by_itself_when_redis_or_postgresql_restarts(cluster, client, part):
    me = new_conversation(f"restart-{part}")
    assert "only in your lip" in texts(client.send(me, said("my upper lip keeps twitching")))
    server = getattr(cluster, part)
    server.stop()
    try:
        down = client.post(new_conversation("down"), "what causes lip twitching", timeout=60)
        assert down.status_code == 200
        if part == "redis":
            # Without the lock store no turn can run: an apology that still points to the emergency number,
            # over REST and in the web chat (through nginx, as the widget talks).
            assert WENT_WRONG in texts(down.json()) and "emergency number" in texts(down.json())
            chat = WebChat(cluster.url, cluster.cors_origins[1])
            try:
                chat.request_session()
                chat.client.emit("user_uttered", {"message": "what causes lip twitching", "customData": {}})
                assert WENT_WRONG in chat.next("bot_uttered").get("text", "")
            finally:
                chat.close()
        else:
            # Without the database, Rasa's fail-safe tracker store answers from memory (that turn is not stored).
            assert is_answer(down.json())
    finally:
        server.start()
        wait_until_ready([server])
    answered_again_within(client, 30)
    # The conversation from before the restart carries on where it was.
    assert "long has it been" in texts(client.send(me, said("just my lip")))
    for question in QUESTIONS[:4]:
        assert is_answer(client.send(new_conversation("after"), question))


def test_the_http_api_wants_a_jwt_and_a_user_token_opens_only_its_own_conversation(cluster, client):
    alice, bob = new_conversation("alice"), new_conversation("bob")
    client.send(alice, said("does stress cause lip twitching"))
    client.send(bob, said("can a lack of sleep make my lip twitch"))
    secret = cluster.secrets["LIPTWITCH_JWT_SECRET"]

    def tracker(of: str, token: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{cluster.url}/conversations/{of}/tracker", headers=headers, timeout=30)

    alice_token = jwt.encode({"user": {"username": alice, "role": "user"}}, secret, algorithm="HS256")
    assert tracker(alice, None).status_code == 401
    assert tracker(alice, jwt.encode({"user": {"username": alice, "role": "user"}}, "forged", algorithm="HS256")
                   ).status_code == 401
    own = tracker(alice, alice_token)
    assert own.status_code == 200 and own.json()["sender_id"] == alice
    assert tracker(bob, alice_token).status_code == 403
    admin = jwt.encode({"user": {"username": "operator", "role": "admin"}}, secret, algorithm="HS256")
    assert tracker(bob, admin).json()["sender_id"] == bob


def listening_addresses(port: int) -> set[str]:
    """The addresses a TCP port is listened on, from /proc/net/tcp (and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def test_only_loopback_is_listened_on_and_the_action_gateway_wants_the_rasa_servers_token(cluster):
    wait_until_ready(cluster.rasa_servers)  # the one killed above is back
    ports = [cluster.public_port, cluster.gateway_port, cluster.postgres_port, cluster.redis_port,
             *cluster.rasa_ports, *cluster.action_ports]
    for port in ports:
        assert listening_addresses(port) == {"0100007F"}, port  # 127.0.0.1 only
    gateway = f"http://127.0.0.1:{cluster.gateway_port}/webhook"
    request = {"next_action": "action_that_does_not_exist", "sender_id": "x", "domain": {},
               "tracker": {"sender_id": "x", "slots": {}, "latest_message": {}, "events": [], "paused": False,
                           "followup_action": None, "active_loop": {}, "latest_action_name": None}}
    assert requests.post(gateway, json=request, timeout=10).status_code == 403
    assert requests.post(gateway, json=request, headers={"X-Action-Token": "guess"}, timeout=10).status_code == 403
    reached = requests.post(gateway, json=request, timeout=10,
                            headers={"X-Action-Token": cluster.secrets["LIPTWITCH_ACTION_TOKEN"]})
    assert reached.status_code == 404 and "action_that_does_not_exist" in reached.text  # the action server's word


def test_the_rest_channel_is_only_for_holders_of_the_rest_token(cluster, client):
    anonymous = requests.post(f"{cluster.url}/webhooks/rest/webhook", timeout=10,
                              json={"sender": "someone-else", "message": "hello"})
    assert anonymous.status_code == 401
    assert is_answer(client.send(new_conversation("rest"), "what causes lip twitching"))


def test_cors_allows_the_configured_origins_only(cluster):
    url = f"{cluster.rasa_urls[1]}/webhooks/rest/webhook"
    body = {"sender": new_conversation("cors"), "message": "hello"}
    token = {"Authorization": f"Bearer {cluster.secrets['LIPTWITCH_REST_TOKEN']}"}
    allowed = requests.post(url, json=body, headers={"Origin": cluster.cors_origins[0], **token}, timeout=30)
    assert allowed.headers.get("Access-Control-Allow-Origin") == cluster.cors_origins[0]
    other = requests.post(url, json=body, headers={"Origin": "https://elsewhere.example", **token}, timeout=30)
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_client_sending_too_fast_is_slowed_down_politely(cluster):
    statuses, bodies = [], []
    for _ in range(45):  # from 127.0.0.2: limited like any client (10 per second, bursts of 20)
        connection = http.client.HTTPConnection("127.0.0.1", cluster.public_port, timeout=10,
                                                source_address=("127.0.0.2", 0))
        connection.request("GET", "/socket.io/?EIO=4&transport=polling")
        response = connection.getresponse()
        statuses.append(response.status)
        bodies.append(response.read())
        connection.close()
    assert statuses[:15] == [200] * 15
    limited = [body for status, body in zip(statuses, bodies, strict=False) if status == 429]
    assert len(limited) >= 10
    assert "faster than I can read" in json.loads(limited[0])[0]["text"]


def test_a_request_too_large_is_refused_politely_and_a_long_message_still_escalates(client):
    too_large = client.post(new_conversation("large"), "my lip twitches " * 1500)
    assert too_large.status_code == 413 and "too long" in texts(too_large.json())
    # Under nginx's limit but far over what the NLU reads (1000 characters): the warning sign is at the end.
    long_message = said("I have been worried about my lip for weeks and I keep reading about it at night. " * 60
                        + "Now the whole left side of my face is drooping and I can't smile.")
    reply = client.send(new_conversation("long"), long_message)
    assert any(m.get("custom", {}).get("triage") == "emergency" for m in reply), texts(reply)


def test_one_persons_conversation_can_be_deleted_on_request(cluster, client):
    me = new_conversation("forget")
    assert "only in your lip" in texts(client.send(me, said("my upper lip keeps twitching")))
    assert client.stored_events(me)
    forget = subprocess.run([sys.executable, "-m", "liptwitch.operations.retention",
                             "--endpoints", "deploy/endpoints.yml", "--forget", me],
                            cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, **cluster.rasa_environment})
    assert forget.returncode == 0, forget.stderr
    assert client.stored_events(me) == []
    # Writing again starts afresh: no Rasa server brings back what was deleted.
    client.send(me, said("what is lip fasciculation"))
    assert client.stored_user_texts(me) == ["what is lip fasciculation"]


def test_the_retention_job_deletes_conversations_silent_for_longer_than_the_retention_age(cluster, client):
    old, recent = new_conversation("old"), new_conversation("recent")
    client.send(old, said("does stress cause lip twitching"))
    client.send(recent, said("does stress cause lip twitching"))
    connection = psycopg2.connect(host="127.0.0.1", port=cluster.postgres_port, dbname=cluster.database,
                                  user=cluster.db_user, password=cluster.secrets["POSTGRES_PASSWORD"])
    with connection, connection.cursor() as cursor:  # as if nobody had written to it for 40 days
        cursor.execute("UPDATE events SET timestamp = timestamp - 40 * 86400 WHERE sender_id = %s", (old,))
    connection.close()
    report = cluster.run_retention()  # as `make cluster` runs it every day (default age: 30 days)
    assert client.stored_events(old) == [] and client.stored_events(recent), report
    assert old not in report and "stress" not in report  # counts only


def test_no_message_text_is_written_to_any_log(cluster):
    logs = {path: path.read_text(errors="replace") for path in cluster.logs.iterdir() if path.is_file()}
    assert any("rasa" in path.name for path in logs)
    distinctive = [message for message in SENT if len(message) >= 15]
    assert len(distinctive) > 30
    leaks = [(path.name, message) for path, text in logs.items() for message in distinctive if message in text]
    assert not leaks, leaks[:3]
