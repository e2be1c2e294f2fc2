"""The performance benchmark (`make bench`): the assistant beside Rasa's starting point and the floor.

    .venv/bin/python bench/performance.py            # everything, about 20 minutes on 2 cores
    .venv/bin/python bench/performance.py --quick    # fewer turns and no training: a smoke run

Three systems, measured the same way in one run, over Rasa's REST channel on 127.0.0.1:

- ours: the trained assistant as `make run` starts it (our pipeline and policies, the SQLite tracker
  store of endpoints.yml, the action server);
- rasa-init: Rasa's default pipeline and policies (`rasa init`'s config.yml, which Rasa fills with its
  defaults: DIET, ResponseSelector, TEDPolicy...) trained on our data and domain, with our action
  server and Rasa's default in-memory tracker store: what a Rasa user starts from;
- floor: a bare Sanic endpoint returning a fixed reply (bench/floor_server.py).

Measured: `rasa train` from scratch (an empty cache) and after a one-line NLU change; cold start
(process start to the first answer); resident memory of each server; per-turn latency p50/p95/p99 at
conversation lengths 1, 50 and 200 (the turns around that position, over several conversations);
throughput with 1, 8 and 32 concurrent conversations. Results go to bench/RESULTS.md (between the
performance markers), bench/performance.json, and two plots in bench/plots/.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.servers import Server, free_port  # noqa: E402 - the tests' server runner, reused

VENV_BIN = REPO / ".venv" / "bin"
RASA = str(VENV_BIN / "rasa")  # Rasa's own command line, for Rasa's default project (rasa-init)
OURS = [str(VENV_BIN / "python"), "-m", "liptwitch.rasa_server"]  # ours: the project's patches applied first


def rasa_command(system: str) -> list[str]:
    return OURS if system == "ours" else [RASA]
RESULTS = REPO / "bench" / "RESULTS.md"
PLOTS = REPO / "bench" / "plots"
RAW = REPO / "bench" / "performance.json"
START, END = "<!-- performance:start -->", "<!-- performance:end -->"
TRAINING_DATA = ["data/nlu", "data/rules", "data/stories", "build/nlu/knowledge_base.yml"]
# A person's conversation, over and over: questions, follow-ups, thanks. No red flag (its hand-off
# would measure the hand-off receiver) and no guided check (a form that waits for answers).
TURNS = [
    "hi", "what causes lip twitching?", "tell me more", "what about stress?", "how do i treat that?",
    "is it serious?", "can coffe make my lip twitch", "how do I stop it?", "when should i see a doctor",
    "what are the symptoms?", "thanks", "could it be low magnesium", "what else can cause it", "ok thank you",
]
LENGTHS = (1, 50, 200)
CONCURRENCY = (1, 8, 32)
# One more training example in a file of its own: the smallest change to the NLU data.
ONE_LINE_CHANGE = ('version: "3.1"\nnlu:\n- intent: ask_cause\n  examples: |\n'
                   "    - could my new pillow be making my lip twitch\n")


def environment() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONPATH": str(REPO)}


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids.extend(int(child) for child in children)
        except (OSError, StopIteration):
            continue
    return total / 1024


# --- training -----------------------------------------------------------------------------------

def train(system: str, project: Path, config: Path, out: Path, cache: Path, data: list[str]) -> float:
    started = time.monotonic()
    subprocess.run([*rasa_command(system), "train", "--config", str(config), "--domain", str(REPO / "domain.yml"),
                    "--data", *data,
                    "--out", str(out), "--fixed-model-name", "model"], cwd=project, check=True,
                   env={**environment(), "RASA_CACHE_DIRECTORY": str(cache)}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def training_times(system: str, workdir: Path) -> tuple[dict[str, float], Path]:
    """Seconds to train from scratch and after a one-line NLU change; the model trained from scratch."""
    project = REPO if system == "ours" else workdir / "project"
    config = REPO / "config.yml"
    if system == "rasa-init":
        project.mkdir(parents=True, exist_ok=True)
        config = project / "config.yml"
        rasa_package = Path(importlib.util.find_spec("rasa").origin).parent
        shutil.copy(rasa_package / "cli" / "initial_project" / "config.yml", config)
    data = [str(REPO / path) for path in TRAINING_DATA]
    cache = workdir / "cache"
    scratch = train(system, project, config, workdir / "models", cache, data)
    model = workdir / "models" / "model.tar.gz"
    kept = workdir / "model-from-scratch.tar.gz"
    shutil.move(model, kept)
    change = workdir / "one_line_change.yml"
    change.write_text(ONE_LINE_CHANGE)
    incremental = train(system, project, config, workdir / "models", cache, [*data, str(change)])
    return {"from scratch": scratch, "after a one-line NLU change": incremental}, kept


# --- running ------------------------------------------------------------------------------------

class System:
    def __init__(self, name: str, servers: list[Server], url: str) -> None:
        self.name, self.servers, self.url = name, servers, url


def start(name: str, model: Path | None, workdir: Path) -> System:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    if name == "floor":
        servers = [Server("floor", [str(VENV_BIN / "python"), str(REPO / "bench" / "floor_server.py"), str(port)],
                          f"{url}/", workdir / "floor.log")]
    else:
        action_port = free_port()
        endpoints = workdir / "endpoints.yml"
        text = f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        if name == "ours":  # as endpoints.yml: selective domain, SQLite (cached) tracker store, our NLG
            text += ("  enable_selective_domain: true\n"
                     "tracker_store:\n  type: liptwitch.rasa_server.tracker_store.CachedSQLTrackerStore\n"
                     f"  dialect: sqlite\n  db: {workdir / 'conversations.db'}\n"
                     "nlg:\n  type: liptwitch.rasa_server.nlg.SlotValueNaturalLanguageGenerator\n")
        endpoints.write_text(text)
        servers = [
            Server("action server", [RASA, "run", "actions", "--actions", "actions", "--port", str(action_port)],
                   f"http://127.0.0.1:{action_port}/health", workdir / "actions.log"),
            Server("Rasa server", [*rasa_command(name), "run", "--model", str(model), "--port", str(port),
                                   "--endpoints", str(endpoints), "--credentials", str(REPO / "credentials.yml")],
                   f"{url}/", workdir / "rasa.log"),
        ]
    for server in servers:
        server.start()
    return System(name, servers, url)


def stop(system: System) -> None:
    for server in reversed(system.servers):
        server.stop()


async def first_answer(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.post(f"{url}/webhooks/rest/webhook",
                                        json={"sender": "cold-start", "message": "what causes lip twitching?"},
                                        timeout=aiohttp.ClientTimeout(total=30)) as reply:
                    if reply.status == 200 and await reply.json():
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"no answer from {url} within {timeout} s")


async def turn(session: aiohttp.ClientSession, url: str, sender: str, message: str) -> float:
    started = time.perf_counter()
    async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                            timeout=aiohttp.ClientTimeout(total=60)) as reply:
        answer = await reply.json()
    elapsed = time.perf_counter() - started
    if reply.status != 200 or not answer:
        raise RuntimeError(f"turn failed: HTTP {reply.status}, {answer!r}")
    return elapsed


async def conversation_latencies(url: str, sender: str, length: int, start: int = 0) -> list[float]:
    """Per-turn latency of one conversation of `length` turns, beginning at TURNS[start]."""
    async with aiohttp.ClientSession() as session:
        return [await turn(session, url, sender, TURNS[(start + index) % len(TURNS)]) for index in range(length)]


async def throughput(url: str, concurrency: int, seconds: float, tag: str) -> dict[str, float]:
    """Turns per second with `concurrency` conversations at once, each 20 turns then a new one."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def person(number: int) -> None:
        async with aiohttp.ClientSession() as session:
            conversation = 0
            while time.monotonic() < deadline:
                sender = f"{tag}-{concurrency}-{number}-{conversation}"
                for index in range(number + conversation, number + conversation + 20):
                    if time.monotonic() >= deadline:
                        return
                    latencies.append(await turn(session, url, sender, TURNS[index % len(TURNS)]))
                conversation += 1

    started = time.monotonic()
    await asyncio.gather(*(person(number) for number in range(concurrency)))
    elapsed = time.monotonic() - started
    return {"turns per second": len(latencies) / elapsed, "p50 ms": 1000 * percentile(latencies, 0.5),
            "p95 ms": 1000 * percentile(latencies, 0.95), "turns": len(latencies)}


