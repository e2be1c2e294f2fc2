"""The knowledge base: YAML files under data/knowledge_base, checked against a schema at load.

Each file holds one kind of entry (``kind:``) and a list of ``items``. A broken file never loads
half-way: the first problem raises :class:`KnowledgeBaseError`, naming the file, the entry (its id,
or its position and line) and the field.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from liptwitch import settings, vocabulary
from liptwitch.core.knowledge_base_records import (  # the records, imported from here by the rest of the code
    Article,
    Item,
    KnowledgeBaseError,
    RedFlag,
    Review,
    SafetyQuestion,
    Source,
)
from liptwitch.core.text import normalise

DEFAULT_DIRECTORY = settings.KNOWLEDGE_BASE_DIRECTORY

# Kinds of answerable items, in the order lists and menus show them.
ITEM_KINDS = ("topic", "cause", "symptom", "treatment")
TRIAGE_LEVELS = vocabulary.TRIAGE_LEVELS


@dataclass
class KnowledgeBase:
    items: dict[str, Item]
    red_flags: dict[str, RedFlag]
    articles: dict[str, Article]
    list_intros: dict[str, str] = field(default_factory=dict)
    safety_questions: dict[str, SafetyQuestion] = field(default_factory=dict)
    reviews: dict[str, tuple[Review, ...]] = field(default_factory=dict)  # item id -> its sign-offs, oldest first

    def question_for(self, red_flag: str) -> SafetyQuestion | None:
        """The safety-net question that asks about `red_flag`, if one does."""
        return next((q for q in self.safety_questions.values() if red_flag in q.rows), None)

    def get(self, item_id: str) -> Item:
        return self.items[item_id]

    def of_kind(self, kind: str) -> list[Item]:
        return [item for item in self.items.values() if item.kind == kind]

    def related_of_kind(self, item_id: str, kind: str) -> list[Item]:
        """The items of `kind` linked from `item_id`, in the order the file gives them."""
        return [self.items[i] for i in self.items[item_id].related if self.items[i].kind == kind]

    def treatments_for(self, cause_id: str) -> list[Item]:
        return self.related_of_kind(cause_id, "treatment")

    def causes_for(self, treatment_id: str) -> list[Item]:
        return self.related_of_kind(treatment_id, "cause")

    def synonym_index(self) -> dict[str, str]:
        """Every normalised way of naming an item (its synonyms, title and id) -> the item's id."""
        index: dict[str, str] = {}
        for item in self.items.values():
            for phrase in item_phrases(item):
                index.setdefault(normalise(phrase), item.id)
        return index


def item_phrases(item: Item) -> list[str]:
    return [item.id.replace("_", " "), item.title, *item.synonyms]


# --- reading YAML with line numbers --------------------------------------------------------------

_LINE = "__line__"


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers where each mapping starts and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        return mapping


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KnowledgeBaseError(path, f"cannot be read ({error})") from error
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(error, "problem", None) or str(error)
        raise KnowledgeBaseError(path, f"is not valid YAML: {problem}", line=line) from error
    if not isinstance(document, dict):
        raise KnowledgeBaseError(path, "must be a mapping with 'kind' and 'items'")
    return document


# --- field checks ------------------------------------------------------------------------------


