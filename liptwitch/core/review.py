"""Where an answer comes from and whether a clinician has checked it (issue 20). Pure Python, no Rasa.

Every knowledge-base item names its sources. Its review state comes from the sign-offs in reviews.yml: a sign-off
holds only while the item's text still hashes to what the reviewer approved, so editing an item clears it. Each
answer ends with one short line saying both: "Source: NHS, Twitching eyes and muscles · not yet clinically reviewed".
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from liptwitch.core.knowledge_base import Item, KnowledgeBase, Review

NOT_REVIEWED = "not yet clinically reviewed"
SEPARATOR = " · "
MAX_SOURCES_NAMED = 2  # one line on a phone: more are counted, not named
DUE_WITHIN_DAYS = 30


def text_hash(item: Item) -> str:
    """The SHA-256 of what a reviewer approves: the item's words and the sources they rest on."""
    approved = [item.title, item.short, item.details, item.see_doctor_if or "", item.gist or "",
                [[source.article, source.section] for source in item.sources]]
    return hashlib.sha256(json.dumps(approved, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReviewState:
    """An item's sign-off that still holds (None: not reviewed), and whether an older one was cleared by an edit."""

    review: Review | None
    cleared: bool = False

    @property
    def reviewed(self) -> bool:
        return self.review is not None

    def describe(self) -> str:
        if self.review is None:
            return NOT_REVIEWED
        return f"reviewed {self.review.signed_on.strftime('%B %Y')}"


def review_state(kb: KnowledgeBase, item: Item) -> ReviewState:
    signed = kb.reviews.get(item.id, ())
    current = text_hash(item)
    holding = [review for review in signed if review.text_sha256 == current]
    return ReviewState(review=holding[-1] if holding else None, cleared=bool(signed) and not holding)


def source_names(kb: KnowledgeBase, items: Iterable[Item]) -> list[str]:
    """The sources the items rest on, each named once, in the order the items give them."""
    names = [kb.articles[source.article].name for item in items for source in item.sources]
    return list(dict.fromkeys(names))


def source_line(kb: KnowledgeBase, item_ids: Sequence[str]) -> str | None:
    """One short line for the end of an answer built from `item_ids`: its sources and its review state (the
    weakest of the items': one unreviewed item makes the whole answer unreviewed)."""
    items = [kb.items[item_id] for item_id in dict.fromkeys(item_ids) if item_id in kb.items]
    if not items:
        return None
    names = source_names(kb, items)
    named = "; ".join(names[:MAX_SOURCES_NAMED]) + (f" (+{len(names) - MAX_SOURCES_NAMED} more)"
                                                      if len(names) > MAX_SOURCES_NAMED else "")
    states = [review_state(kb, item) for item in items]
    if all(state.reviewed for state in states):
        oldest = min((state.review for state in states if state.review), key=lambda review: review.signed_on)
        reviewed = ReviewState(review=oldest).describe()
    else:
        reviewed = NOT_REVIEWED
    return f"Source: {named}{SEPARATOR}{reviewed}"


# --- the review backlog (`make check-kb`) ------------------------------------------------------------------


@dataclass
class BacklogReport:
    """What the content team must do, on `today`: overdue and unsourced items fail the check."""

    today: datetime.date
    overdue: list[tuple[str, datetime.date]] = field(default_factory=list)
    due_soon: list[tuple[str, datetime.date]] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)  # signed off once, edited since
    not_reviewed: list[str] = field(default_factory=list)
    unsourced: list[tuple[str, str]] = field(default_factory=list)  # item, why

    @property
    def failed(self) -> bool:
        return bool(self.overdue or self.unsourced)

    def lines(self) -> list[str]:
        out = [f"Knowledge-base review backlog on {self.today.isoformat()}:"]
        out += [f"  OVERDUE   {item}: review was due {when.isoformat()}" for item, when in self.overdue]
        out += [f"  UNSOURCED {item}: {why}" for item, why in self.unsourced]
        out += [f"  due soon  {item}: review due {when.isoformat()}" for item, when in self.due_soon]
        out += [f"  cleared   {item}: edited since its sign-off; it needs a new one" for item in self.cleared]
        out.append(f"  {len(self.not_reviewed)} item(s) not yet clinically reviewed"
                   + (f" ({len(self.cleared)} of them edited since a sign-off)" if self.cleared else ""))
        out.append("FAILED: overdue or unsourced items" if self.failed else "OK: nothing overdue, every item sourced")
        return out


def backlog(kb: KnowledgeBase, today: datetime.date, seeds: Path | None = None,
            within_days: int = DUE_WITHIN_DAYS) -> BacklogReport:
    """Items overdue for review, due within `within_days`, edited since their sign-off, not reviewed, and any
    whose sources cannot be checked (a seed file missing from `seeds`, a page with no date it was read)."""
    report = BacklogReport(today=today)
    for item in kb.items.values():
        state = review_state(kb, item)
        if state.review is None:
            report.not_reviewed.append(item.id)
            if state.cleared:
                report.cleared.append(item.id)
        elif state.review.next_review < today:
            report.overdue.append((item.id, state.review.next_review))
        elif (state.review.next_review - today).days <= within_days:
            report.due_soon.append((item.id, state.review.next_review))
        if not item.sources:
            report.unsourced.append((item.id, "names no source"))
        for source in item.sources:
            article = kb.articles[source.article]
            if article.url is not None and article.read is None:
                report.unsourced.append((item.id, f"{article.id} gives no date it was read"))
            if article.file is not None and seeds is not None and not (seeds / article.file).is_file():
                report.unsourced.append((item.id, f"{article.id}: {article.file} is not in {seeds}"))
    return report


def sign_off(kb: KnowledgeBase, item_id: str, by: str, role: str, on: datetime.date,
             next_review: datetime.date) -> Review:
    """A sign-off of the item's current text (ValueError if something is missing or wrong)."""
    if item_id not in kb.items:
        raise ValueError(f"unknown item '{item_id}' (the ids are in data/knowledge_base/*.yml)")
    if not by.strip() or not role.strip():
        raise ValueError("a sign-off needs the reviewer's name (BY) and role (ROLE)")
    if next_review <= on:
        raise ValueError(f"the next review ({next_review}) must come after the sign-off ({on})")
    return Review(item=item_id, by=by.strip(), role=role.strip(), signed_on=on, next_review=next_review,
                  text_sha256=text_hash(kb.items[item_id]))


def as_yaml_entry(review: Review) -> str:
    """The sign-off as an entry of reviews.yml (appended as text, so the file's comments stay)."""
    return (f"  - item: {review.item}\n    by: {json.dumps(review.by, ensure_ascii=False)}\n"
            f"    role: {json.dumps(review.role, ensure_ascii=False)}\n    signed_on: {review.signed_on.isoformat()}\n"
            f"    next_review: {review.next_review.isoformat()}\n    text_sha256: {review.text_sha256}\n")