def measure(name: str, model: Path | None, workdir: Path, conversations: int, length: int,
            seconds: float) -> dict:
    started = time.monotonic()
    system = start(name, model, workdir)
    try:
        asyncio.run(first_answer(system.url))
        cold_start = time.monotonic() - started
        # Conversations one after the other: latency by position in the conversation.
        by_turn = [asyncio.run(conversation_latencies(system.url, f"latency-{name}-{n}", length, start=n + 1))
                   for n in range(conversations)]
        latency = {}
        for at in LENGTHS:
            if at > length:
                continue
            window = range(max(0, at - 5), min(length, at + 5)) if at > 1 else range(0, 1)
            samples = [run[index] for run in by_turn for index in window]
            if at == 1:  # the first turn of more conversations, for a percentile worth the name
                extra = [asyncio.run(conversation_latencies(system.url, f"first-{name}-{n}", 1, start=n))[0]
                         for n in range(40)]
                samples += extra
            latency[at] = {"p50 ms": 1000 * percentile(samples, 0.5), "p95 ms": 1000 * percentile(samples, 0.95),
                           "p99 ms": 1000 * percentile(samples, 0.99), "samples": len(samples)}
        median_by_turn = [1000 * statistics.median(run[index] for run in by_turn) for index in range(length)]
        loads = {concurrency: asyncio.run(throughput(system.url, concurrency, seconds, f"load-{name}"))
                 for concurrency in CONCURRENCY}
        memory = {server.name: rss_mb(server.process.pid) for server in system.servers}
    finally:
        stop(system)
    return {"cold start s": cold_start, "latency": latency, "median by turn ms": median_by_turn,
            "throughput": loads, "memory MB": memory}