class _Entry:
    """One raw entry of a file, with helpers that fail naming the file, entry and field."""

    def __init__(self, path: Path, raw: Any, position: int) -> None:
        self.path = path
        if not isinstance(raw, dict):
            raise KnowledgeBaseError(path, "must be a mapping of fields", entry=f"#{position}")
        self.raw = raw
        self.line = raw.get(_LINE)
        item_id = raw.get("id")
        self.name = f"'{item_id}'" if isinstance(item_id, str) and item_id else f"#{position}"

    def fail(self, field_name: str | None, problem: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(self.path, problem, entry=self.name, field_name=field_name,
                                  line=self.line)

    def check_fields(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        required = list(required)
        known = sorted(set(required) | set(optional))
        for name in self.raw:  # unknown first: a misspelt field is a typo, not a missing field
            if name != _LINE and name not in known:
                close = difflib.get_close_matches(str(name), known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
                raise self.fail(str(name), f"is not a known field ({hint})")
        for name in required:
            if name not in self.raw:
                raise self.fail(name, "is missing")

    def text(self, name: str, required: bool = True) -> str | None:
        value = self.raw.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "must be non-empty text")
        return " ".join(value.split())

    def texts(self, name: str, required: bool = True) -> tuple[str, ...]:
        value = self.raw.get(name, [] if not required else None)
        if not isinstance(value, list) or (required and not value):
            raise self.fail(name, "must be a non-empty list of text")
        for position, element in enumerate(value, start=1):
            if not isinstance(element, str) or not element.strip():
                raise self.fail(name, f"element {position} must be non-empty text, got {element!r}")
        return tuple(" ".join(element.split()) for element in value)


_ITEM_FIELDS = ("id", "title", "synonyms", "short", "details", "related", "sources")
_ITEM_OPTIONAL = ("see_doctor_if", "review")
REVIEW_STATES = ("awaiting clinical review",)
TOPIC_KINDS = ("cause", "symptom", "treatment")  # named as topics and shown as lists: they need a gist


def _parse_item(entry: _Entry, kind: str) -> Item:
    required = _ITEM_FIELDS + (("gist",) if kind in TOPIC_KINDS else ())
    entry.check_fields(required, _ITEM_OPTIONAL)
    sources_raw = entry.raw["sources"]
    if not isinstance(sources_raw, list) or not sources_raw:
        raise entry.fail("sources", "must be a non-empty list of {article, section}")
    sources = []
    for position, source in enumerate(sources_raw, start=1):
        if not isinstance(source, dict) or {"article", "section"} - set(source):
            raise entry.fail("sources", f"element {position} must have 'article' and 'section'")
        sources.append(Source(article=str(source["article"]), section=str(source["section"])))
    return Item(
        id=_check_id(entry),
        kind=kind,
        title=entry.text("title"),
        synonyms=entry.texts("synonyms"),
        short=entry.text("short"),
        details=entry.text("details"),
        related=entry.texts("related"),
        sources=tuple(sources),
        gist=entry.text("gist", required=False),
        see_doctor_if=entry.text("see_doctor_if", required=False),
        review=_review(entry),
    )


def _review(entry: _Entry) -> str | None:
    review = entry.text("review", required=False)
    if review is not None and review not in REVIEW_STATES:
        raise entry.fail("review", f"is '{review}', must be one of: {', '.join(REVIEW_STATES)} (or left out)")
    return review


def _parse_red_flag(entry: _Entry) -> RedFlag:
    entry.check_fields(("id", "title", "level", "terms"),
                       ("examples", "non_examples", "applies_with", "with_any", "past_level"))
    level = entry.text("level")
    if level not in TRIAGE_LEVELS:
        raise entry.fail("level", f"is '{level}', must be one of: {', '.join(TRIAGE_LEVELS)}")
    past_level = entry.text("past_level", required=False)
    if past_level is not None and past_level not in TRIAGE_LEVELS:
        raise entry.fail("past_level", f"is '{past_level}', must be one of: {', '.join(TRIAGE_LEVELS)}")
    return RedFlag(
        id=_check_id(entry),
        title=entry.text("title"),
        level=level,
        terms=entry.texts("terms"),
        examples=entry.texts("examples", required=False),
        non_examples=entry.texts("non_examples", required=False),
        applies_with=entry.texts("applies_with", required=False),
        with_any=entry.texts("with_any", required=False),
        past_level=past_level,
    )


def _parse_safety_question(entry: _Entry) -> SafetyQuestion:
    entry.check_fields(("id", "title", "rows", "terms"))
    return SafetyQuestion(id=_check_id(entry), title=entry.text("title"), rows=entry.texts("rows"),
                          terms=entry.texts("terms"))


def _parse_article(entry: _Entry) -> Article:
    entry.check_fields(("id", "title"), ("file", "url", "read", "short"))
    file, url = entry.text("file", required=False), entry.text("url", required=False)
    if (file is None) == (url is None):
        raise entry.fail("file", "a source needs exactly one of 'file' (a seed article) or 'url' (a public page)")
    if url is not None and not url.startswith(("https://", "http://")):
        raise entry.fail("url", f"'{url}' must be a web address (http:// or https://)")
    read = _date(entry, "read", required=url is not None)  # a page changes: say when it said what we cite
    return Article(id=_check_id(entry), title=entry.text("title"), file=file, url=url, read=read,
                   short=entry.text("short", required=False))


def _date(entry: _Entry, name: str, required: bool = True) -> datetime.date | None:
    value = entry.raw.get(name)
    if value is None and not required:
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise entry.fail(name, f"is {value!r}, must be a date written YYYY-MM-DD") from None


_HASH = re.compile(r"^[0-9a-f]{64}$")


def _parse_review(entry: _Entry) -> Review:
    # Not "on": YAML reads a key `on` as the boolean true.
    entry.check_fields(("item", "by", "role", "signed_on", "next_review", "text_sha256"))
    on, next_review = _date(entry, "signed_on"), _date(entry, "next_review")
    if next_review <= on:
        raise entry.fail("next_review", f"is {next_review}, must come after the sign-off ({on})")
    digest = entry.text("text_sha256")
    if not _HASH.match(digest):
        raise entry.fail("text_sha256", "must be the 64 hexadecimal digits of a SHA-256 hash")
    return Review(item=entry.text("item"), by=entry.text("by"), role=entry.text("role"), signed_on=on,
                  next_review=next_review, text_sha256=digest)


def _check_id(entry: _Entry) -> str:
    value = entry.text("id")
    if not value.replace("_", "").isalnum():
        raise entry.fail("id", f"'{value}' must use only letters, digits and '_'")
    return value


# --- loading -----------------------------------------------------------------------------------


def load_knowledge_base(directory: Path | str = DEFAULT_DIRECTORY) -> KnowledgeBase:
    """Load and check every ``*.yml`` file of `directory`; raise KnowledgeBaseError if any is broken."""
    directory = Path(directory)
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise KnowledgeBaseError(directory, "holds no *.yml knowledge-base files")

    items: dict[str, Item] = {}
    red_flags: dict[str, RedFlag] = {}
    articles: dict[str, Article] = {}
    safety_questions: dict[str, SafetyQuestion] = {}
    list_intros: dict[str, str] = {}
    defined_in: dict[str, tuple[Path, _Entry]] = {}
    entries: dict[str, _Entry] = {}

    signed: list[tuple[Review, _Entry]] = []
    for path in files:
        document = _read_yaml(path)
        kind = document.get("kind")
        known_kinds = (*ITEM_KINDS, "red_flag", "safety_question", "source", "review")
        if kind not in known_kinds:
            raise KnowledgeBaseError(path, f"'kind' is {kind!r}, must be one of: {', '.join(known_kinds)}",
                                     field_name="kind")
        unknown = set(document) - {"kind", "items", "intro", _LINE}
        if unknown:
            raise KnowledgeBaseError(path, f"unknown top-level field(s): {', '.join(sorted(unknown))}")
        if "intro" in document:
            if not isinstance(document["intro"], str) or not document["intro"].strip():
                raise KnowledgeBaseError(path, "must be non-empty text", field_name="intro")
            list_intros[kind] = document["intro"].strip()
        raw_items = document.get("items")
        if kind == "review":  # sign-offs: none until a clinician signs one off
            if not isinstance(raw_items, list):
                raise KnowledgeBaseError(path, "must be a list of sign-offs (empty until one is made)",
                                         field_name="items")
            for position, raw in enumerate(raw_items, start=1):
                review_entry = _Entry(path, raw, position)
                signed.append((_parse_review(review_entry), review_entry))
            continue
        if not isinstance(raw_items, list) or not raw_items:
            raise KnowledgeBaseError(path, "must be a non-empty list of entries", field_name="items")

        for position, raw in enumerate(raw_items, start=1):
            entry = _Entry(path, raw, position)
            if kind == "red_flag":
                parsed: Item | RedFlag | Article | SafetyQuestion = _parse_red_flag(entry)
            elif kind == "safety_question":
                parsed = _parse_safety_question(entry)
            elif kind == "source":
                parsed = _parse_article(entry)
            else:
                parsed = _parse_item(entry, kind)
            if parsed.id in defined_in:
                first_path, first_entry = defined_in[parsed.id]
                raise entry.fail("id", f"duplicate id '{parsed.id}', already used in "
                                       f"{first_path}:{first_entry.line}")
            defined_in[parsed.id] = (path, entry)
            entries[parsed.id] = entry
            if isinstance(parsed, RedFlag):
                red_flags[parsed.id] = parsed
            elif isinstance(parsed, Article):
                articles[parsed.id] = parsed
            elif isinstance(parsed, SafetyQuestion):
                safety_questions[parsed.id] = parsed
            else:
                items[parsed.id] = parsed

    _check_links(items, articles, entries)
    for flag in red_flags.values():
        for target in flag.applies_with:
            if target not in red_flags:
                raise entries[flag.id].fail("applies_with", f"unknown red flag '{target}'")
    _check_safety_questions(safety_questions, red_flags, entries)
    _check_synonyms_are_unambiguous(items, entries)
    reviews: dict[str, list[Review]] = {}
    for review, review_entry in signed:
        if review.item not in items:
            raise review_entry.fail("item", f"unknown id '{review.item}' (a sign-off is of an answer's item)")
        reviews.setdefault(review.item, []).append(review)
    oldest_first = {item_id: tuple(sorted(found, key=lambda r: r.signed_on)) for item_id, found in reviews.items()}
    return KnowledgeBase(items=items, red_flags=red_flags, articles=articles, list_intros=list_intros,
                         safety_questions=safety_questions, reviews=oldest_first)


def _check_safety_questions(questions: dict[str, SafetyQuestion], red_flags: dict[str, RedFlag],
                            entries: dict[str, _Entry]) -> None:
    """Each question asks about known rows, and every emergency or crisis row has exactly one question."""
    asked_by: dict[str, str] = {}
    for question in questions.values():
        for row in question.rows:
            if row not in red_flags:
                raise entries[question.id].fail("rows", f"unknown red flag '{row}'")
            if row in asked_by:
                raise entries[question.id].fail("rows", f"'{row}' is already asked about by '{asked_by[row]}'")
            asked_by[row] = question.id
    if questions:
        for flag in red_flags.values():
            if flag.level in vocabulary.IMMEDIATE_LEVELS and flag.id not in asked_by:
                raise entries[flag.id].fail("level", f"an {flag.level} row needs a safety-net question "
                                                     "(add it to the 'rows' of one in the safety_question file)")


def _check_links(items: dict[str, Item], articles: dict[str, Article], entries: dict[str, _Entry]) -> None:
    for item in items.values():
        entry = entries[item.id]
        for target in item.related:
            if target not in items:
                raise entry.fail("related", f"unknown id '{target}'")
            if target == item.id:
                raise entry.fail("related", "an item cannot relate to itself")
        for source in item.sources:
            if source.article not in articles:
                known = ", ".join(sorted(articles)) or "none: add a kind: source file"
                raise entry.fail("sources", f"unknown article '{source.article}' (known: {known})")
        if item.kind == "cause" and not any(items[t].kind == "treatment" for t in item.related):
            raise entry.fail("related", "a cause must name the treatment that addresses it")


def _check_synonyms_are_unambiguous(items: dict[str, Item], entries: dict[str, _Entry]) -> None:
    owner: dict[str, str] = {}
    for item in items.values():
        for phrase in item_phrases(item):
            key = normalise(phrase)
            if not key:
                raise entries[item.id].fail("synonyms", f"'{phrase}' has no letters or digits")
            other = owner.setdefault(key, item.id)
            if other != item.id:
                raise entries[item.id].fail(
                    "synonyms", f"'{phrase}' also names '{other}': a phrase must name one item")
