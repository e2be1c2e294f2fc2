"""Red-flag detector on a held-out set written without seeing the detector or the public suite.

    .venv/bin/python bench/red_flags_holdout.py [red_flags_holdout2.yml]

Prints recall per level, the share of harmless messages escalated, and every miss.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liptwitch.core.knowledge_base import load_knowledge_base  # noqa: E402
from liptwitch.core.red_flags import LEVELS, RedFlagDetector  # noqa: E402

RANK = {level: len(LEVELS) - index for index, level in enumerate(LEVELS)} | {None: 0, "none": 0}


def right(expected: str, found: str | None) -> bool:
    if expected == "none":
        return RANK[found] < RANK["urgent"]
    if expected in ("emergency", "crisis"):
        return found == expected or (expected == "crisis" and found == "emergency")
    return RANK[found] >= RANK[expected]


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "red_flags_holdout.yml"
    cases = yaml.safe_load((Path(__file__).parent / name).read_text())["cases"]
    detector = RedFlagDetector(load_knowledge_base())
    total, good, misses = Counter(), Counter(), []
    for case in cases:
        found = detector.assess(case["text"])
        total[case["level"]] += 1
        if right(case["level"], found.level):
            good[case["level"]] += 1
        else:
            misses.append(f"  expected {case['level']}, found {found.level} {list(found.red_flags)}: {case['text']!r}")
    for level in ("emergency", "crisis", "urgent", "routine"):
        print(f"{level:9} recall {good[level] / total[level]:.1%} ({good[level]}/{total[level]})")
    harmless = total["none"]
    print(f"harmless  escalated to urgent or emergency: {(harmless - good['none']) / harmless:.1%} "
          f"({harmless - good['none']}/{harmless})")
    print("\n".join(["misses:", *misses]) if misses else "no misses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
