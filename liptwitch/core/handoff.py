"""Hand-off to people after an escalation: a short clinician-ready record, posted to a webhook.

The record says what the person reported (the red flags found, where, since when, the triggers they
mentioned), not what they wrote: the message text never leaves the assistant this way, and it is
never logged. Posting retries with back-off in the background, so the advice to the person is never
delayed or replaced by it.

Configured by environment variables (hand-off is off when the URL is unset):
    LIPTWITCH_HANDOFF_URL      where to POST the record (JSON)
    LIPTWITCH_HANDOFF_TOKEN    optional; sent as "Authorization: Bearer <token>"
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from liptwitch import settings
from liptwitch.core.knowledge_base import KnowledgeBase
from liptwitch.core.text import PhraseMatcher, normalise

logger = logging.getLogger(__name__)

URL_VARIABLE = settings.HANDOFF_URL.name
TOKEN_VARIABLE = settings.HANDOFF_TOKEN.name

_SIDES = r"(?:left|right|one side|both sides)"
_PLACES = (r"upper lip|lower lip|top lip|bottom lip|lips?|mouth|eyelids?|eyes?|cheeks?|face|jaw|chin|tongue|"
           r"arms?|legs?|hands?|fingers?|feet|foot|throat|head|body")
_WHERE = re.compile(rf"\b(?:(?:{_SIDES}\s+(?:side\s+of\s+(?:my|his|her|the)\s+)?)?(?:{_PLACES}))\b"
                    rf"(?:\s+on\s+(?:the\s+)?{_SIDES}(?:\s+side)?)?")
_SINCE = re.compile(
    r"\b(?:since\s+(?:yesterday|last\s+\w+|this\s+\w+|\w+day|an?\s+hour\s+ago|\d+\s*\w+\s+ago)"
    r"|for\s+(?:about\s+|around\s+|over\s+|nearly\s+|almost\s+)?(?:\d+|a|an|one|two|three|four|five|six|"
    r"several|a\s+few|a\s+couple\s+of)\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|years?)"
    r"|(?:\d+|a|an|one|two|three|ten|twenty|thirty|a\s+few)\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?|"
    r"months?)\s+ago|this\s+(?:morning|afternoon|evening)|last\s+night|yesterday|today|just\s+now|right\s+now)\b")


@dataclass(frozen=True)
class HandOffRecord:
    conversation_id: str
    level: str
    red_flags: list[str]
    summary: str
    reported_at: str


class HandOffSummariser:
    """Turns what a person wrote into a short, structured summary for a clinician."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.causes = PhraseMatcher({phrase: item.id for item in kb.of_kind("cause")
                                     for phrase in (*item.synonyms, item.title)})

    def summary(self, level: str, red_flags: list[str], messages: list[str]) -> str:
        text = " ".join(normalise(m) for m in messages)
        reported = [f"{self.kb.red_flags[r].title} ({r})" for r in red_flags if r in self.kb.red_flags]
        where = list(dict.fromkeys(m.group(0) for m in _WHERE.finditer(text)))
        since = list(dict.fromkeys(m.group(0) for m in _SINCE.finditer(text)))
        triggers = list(dict.fromkeys(self.kb.get(m.value).title.lower()
                                      for m in self.causes.find(text) if m.exact))
        parts = [f"Triage level: {level}.",
                 "Reported: " + ("; ".join(reported) if reported else "see red-flag ids") + ".",
                 "Where: " + (", ".join(where) if where else "not said") + ".",
                 "Since: " + (", ".join(since) if since else "not said") + ".",
                 "Triggers mentioned: " + (", ".join(triggers) if triggers else "none") + "."]
        return " ".join(parts)

    def record(self, conversation_id: str, level: str, red_flags: list[str], messages: list[str],
               now: datetime | None = None) -> HandOffRecord:
        moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        return HandOffRecord(conversation_id=conversation_id, level=level, red_flags=list(red_flags),
                             summary=self.summary(level, red_flags, messages),
                             reported_at=moment.isoformat(timespec="seconds"))


class RateLimit:
    """At most `per_minute` events a minute, as a bucket that refills steadily (bursts up to `per_minute`)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.clock = float(per_minute), clock
        self.tokens, self.last = float(per_minute), clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.capacity / 60)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


HAND_OFFS_PER_MINUTE = 30  # per action server; the actions also send one per conversation and level only


class HandOffClient:
    """Posts hand-off records to the configured webhook, retrying with exponential back-off, at most
    HAND_OFFS_PER_MINUTE a minute: a flood of made-up emergencies must not flood the people on call."""

    def __init__(self, url: str, token: str | None = None, attempts: int = 5, first_delay: float = 0.5,
                 timeout: float = 5.0, per_minute: int = HAND_OFFS_PER_MINUTE) -> None:
        self.url, self.token = url, token
        self.attempts, self.first_delay, self.timeout = attempts, first_delay, timeout
        self.limit = RateLimit(per_minute)
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def from_environment(cls) -> HandOffClient | None:
        url = settings.HANDOFF_URL.read()
        if not url:
            return None
        return cls(url, settings.HANDOFF_TOKEN.read() or None)

    def send_in_background(self, record: HandOffRecord) -> asyncio.Task | None:
        """Starts posting and returns at once; the task is kept until it ends. None when over the rate limit."""
        if not self.limit.take():
            logger.error("Hand-off for conversation %s (%s) not sent: more than %d a minute.",
                         record.conversation_id, record.level, int(self.limit.capacity))
            return None
        task = asyncio.get_running_loop().create_task(self.send(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def send(self, record: HandOffRecord) -> bool:
        """Posts `record`, retrying with exponential back-off (tenacity): True once the webhook took it."""
        host = urlsplit(self.url).netloc

        def log_failure(state: RetryCallState) -> None:
            # Never the message text or the summary here: only what failed, where, and which attempt.
            logger.warning("Hand-off for conversation %s to %s failed (%s), attempt %d of %d.",
                           record.conversation_id, host, state.outcome.exception() if state.outcome else "?",
                           state.attempt_number, self.attempts)

        retrying = AsyncRetrying(stop=stop_after_attempt(self.attempts), wait=wait_exponential(self.first_delay),
                                 retry=retry_if_exception_type(Undelivered), after=log_failure)
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(record)
        except RetryError:
            logger.error("Hand-off for conversation %s to %s given up after %d attempts.",
                         record.conversation_id, host, self.attempts)
            return False
        logger.info("Hand-off for conversation %s (%s) delivered to %s.", record.conversation_id, record.level, host)
        return True

    async def _post(self, record: HandOffRecord) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                async with session.post(self.url, json=asdict(record), headers=headers) as response:
                    if response.status >= 300:
                        raise Undelivered(f"HTTP {response.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise Undelivered(type(error).__name__) from None


class Undelivered(Exception):
    """One attempt at posting a hand-off failed; the message says how (never what the record holds)."""