# --- reporting ----------------------------------------------------------------------------------

def plots(results: dict) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    latency_plot = PLOTS / "latency_by_conversation_length.png"
    throughput_plot = PLOTS / "throughput_by_concurrency.png"
    figure, axes = plt.subplots(figsize=(7, 4))
    for name, result in results["systems"].items():
        medians = result["median by turn ms"]
        axes.plot(range(1, len(medians) + 1), medians, label=name)
    axes.set(xlabel="turn of the conversation", ylabel="median latency (ms)", yscale="log",
             title="Per-turn latency as the conversation grows")
    axes.legend()
    figure.tight_layout()
    figure.savefig(latency_plot, dpi=110)
    figure, axes = plt.subplots(figsize=(7, 4))
    for name, result in results["systems"].items():
        points = sorted((int(c), v["turns per second"]) for c, v in result["throughput"].items())
        axes.plot([c for c, _ in points], [v for _, v in points], marker="o", label=name)
    axes.set(xlabel="concurrent conversations", ylabel="turns per second", xscale="log", yscale="log",
             title="Throughput against concurrency")
    axes.set_xticks(list(CONCURRENCY), [str(c) for c in CONCURRENCY])
    axes.legend()
    figure.tight_layout()
    figure.savefig(throughput_plot, dpi=110)
    return [latency_plot, throughput_plot]


def ratio(ours: float, other: float) -> str:
    return f"{ours / other:.3g}x" if other else "-"


def keyed(mapping: dict, key: int) -> dict:
    """mapping[key], whether the keys are numbers (this run) or strings (read back from JSON)."""
    return mapping.get(key) or mapping.get(str(key)) or {}


