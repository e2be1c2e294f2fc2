"""Writes the NLU lookup table of topics from the knowledge base, so that no second list is kept.

    python -m liptwitch.nlu_export build/nlu/knowledge_base.yml

The file is generated at build time (see the Makefile) and never edited by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from liptwitch.answers import TOPIC_ENTITY
from liptwitch.knowledge_base import (
    DEFAULT_DIRECTORY,
    KnowledgeBase,
    KnowledgeBaseError,
    item_phrases,
    load_knowledge_base,
)
from liptwitch.text import normalise

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "build" / "nlu" / "knowledge_base.yml"
# General topics (what it is, is it serious...) are asked about by intent, not named as a topic.
TOPIC_KINDS = ("cause", "symptom", "treatment")


class _Literal(str):
    """A string PyYAML writes as a `|` block, as Rasa's own files do."""


yaml.SafeDumper.add_representer(
    _Literal, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|"))


def topic_lookup(kb: KnowledgeBase) -> list[str]:
    phrases = {normalise(phrase) for item in kb.items.values() if item.kind in TOPIC_KINDS
               for phrase in item_phrases(item)}
    return sorted(phrases)


def render(kb: KnowledgeBase) -> str:
    examples = "".join(f"- {phrase}\n" for phrase in topic_lookup(kb))
    document = {"version": "3.1", "nlu": [{"lookup": TOPIC_ENTITY, "examples": _Literal(examples)}]}
    header = "# GENERATED from data/knowledge_base by `python -m liptwitch.nlu_export`; do not edit.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else DEFAULT_PATH
    try:
        kb = load_knowledge_base(DEFAULT_DIRECTORY)
    except KnowledgeBaseError as error:
        print(f"error: the knowledge base is broken: {error}", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(kb), encoding="utf-8")
    print(f"NLU lookup table written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
