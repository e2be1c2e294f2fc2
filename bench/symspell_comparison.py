"""The phrase matcher's own deletion index against symspellpy's, on the words of the NLU test set and the benchmark
turns: the same near words for every word? and how long finding them takes (uncached).

symspellpy is not one of the project's packages (it was measured and left out: bench/RESULTS.md). To run this:

    .venv/bin/pip install symspellpy==6.7.8 editdistpy==0.4.0 && .venv/bin/python bench/symspell_comparison.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symspellpy import SymSpell, Verbosity  # noqa: E402

from bench.phrase_matcher import messages  # noqa: E402
from liptwitch.core import text  # noqa: E402
from liptwitch.core.knowledge_base import load_knowledge_base  # noqa: E402


def main() -> int:
    matcher = text.PhraseMatcher(load_knowledge_base().synonym_index())
    known = list(dict.fromkeys(word for words in matcher._phrases for word in words))
    symspell = SymSpell(max_dictionary_edit_distance=text.MOST_TYPOS, prefix_length=7)
    for word in known:
        symspell.create_dictionary_entry(word, 1)

    def near_by_symspell(word: str) -> dict[str, int]:
        candidates = set(matcher._known_by_singular.get(text._singular(word), ()))
        candidates |= {s.term for s in symspell.lookup(word, Verbosity.ALL, max_edit_distance=text.MOST_TYPOS,
                                                        include_unknown=False, transfer_casing=False)}
        return {k: d for k in candidates if (d := text.word_distance(word, k)) is not None}

    words = [word for message in messages() for word in text.normalise(message).split()]
    differ = [word for word in set(words) if near_by_symspell(word) != matcher._near_words(word)]
    print(f"{len(set(words))} distinct words, {len(known)} known words; near words differ for {len(differ)}")
    for finder, name in ((near_by_symspell, "symspellpy"), (matcher._near_words, "own deletion index")):
        text.word_distance.cache_clear()
        started = time.perf_counter()
        for word in words:
            finder(word)
        print(f"{name}: {1e6 * (time.perf_counter() - started) / len(words):.1f} µs a word, uncached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