def markdown(results: dict) -> str:
    systems = results["systems"]
    names = list(systems)
    lines = [START, "## Performance (`make bench`)", "",
             f"Machine: {results['machine']}. Date: {results['date']}. Command: `{results['command']}`.", "",
             "Per-turn latency over REST, ms (p50 / p95 / p99 of the turns around that position):", "",
             "| conversation length | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for at in LENGTHS:
        cells = []
        for name in names:
            figure = systems[name]["latency"].get(at) or systems[name]["latency"].get(str(at))
            cells.append(f"{figure['p50 ms']:.1f} / {figure['p95 ms']:.1f} / {figure['p99 ms']:.1f}" if figure else "-")
        lines.append(f"| {at} | " + " | ".join(cells) + " |")
    lines += ["", "Throughput, turns per second (p95 latency under that load, ms):", "",
              "| concurrent conversations | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for concurrency in CONCURRENCY:
        cells = []
        for name in names:
            load = systems[name]["throughput"].get(concurrency) or systems[name]["throughput"].get(str(concurrency))
            cells.append(f"{load['turns per second']:.1f} ({load['p95 ms']:.0f})")
        lines.append(f"| {concurrency} | " + " | ".join(cells) + " |")
    lines += ["", "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines.append("| cold start, process start to first answer (s) | "
                 + " | ".join(f"{systems[n]['cold start s']:.1f}" for n in names) + " |")
    lines.append("| resident memory after the load (MB) | " + " | ".join(
        ", ".join(f"{server} {mb:.0f}" for server, mb in systems[n]["memory MB"].items()) for n in names) + " |")
    for label in ("from scratch", "after a one-line NLU change"):
        lines.append(f"| `rasa train` {label} (s) | " + " | ".join(
            f"{systems[n]['training s'][label]:.0f}" if systems[n].get("training s") else "-" for n in names) + " |")
    if "ours" in systems:
        lines += ["", "Ours as a ratio of the others (below 1 is faster for latency, above 1 is more for throughput):",
                  "", "| | " + " | ".join(n for n in names if n != "ours") + " |",
                  "|---|" + "---|" * (len(names) - 1)]
        for label, figure in (("p50 latency at turn 1", lambda r: keyed(r["latency"], 1).get("p50 ms", 0)),
                              ("p50 latency at turn 200", lambda r: keyed(r["latency"], 200).get("p50 ms", 0)),
                              ("throughput at 8 conversations",
                               lambda r: keyed(r["throughput"], 8).get("turns per second", 0))):
            lines.append(f"| {label} | " + " | ".join(ratio(figure(systems["ours"]), figure(systems[n]))
                                                      for n in names if n != "ours") + " |")
    lines += ["", "![latency](plots/latency_by_conversation_length.png)",
              "![throughput](plots/throughput_by_concurrency.png)", END]
    return "\n".join(lines)


def write_results(results: dict) -> None:
    RAW.write_text(json.dumps(results, indent=1))
    plots(results)
    write_section(markdown(results), START, END)


def write_section(section: str, start: str, end: str) -> None:
    """Puts `section` (which begins with `start` and ends with `end`) in RESULTS.md, in place of the old one."""
    text = RESULTS.read_text()
    if start in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))) / 1024 ** 2
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns, no training: a smoke run")
    parser.add_argument("--systems", default="ours,rasa-init,floor")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from bench/performance.json")
    arguments = parser.parse_args()
    if arguments.report_only:
        write_results(json.loads(RAW.read_text()))
        return 0
    conversations, length, seconds = (2, 60, 5) if arguments.quick else (5, 200, 20)
    results = {"machine": machine(), "date": date.today().isoformat(),
               "command": "make bench" + (" (--quick)" if arguments.quick else ""), "systems": {}}
    with tempfile.TemporaryDirectory(prefix="liptwitch-bench-") as temporary:
        workdir = Path(temporary)
        for name in arguments.systems.split(","):
            print(f"==> {name}", flush=True)
            model, training = None, None
            if name == "ours" and arguments.quick:
                model = REPO / "models" / "lip-twitch-guide.tar.gz"
            elif name != "floor":
                training, model = training_times(name, workdir / name)
                print(f"    training: {training}", flush=True)
            result = measure(name, model, workdir / name / "run", conversations, length, seconds)
            result["training s"] = training
            results["systems"][name] = result
            print(f"    cold start {result['cold start s']:.1f} s, latency {result['latency']}, "
                  f"throughput {[round(v['turns per second'], 1) for v in result['throughput'].values()]}", flush=True)
    write_results(results)
    print(f"==> written to {RESULTS.relative_to(REPO)}, {RAW.relative_to(REPO)} and {PLOTS.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
