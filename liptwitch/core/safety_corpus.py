"""The safety net's training corpus: thousands of labelled messages generated from lexicons and templates.

The red-flag detector finds what its term lists name; the safety net (liptwitch/core/safety_net.py) is a learned
classifier meant to recognise the same concepts in words nobody listed. It learns from this corpus: each
concept of shared/clinical/TRIAGE.md (a body part or function x an abnormal change x a side x an onset, in
either order, about oneself or someone else) and the harmless look-alikes of each row, expanded from the files
in data/safety_net/ into many phrasings, with typos, lower case and the frames real messages come in (a story,
a hoped-for harmless explanation, a long worried post), plus the hand-written examples there and the
knowledge base's own red-flag examples.

Template syntax: `{name}` is one entry of the word list `name` chosen at random, `{name?}` one entry or
nothing, `(a|b|c)` one of the alternatives; entries may hold templates themselves. Generation is seeded,
so the same files always give the same corpus.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from liptwitch import settings
from liptwitch.core.knowledge_base import DEFAULT_DIRECTORY as KNOWLEDGE_BASE_DIRECTORY
from liptwitch.core.knowledge_base import KnowledgeBase, KnowledgeBaseError, load_knowledge_base

DEFAULT_DIRECTORY = settings.SAFETY_NET_DIRECTORY
HARMLESS = "none"
SEED = 20261203
MAX_DEPTH = 8  # nested word lists: deeper means a list that names itself

_SLOT = re.compile(r"\{(\w+)(\?)?\}")
_ALTERNATIVES = re.compile(r"\(([^()]*\|[^()]*)\)")


class CorpusError(KnowledgeBaseError):
    """A corpus file is broken; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # a red-flag id, or HARMLESS


@dataclass(frozen=True)
class LabelSpec:
    label: str
    templates: tuple[str, ...]
    count: int
    framed: bool  # may be wrapped in the frames (a story, a long post...)


@dataclass(frozen=True)
class CorpusSpec:
    words: dict[str, tuple[str, ...]]
    labels: dict[str, LabelSpec]
    frames: tuple[str, ...]
    examples: tuple[Example, ...]
    typo_rate: float


# --- reading the files ---------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CorpusError(path, "is missing") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise CorpusError(path, f"is not valid YAML: {getattr(error, 'problem', error)}",
                          line=mark.line + 1 if mark else None) from error
    if not isinstance(document, dict):
        raise CorpusError(path, "must be a mapping")
    return document


