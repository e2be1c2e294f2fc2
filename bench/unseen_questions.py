"""Unseen real-user questions over REST, each the first message of its own conversation.

    .venv/bin/python bench/unseen_questions.py      # starts both servers on free ports, then stops them
Prints the share answered with exactly the expected knowledge-base ids, and every miss.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liptwitch.core.knowledge_base import load_knowledge_base  # noqa: E402
from tests.e2e.servers import running_assistant  # noqa: E402

LISTS = {"causes": "cause", "symptoms": "symptom", "treatments": "treatment"}


def main() -> int:
    cases = yaml.safe_load((Path(__file__).parent / "unseen_questions.yml").read_text())["cases"]
    kb = load_knowledge_base()
    misses = []
    with tempfile.TemporaryDirectory() as workdir, running_assistant(Path(workdir)) as assistant:
        for case in cases:
            expected = case["expect"]
            if isinstance(expected, str):
                expected = [item.id for item in kb.of_kind(LISTS[expected])]
            messages = assistant.send(f"bench-{uuid.uuid4().hex[:10]}", case["text"])
            payloads = [m["custom"] for m in messages if "custom" in m]
            got = payloads[-1].get("kb_ids") if payloads else None
            if got != expected:
                misses.append(f"  {case['text']!r}: expected {expected}, got {got}")
    right = len(cases) - len(misses)
    print(f"unseen questions over REST: {right}/{len(cases)} = {right / len(cases):.1%} right and focused")
    print("\n".join(["misses:", *misses]) if misses else "no misses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
