"""A very long conversation, and very many conversations, against the running assistant over REST.

    .venv/bin/python bench/long_run.py [--turns 1000] [--conversations 10000] [--json OUT]

1. One conversation of `--turns` turns (bench/performance.py's messages in turn): the median and 95th percentile
   turn of the first 100 turns and of the last 100, and their ratio (target: within 1.2x).
2. `--conversations` new conversations of two turns each: the Rasa server's resident memory after every tenth of
   them (target: it levels off, the conversation cache being bounded by size, not only by count).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.performance import TURNS  # noqa: E402
from tests.e2e.servers import running_assistant  # noqa: E402


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def turn(session: requests.Session, url: str, sender: str, message: str) -> float:
    start = time.perf_counter()
    reply = session.post(url, json={"sender": sender, "message": message}, timeout=60)
    reply.raise_for_status()
    return (time.perf_counter() - start) * 1000


def summary(times: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(times), 1), "p95": round(statistics.quantiles(times, n=20)[-1], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as workdir, running_assistant(Path(workdir)) as assistant, \
            requests.Session() as session:
        url = f"{assistant.url}/webhooks/rest/webhook"
        for message in TURNS:  # warm up, in a conversation of its own
            turn(session, url, "warm-up", message)
        times = [turn(session, url, "long", TURNS[index % len(TURNS)]) for index in range(args.turns)]
        first, last = summary(times[:100]), summary(times[-100:])
        results["long conversation"] = {"turns": args.turns, "first 100": first, "last 100": last,
                                        "ratio of medians": round(last["p50"] / first["p50"], 2)}
        print(f"{args.turns} turns: first 100 p50 {first['p50']} ms (p95 {first['p95']}), last 100 p50 "
              f"{last['p50']} ms (p95 {last['p95']}): {last['p50'] / first['p50']:.2f}x", flush=True)
        pid = assistant.rasa.process.pid
        memory = [(0, round(resident_mb(pid)))]
        step = max(args.conversations // 10, 1)
        for number in range(1, args.conversations + 1):
            sender = f"many-{number}"
            turn(session, url, sender, TURNS[number % len(TURNS)])
            turn(session, url, sender, TURNS[(number + 1) % len(TURNS)])
            if number % step == 0:
                memory.append((number, round(resident_mb(pid))))
                print(f"{number} conversations: Rasa server {memory[-1][1]} MB", flush=True)
        results["memory (conversations, MB)"] = memory
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