def _texts(path: Path, value: Any, entry: str, field_name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise CorpusError(path, "must be a non-empty list of text", entry=entry, field_name=field_name)
    for position, element in enumerate(value, start=1):
        if not isinstance(element, str):
            raise CorpusError(path, f"element {position} must be text, got {element!r}", entry=entry,
                              field_name=field_name)
    return tuple(value)


def load_spec(directory: Path | str = DEFAULT_DIRECTORY, kb: KnowledgeBase | None = None) -> CorpusSpec:
    """Read and check data/safety_net/: every template names known word lists, every label is a red flag."""
    directory = Path(directory)
    kb = kb or load_knowledge_base(KNOWLEDGE_BASE_DIRECTORY)
    lexicon_path, templates_path, examples_path = (directory / name for name in
                                                   ("lexicon.yml", "templates.yml", "examples.yml"))
    lexicon = _read(lexicon_path)
    words_raw = lexicon.get("words")
    if not isinstance(words_raw, dict) or not words_raw:
        raise CorpusError(lexicon_path, "must be a mapping of word lists", field_name="words")
    words = {str(name): _texts(lexicon_path, value, str(name), "words") for name, value in words_raw.items()}

    document = _read(templates_path)
    known_labels = {*kb.red_flags, HARMLESS}
    labels_raw = document.get("labels")
    if not isinstance(labels_raw, dict) or not labels_raw:
        raise CorpusError(templates_path, "must be a mapping of labels", field_name="labels")
    labels = {}
    for label, raw in labels_raw.items():
        if label not in known_labels:
            raise CorpusError(templates_path, f"unknown label (known: {', '.join(sorted(known_labels))})",
                              entry=str(label))
        if not isinstance(raw, dict):
            raise CorpusError(templates_path, "must be a mapping with 'templates'", entry=str(label))
        unknown = set(raw) - {"templates", "count", "framed"}
        if unknown:
            raise CorpusError(templates_path, "is not a known field (known: templates, count, framed)",
                              entry=str(label), field_name=sorted(unknown)[0])
        count = raw.get("count", 400)
        if not isinstance(count, int) or count < 1:
            raise CorpusError(templates_path, "must be a positive whole number", entry=str(label), field_name="count")
        labels[label] = LabelSpec(label, _texts(templates_path, raw.get("templates"), str(label), "templates"),
                                  count, bool(raw.get("framed", True)))
    frames = _texts(templates_path, document.get("frames"), "frames", "frames")
    for frame in frames:
        if "{clause}" not in frame:
            raise CorpusError(templates_path, f"'{frame}' must contain {{clause}}", entry="frames")
    typo_rate = document.get("typo_rate", 0.2)

    examples_raw = _read(examples_path).get("examples")
    if not isinstance(examples_raw, list):
        raise CorpusError(examples_path, "must be a list of {text, label}", field_name="examples")
    examples = []
    for position, raw in enumerate(examples_raw, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or raw.get("label") not in known_labels:
            raise CorpusError(examples_path, f"must have 'text' and a known 'label' (got {raw!r})",
                              entry=f"#{position}")
        examples.append(Example(raw["text"], raw["label"]))

    spec = CorpusSpec(words, labels, frames, tuple(examples), float(typo_rate))
    _check_names(spec, lexicon_path, templates_path)
    return spec


def _check_names(spec: CorpusSpec, lexicon_path: Path, templates_path: Path) -> None:
    """Every {name} must be a word list: a misspelt name would silently generate nothing useful."""
    for name, entries in spec.words.items():
        for entry in entries:
            for used in _SLOT.findall(entry):
                if used[0] not in spec.words:
                    raise CorpusError(lexicon_path, f"'{entry}' names an unknown word list '{used[0]}'",
                                      entry=name, field_name="words")
    for label in spec.labels.values():
        for template in label.templates:
            for used in _SLOT.findall(template):
                if used[0] not in spec.words:
                    raise CorpusError(templates_path, f"'{template}' names an unknown word list '{used[0]}'",
                                      entry=label.label, field_name="templates")
    for frame in spec.frames:
        for used in _SLOT.findall(frame):
            if used[0] != "clause" and used[0] not in spec.words:
                raise CorpusError(templates_path, f"'{frame}' names an unknown word list '{used[0]}'",
                                  entry="frames")


# --- expanding -----------------------------------------------------------------------------------


def expand(template: str, words: dict[str, tuple[str, ...]], rng: random.Random, depth: int = 0) -> str:
    """One random phrasing of `template`."""
    if depth > MAX_DEPTH:
        raise ValueError(f"'{template}': word lists nested more than {MAX_DEPTH} deep (a list names itself?)")
    text = _ALTERNATIVES.sub(lambda m: rng.choice(m.group(1).split("|")), template)

    def fill(match: re.Match[str]) -> str:
        if match.group(2) and rng.random() < 0.5:
            return ""
        return expand(rng.choice(words[match.group(1)]), words, rng, depth + 1)

    text = _SLOT.sub(fill, text)
    return " ".join(text.split())


_KEYBOARD_NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", [
    "wa", "qes", "wrd", "etf", "ryg", "tuh", "yij", "uok", "ipl", "ol", "qsz", "awdz", "sefx", "drgc", "fthv",
    "gyjb", "hukn", "jilm", "kop", "asx", "zdc", "xfv", "cgb", "vhn", "bjm", "nk"], strict=True))


