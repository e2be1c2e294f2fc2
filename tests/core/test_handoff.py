"""Hand-off records: a clinician-ready summary without the message text, posted with retries."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

import pytest
from aiohttp import web

from liptwitch.core.handoff import HandOffClient, HandOffSummariser
from tests.helpers import local_web_server


@pytest.fixture(scope="module")
def summariser(kb):
    return HandOffSummariser(kb)


def test_the_summary_says_what_where_since_when_and_triggers(summariser):
    messages = ["i drink a lot of coffee and i'm stressed", "since this morning the left side of my face is drooping"]
    record = summariser.record("c-1", "emergency", ["RF01"], messages,
                               now=datetime(2026, 11, 21, 2, 14, tzinfo=timezone.utc))
    assert record.conversation_id == "c-1" and record.level == "emergency" and record.red_flags == ["RF01"]
    assert record.reported_at == "2026-11-21T02:14:00+00:00"
    summary = record.summary
    assert "Face drooping or fallen on one side (RF01)" in summary
    assert "left side of my face" in summary
    assert "since this morning" in summary
    assert "caffeine" in summary.lower() and "stress" in summary.lower()


def test_the_summary_says_when_something_was_not_said(summariser):
    summary = summariser.summary("urgent", ["RF13"], ["food keeps getting stuck"])
    assert "Since: not said." in summary and "Triggers mentioned: none." in summary


def test_hand_off_is_off_without_a_url(monkeypatch):
    monkeypatch.delenv("LIPTWITCH_HANDOFF_URL", raising=False)
    assert HandOffClient.from_environment() is None


def test_posting_retries_until_it_is_delivered_and_logs_no_text(summariser, caplog):
    secret = "my face is drooping and my neighbour Jane Doe is with me"
    record = summariser.record("c-2", "emergency", ["RF01"], [secret])
    received, statuses = [], [500, 503, 204]

    async def scenario() -> bool:
        async def hand_off(request: web.Request) -> web.Response:
            received.append((await request.json(), request.headers.get("Authorization")))
            return web.Response(status=statuses[len(received) - 1])

        runner, url = await local_web_server("/hand-off", hand_off)
        client = HandOffClient(url, token="t0ken", first_delay=0.01)
        try:
            return await client.send(record)
        finally:
            await runner.cleanup()

    with caplog.at_level(logging.INFO, logger="liptwitch.core.handoff"):
        assert asyncio.run(scenario()) is True
    assert len(received) == 3
    assert received[-1] == ({"conversation_id": "c-2", "level": "emergency", "red_flags": ["RF01"],
                             "summary": record.summary, "reported_at": record.reported_at}, "Bearer t0ken")
    assert "Jane Doe" not in record.summary  # only what was reported, not what was written
    assert "failed (HTTP 500), attempt 1 of 5" in caplog.text
    assert "drooping" not in caplog.text and "Jane" not in caplog.text


def test_posting_gives_up_after_the_last_attempt(summariser, caplog):
    record = summariser.record("c-3", "urgent", ["RF13"], ["food gets stuck"])
    client = HandOffClient("http://127.0.0.1:9/nowhere", attempts=2, first_delay=0.01, timeout=1)
    with caplog.at_level(logging.WARNING, logger="liptwitch.core.handoff"):
        assert asyncio.run(client.send(record)) is False
    assert "given up after 2 attempts" in caplog.text


def test_hand_offs_are_limited_to_so_many_a_minute():
    from liptwitch.core.handoff import RateLimit

    now = [0.0]
    limit = RateLimit(30, clock=lambda: now[0])
    assert all(limit.take() for _ in range(30)) and not limit.take()
    now[0] += 2.0  # a minute refills 30: two seconds, one
    assert limit.take() and not limit.take()
