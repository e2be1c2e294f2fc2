"""Writes the NLU data that comes from the knowledge base, so that no second list is kept: the
lookup table of topics, and the red-flag examples.

    python -m liptwitch.tools.nlu_export build/nlu/knowledge_base.yml

The file is generated at build time (see the Makefile) and never edited by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from liptwitch import settings
from liptwitch.core.answers import RED_FLAG_INTENT_PREFIX, TOPIC_ENTITY
from liptwitch.core.knowledge_base import (
    DEFAULT_DIRECTORY,
    TOPIC_KINDS,
    KnowledgeBase,
    KnowledgeBaseError,
    item_phrases,
    load_knowledge_base,
)
from liptwitch.core.text import normalise

DEFAULT_PATH = settings.NLU_LOOKUPS


class _Literal(str):
    """A string PyYAML writes as a `|` block, as Rasa's own files do."""


yaml.SafeDumper.add_representer(
    _Literal, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|"))


def topic_lookup(kb: KnowledgeBase) -> list[str]:
    phrases = {normalise(phrase) for item in kb.items.values() if item.kind in TOPIC_KINDS
               for phrase in item_phrases(item)}
    return sorted(phrases)


def red_flag_examples(kb: KnowledgeBase) -> dict[str, list[str]]:
    """The knowledge base's red-flag examples, by intent (red_flag_<level>).

    The red-flag detector decides these intents, not the model: the examples are there so that
    the domain's intents all have training data, and so that the model learns they exist.
    """
    by_intent: dict[str, list[str]] = {}
    for flag in kb.red_flags.values():
        by_intent.setdefault(f"{RED_FLAG_INTENT_PREFIX}{flag.level}", []).extend(flag.examples)
    return {intent: sorted(set(examples)) for intent, examples in sorted(by_intent.items())}


def render(kb: KnowledgeBase) -> str:
    examples = "".join(f"- {phrase}\n" for phrase in topic_lookup(kb))
    nlu: list[dict[str, object]] = [{"lookup": TOPIC_ENTITY, "examples": _Literal(examples)}]
    for intent, texts in red_flag_examples(kb).items():
        nlu.append({"intent": intent, "examples": _Literal("".join(f"- {text}\n" for text in texts))})
    document = {"version": "3.1", "nlu": nlu}
    header = "# GENERATED from data/knowledge_base by `python -m liptwitch.tools.nlu_export`; do not edit.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else DEFAULT_PATH
    try:
        kb = load_knowledge_base(DEFAULT_DIRECTORY)
    except KnowledgeBaseError as error:
        print(f"error: the knowledge base is broken: {error}", file=sys.stderr)
        return 1
    content = render(kb)
    if target.is_file() and target.read_text(encoding="utf-8") == content:
        print(f"NLU lookup table {target} is up to date")
        return 0  # left untouched, so that Make does not retrain for nothing
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    print(f"NLU lookup table written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
