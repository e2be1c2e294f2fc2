"""What the learned safety net adds to a turn: the red-flag component's time with and without it.

    .venv/bin/python bench/safety_net_speed.py

Runs RedFlagClassifier (as the trained model holds it) on the NLU test set's messages and on long, realistic
posts, with its net and without it, and prints the median and 95th percentile per message. The rest of the
pipeline is unchanged, so the difference is what the net costs a turn.
"""

from __future__ import annotations

import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from liptwitch.core.safety_net import SafetyNet  # noqa: E402
from liptwitch.rasa_server.components import RedFlagClassifier  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"
LONG_POSTS = [
    "hey so ive had this twitch in my bottom lip for like 4 days now, its driving me mad. i'm a student with exams "
    "and barely sleeping, drinking loads of energy drinks. is it something serious like ALS?? what can i do",
    "Hello doctor, sorry to take your time. My mother is 74 and for a week her upper lip has been flickering on and "
    "off, mostly in the evening. She is otherwise well, walks the dog every day and does her crossword. She had a "
    "thyroid operation two years ago. Should we be worried, and is there anything she can take for it?",
]


def load_net() -> SafetyNet:
    with tarfile.open(MODEL) as archive, tempfile.TemporaryDirectory() as folder:
        members = [m for m in archive.getmembers() if "RedFlagClassifier" in m.name and m.isfile()]
        archive.extractall(folder, members=members)  # noqa: S202 - the project's own model
        return SafetyNet.load(Path(folder) / Path(members[0].name).parent)


def timed(component: RedFlagClassifier, texts: list[str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        for text in texts:
            message = Message(data={"text": text, "intent": {"name": "ask_cause", "confidence": 0.9},
                                    "intent_ranking": []})
            start = time.perf_counter()
            component.process([message])
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    if not MODEL.exists():
        print(f"{MODEL} is missing: run `make train` first", file=sys.stderr)
        return 1
    tests = [example["text"] if isinstance(example, dict) else example for example in _test_set()]
    with_net = RedFlagClassifier(RedFlagClassifier.get_default_config(), None, None, net=load_net())
    without = RedFlagClassifier(RedFlagClassifier.get_default_config(), None, None, net=None)
    for name, texts, rounds in (("NLU test set", tests, 3), ("long posts", LONG_POSTS, 100)):
        timed(with_net, texts[:20], 1)  # warm caches
        a, b = timed(without, texts, rounds), timed(with_net, texts, rounds)
        print(f"{name} ({len(texts)} messages): without the net median {statistics.median(a):.2f} ms, "
              f"p95 {statistics.quantiles(a, n=20)[-1]:.2f}; with it median {statistics.median(b):.2f} ms, "
              f"p95 {statistics.quantiles(b, n=20)[-1]:.2f}")
    return 0


def _test_set() -> list[str]:
    import re

    texts = []
    for block in yaml.safe_load((REPO / "tests" / "nlu" / "test_nlu.yml").read_text())["nlu"]:
        for line in block.get("examples", "").splitlines():
            if line.strip().startswith("- "):
                texts.append(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line.strip()[2:]))
    return texts


if __name__ == "__main__":
    sys.exit(main())