def add_typo(word: str, rng: random.Random) -> str:
    """One slip of the thumb: a letter dropped, doubled, swapped with the next, or a neighbouring key."""
    if len(word) < 4 or not word.isalpha():
        return word
    for _ in range(5):  # swapping two equal letters changes nothing: try another slip
        index = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(4)
        if kind == 0:
            slipped = word[:index] + word[index + 1:]
        elif kind == 1:
            slipped = word[:index] + word[index] + word[index:]
        elif kind == 2:
            slipped = word[:index] + word[index + 1] + word[index] + word[index + 2:]
        else:
            neighbours = _KEYBOARD_NEIGHBOURS.get(word[index].lower(), word[index])
            slipped = word[:index] + rng.choice(neighbours) + word[index + 1:]
        if slipped != word:
            return slipped
    return word


def roughen(text: str, rng: random.Random, typo_rate: float) -> str:
    """As typed on a phone: mostly lower case, some punctuation dropped, a typo or two."""
    if rng.random() < 0.7:
        text = text.lower()
    if rng.random() < 0.4:
        text = re.sub(r"[.,!?;]", "", text)
    if rng.random() < typo_rate:
        words = text.split(" ")
        for _ in range(rng.choice((1, 1, 2))):
            position = rng.randrange(len(words))
            words[position] = add_typo(words[position], rng)
        text = " ".join(words)
    return text


def generate(spec: CorpusSpec, kb: KnowledgeBase, seed: int = SEED,
             harmless: Iterable[str] = ()) -> list[Example]:
    """The whole corpus: generated phrasings of every label, framed and roughened, plus the hand-written ones.

    `harmless`: more messages known to be harmless (the NLU training data's questions), for precision.
    """
    rng = random.Random(seed)
    examples: list[Example] = []
    for label in spec.labels.values():
        seen: set[str] = set()
        attempts = 0
        while len(seen) < label.count and attempts < label.count * 20:
            attempts += 1
            clause = expand(rng.choice(label.templates), spec.words, rng)
            if label.framed and rng.random() < 0.35:
                clause = expand(rng.choice(spec.frames).replace("{clause}", "\0"), spec.words, rng).replace(
                    "\0", clause)
            text = roughen(clause, rng, spec.typo_rate)
            if text and text not in seen:
                seen.add(text)
                examples.append(Example(text, label.label))
    examples.extend(spec.examples)
    examples.extend(knowledge_base_examples(kb))
    examples.extend(Example(text, HARMLESS) for text in harmless)
    return examples


def knowledge_base_examples(kb: KnowledgeBase) -> Iterable[Example]:
    """The knowledge base's red-flag examples (they escalate) and non-examples (harmless), from TRIAGE.md."""
    for flag in kb.red_flags.values():
        for text in flag.examples:
            yield Example(text, flag.id)
        for text in flag.non_examples:
            yield Example(text, HARMLESS)


def main(argv: list[str] | None = None) -> int:
    """Write the corpus as YAML (for reading it, not for training: training generates it afresh)."""
    import sys
    from collections import Counter

    argv = sys.argv[1:] if argv is None else argv
    kb = load_knowledge_base(KNOWLEDGE_BASE_DIRECTORY)
    try:
        examples = generate(load_spec(DEFAULT_DIRECTORY, kb), kb)
    except KnowledgeBaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if argv:
        Path(argv[0]).parent.mkdir(parents=True, exist_ok=True)
        Path(argv[0]).write_text(yaml.safe_dump([{"text": e.text, "label": e.label} for e in examples],
                                                allow_unicode=True, width=200), encoding="utf-8")
    counts = Counter(example.label for example in examples)
    print(f"{len(examples)} examples: " + ", ".join(f"{label} {count}" for label, count in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
