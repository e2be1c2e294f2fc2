"""How long the knowledge base's phrase matcher takes to find topics in a message.

    .venv/bin/python bench/phrase_matcher.py

The action server runs `PhraseMatcher.find` on every question (actions.topic_ids). Times it on the NLU test
set's messages (typos included) and the benchmark conversation's turns: each message once on a new matcher
(words it has not seen yet), then again (words seen before). Prints milliseconds per message.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.performance import TURNS  # noqa: E402
from liptwitch.core.knowledge_base import load_knowledge_base  # noqa: E402
from liptwitch.core.text import PhraseMatcher, word_distance  # noqa: E402


def messages() -> list[str]:
    test_set = yaml.safe_load((REPO / "tests" / "nlu" / "test_nlu.yml").read_text())
    examples = [line.strip()[2:] for block in test_set["nlu"] for line in block["examples"].splitlines()
                if line.strip().startswith("- ")]
    # Entity annotations ([coffee](topic)) as the words a person wrote
    return [re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text) for text in examples] + list(TURNS)


def per_message_ms(matcher: PhraseMatcher, texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        matcher.find(text)
    return 1000 * (time.perf_counter() - started) / len(texts)


def main() -> int:
    synonyms = load_knowledge_base().synonym_index()
    texts = messages()
    new, seen = [], []
    for _ in range(5):
        word_distance.cache_clear()  # shared by all matchers
        matcher = PhraseMatcher(synonyms)
        new.append(per_message_ms(matcher, texts))
        seen.append(per_message_ms(matcher, texts))
    print(f"{len(texts)} messages, {len(synonyms)} phrases; median of 5 runs, ms per message:")
    print(f"  words not seen before: {statistics.median(new):.3f}")
    print(f"  words seen before:     {statistics.median(seen):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
