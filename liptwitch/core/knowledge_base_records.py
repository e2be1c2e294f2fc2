"""The knowledge base's records (items, red flags, safety questions, sources, sign-offs) and its error, apart from
the loading and checking of the files (knowledge_base.py, which re-exports them)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path


class KnowledgeBaseError(ValueError):
    """A knowledge-base file is broken; the message says where and what to fix."""

    def __init__(self, file: Path | str, problem: str, entry: str | None = None,
                 field_name: str | None = None, line: int | None = None) -> None:
        self.file = str(file)
        self.entry = entry
        self.field = field_name
        self.line = line
        self.problem = problem
        where = self.file + (f":{line}" if line else "")
        parts = [where]
        if entry is not None:
            parts.append(f"entry {entry}")
        if field_name is not None:
            parts.append(f"field '{field_name}'")
        super().__init__(": ".join(parts) + f": {problem}")


@dataclass(frozen=True)
class Source:
    article: str
    section: str


@dataclass(frozen=True)
class Item:
    """Something the assistant can answer about: a topic, cause, symptom or treatment."""

    id: str
    kind: str
    title: str
    synonyms: tuple[str, ...]
    short: str
    details: str
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    gist: str | None = None
    see_doctor_if: str | None = None
    review: str | None = None  # "awaiting clinical review" for content written beyond the source articles


@dataclass(frozen=True)
class RedFlag:
    id: str
    title: str
    level: str
    terms: tuple[str, ...]
    examples: tuple[str, ...] = ()
    non_examples: tuple[str, ...] = ()
    # The terms only count together with an affirmed finding of these rows (RF04: "...gone now").
    applies_with: tuple[str, ...] = ()
    # The row counts only when one of these is said too (RF11: a head injury with vomiting...).
    with_any: tuple[str, ...] = ()
    # The level when the finding is in the past (None: a past episode is not a red flag).
    past_level: str | None = None


@dataclass(frozen=True)
class SafetyQuestion:
    """A safety-net question: asked when a message describes a change that no net can place for certain.

    `rows` are the red flags it asks about (a face, arm or speech change gets the FAST question); `terms`
    (same syntax as red-flag terms) name the vague changes that earn the question ("my face feels weird").
    The question's words and buttons are domain responses (domain.yml, utter_safety_net), so that it is
    asked even when the action server is down.
    """

    id: str
    title: str
    rows: tuple[str, ...]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    """A source: one of the articles in shared/seeds (`file`), or a public page (`url`)."""

    id: str
    title: str
    file: str | None = None
    url: str | None = None
    read: datetime.date | None = None  # when a public page was read (its content may change after)
    short: str | None = None  # how an answer's source line names it ("NHS, Twitching eyes and muscles")

    @property
    def name(self) -> str:
        """A short name: `short`, else the title's publisher and page ("NHS (copy ...) - Tics": "NHS, Tics")."""
        if self.short:
            return self.short
        publisher, _, page = self.title.rpartition(" - ")
        return f"{publisher.split(' (')[0].strip()}, {page.strip()}" if publisher else self.title


@dataclass(frozen=True)
class Review:
    """A clinician's sign-off of one item: who (name and role), when, the next review date, and a hash of the text
    they approved (review.text_hash). It holds only while the item's text still has that hash."""

    item: str
    by: str
    role: str
    signed_on: datetime.date
    next_review: datetime.date
    text_sha256: str
