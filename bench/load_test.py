"""Load test of the production-like cluster (make load-test): throughput and latency through nginx, with two
Rasa servers and then with one, from an async client on 127.0.0.1.

    .venv/bin/python bench/load_test.py [--seconds 40] [--concurrency 16]

The cluster (liptwitch/operations/cluster.py) is started here, on free ports, with 127.0.0.1 exempt from nginx's
per-client rate limit (all the simulated people share that address). Each simulated person holds one
conversation and asks the next question as soon as the last one is answered, over the REST channel with the
REST token. Every reply is checked: an empty reply, an apology or an HTTP error counts as failed, and at the
end each conversation stored in PostgreSQL must hold exactly the messages sent. Results go to
bench/RESULTS.md (between the load markers) and bench/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.performance import TURNS, machine, percentile, write_section  # noqa: E402
from liptwitch.operations.cluster import Cluster  # noqa: E402
from tests.cluster.client import ClusterClient  # noqa: E402 - reads the stored conversations

RAW = REPO / "bench" / "load.json"
START, END = "<!-- load:start -->", "<!-- load:end -->"
APOLOGIES = ("can't look that up right now", "not answering right now", "something went wrong on my side")


async def person(session: aiohttp.ClientSession, url: str, headers: dict, me: str, stop_at: float,
                 sent: list[str], latencies: list[float], failures: list[str]) -> None:
    turn = 0
    while time.monotonic() < stop_at:
        message = TURNS[turn % len(TURNS)]
        sent.append(message)
        started = time.perf_counter()
        try:
            body = {"sender": me, "message": message, "message_id": f"{me}-{turn}"}  # a repeat is not run twice
            async with session.post(url, json=body, headers=headers) as response:
                body = await response.json(content_type=None) if response.status == 200 else None
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            body, status = None, type(error).__name__
        latencies.append((time.perf_counter() - started) * 1000)
        text = " ".join(m.get("text", "") for m in body or [])
        if status != 200 or not text.strip() or any(apology in text for apology in APOLOGIES):
            failures.append(f"{me} turn {turn}: {status}")
        turn += 1


async def load(cluster: Cluster, concurrency: int, seconds: float, tag: str) -> dict:
    url = f"{cluster.url}/webhooks/rest/webhook"
    headers = {"Authorization": f"Bearer {cluster.secrets['LIPTWITCH_REST_TOKEN']}"}
    sent: dict[str, list[str]] = {f"{tag}-{n}": [] for n in range(concurrency)}
    latencies: list[float] = []
    failures: list[str] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        started = time.monotonic()
        await asyncio.gather(*(person(session, url, headers, me, started + seconds, messages, latencies, failures)
                               for me, messages in sent.items()))
        elapsed = time.monotonic() - started
    client = ClusterClient(cluster)
    mismatched = [me for me, messages in sent.items() if client.stored_user_texts(me) != messages]
    return {"concurrency": concurrency, "seconds": round(elapsed, 1), "turns": len(latencies),
            "turns_per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1), "failed_replies": len(failures),
            "conversations_not_stored_exactly": len(mismatched), "failures": failures[:10]}


def reading(runs: list[dict]) -> str:
    two, one = (next(row for row in runs if row["rasa_servers"] == n) for n in (2, 1))
    return (f"With two Rasa servers the cluster answers {two['turns_per_second'] / one['turns_per_second']:.2f}x "
            f"the turns per second of one, and p95 goes from {one['p95_ms']:.0f} to {two['p95_ms']:.0f} ms. A Rasa "
            "server runs its turns on one core (one Python event loop), so on this 2-core machine the second "
            "server puts the second core to work; more servers than cores would add fault tolerance, not speed. "
            "With 16 people on one server, most of a turn's latency is waiting for the turns ahead of it.")


def markdown(results: dict) -> str:
    lines = [START, "## Load test of the cluster (make load-test)", "",
             f"{results['date']}, {results['machine']}. nginx in front, PostgreSQL tracker store, Redis lock "
             f"store, two action servers; {results['concurrency']} simulated people, each asking its next "
             f"question as soon as the last is answered, for {results['seconds']:.0f} s per configuration, over "
             "REST through nginx. A reply is failed if it is an HTTP error, empty or an apology; a conversation is "
             "wrong if PostgreSQL does not hold exactly the messages sent.", "",
             "| Rasa servers | turns/s | p50 (ms) | p95 (ms) | p99 (ms) | turns | failed replies | "
             "conversations stored wrong |", "|---|---|---|---|---|---|---|---|"]
    for row in results["runs"]:
        lines.append(f"| {row['rasa_servers']} | {row['turns_per_second']} | {row['p50_ms']} | {row['p95_ms']} | "
                     f"{row['p99_ms']} | {row['turns']} | {row['failed_replies']} | "
                     f"{row['conversations_not_stored_exactly']} |")
    lines += ["", results["reading"], END]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from bench/load.json")
    args = parser.parse_args(argv)
    if args.report_only:
        results = json.loads(RAW.read_text())
        results["reading"] = reading(results["runs"])
        write_section(markdown(results), START, END)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="liptwitch-load-"))
    cluster = Cluster(workdir, unlimited=("127.0.0.1",))
    print(f"==> Starting the cluster in {workdir}", flush=True)
    cluster.start(log=print)
    runs = []
    try:
        for servers in (2, 1):
            if servers == 1:
                cluster.rasa_servers[1].stop()  # nginx notices at the first refused connection
            asyncio.run(load(cluster, 4, 5, f"warmup{servers}"))
            print(f"==> {args.concurrency} people for {args.seconds:.0f} s with {servers} Rasa server(s)", flush=True)
            row = {"rasa_servers": servers, **asyncio.run(load(cluster, args.concurrency, args.seconds,
                                                                 f"load{servers}"))}
            print(json.dumps(row), flush=True)
            runs.append(row)
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
               "concurrency": args.concurrency, "seconds": args.seconds, "runs": runs, "reading": reading(runs)}
    RAW.write_text(json.dumps(results, indent=1))
    write_section(markdown(results), START, END)
    print(f"==> written to {RAW.relative_to(REPO)} and bench/RESULTS.md")
    failed = sum(row["failed_replies"] + row["conversations_not_stored_exactly"] for row in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
