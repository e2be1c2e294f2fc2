"""Where a turn's time goes, early in a conversation and after 200 (or PROFILE_TURNS) turns.

    [PROFILE_TURNS=1000] .venv/bin/python bench/profile_turn.py [MODEL [TRACKER_STORE_CLASS]]

Loads the trained assistant in-process with the tracker store of endpoints.yml (SQLite, in a temporary
file) and a real action server, holds one 200-turn conversation (bench/performance.py's turns), and
times each phase of Rasa's turn by wrapping its methods: loading and saving the tracker, the NLU
pipeline, the policies' predictions, the custom actions (HTTP to the action server). Prints a
table of milliseconds per turn by phase for turns 2-11 and 191-200.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.performance import TURNS  # noqa: E402
from tests.e2e.servers import Server, free_port  # noqa: E402

PHASES: dict[str, float] = defaultdict(float)
# As endpoints.yml; `bench/profile_turn.py MODEL rasa.core.tracker_store.SQLTrackerStore` for Rasa's own.
TRACKER_STORE = sys.argv[2] if len(sys.argv) > 2 else "liptwitch.rasa_server.tracker_store.CachedSQLTrackerStore"
LENGTH = int(os.environ.get("PROFILE_TURNS", "200"))


def timed(owner: type, name: str, phase: str) -> None:
    """Wrap owner.name so that its time adds to `phase` (outermost call only)."""
    original = getattr(owner, name)
    active: set[str] = set()

    if asyncio.iscoroutinefunction(original):
        async def wrapper(*args, **kwargs):
            if phase in active:
                return await original(*args, **kwargs)
            active.add(phase)
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                PHASES[phase] += time.perf_counter() - started
                active.discard(phase)
    else:
        def wrapper(*args, **kwargs):
            if phase in active:
                return original(*args, **kwargs)
            active.add(phase)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                PHASES[phase] += time.perf_counter() - started
                active.discard(phase)
    setattr(owner, name, wrapper)


async def converse(model: Path, workdir: Path, action_url: str) -> list[dict[str, float]]:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import load_agent
    from rasa.core.processor import MessageProcessor
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.utils.common import class_from_module_path
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from liptwitch.rasa_server.patches import apply_all
    from liptwitch.rasa_server.patches.action_server import close_kept_connections

    apply_all()  # as `python -m liptwitch.rasa_server run` does
    # As `rasa run` does, without debug logging (which would be timed too)
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    endpoints_file = workdir / "endpoints.yml"
    endpoints_file.write_text(f'action_endpoint:\n  url: "{action_url}"\n  enable_selective_domain: true\n'
                              f"tracker_store:\n  type: {TRACKER_STORE}\n"
                              f"  dialect: sqlite\n  db: {workdir / 'conversations.db'}\n"
                              "nlg:\n  type: liptwitch.rasa_server.nlg.SlotValueNaturalLanguageGenerator\n")
    agent = await load_agent(model_path=str(model), endpoints=AvailableEndpoints.read_endpoints(str(endpoints_file)))
    store = class_from_module_path(TRACKER_STORE)
    timed(store, "retrieve", "load the tracker")
    timed(store, "save", "save the tracker")
    timed(MessageProcessor, "parse_message", "NLU pipeline")
    timed(MessageProcessor, "_predict_next_with_tracker", "policies (predict next action)")
    timed(RemoteAction, "run", "custom actions (action server)")
    timed(RemoteAction, "_action_call_format", "  of which: the request JSON")
    timed(MessageProcessor, "handle_message", "whole turn")
    turns = []
    for index in range(LENGTH):
        PHASES.clear()
        await agent.handle_text(TURNS[index % len(TURNS)], sender_id="profile")
        turns.append(dict(PHASES))
    await close_kept_connections()
    return turns


def main() -> int:
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "models" / "lip-twitch-guide.tar.gz"
    with tempfile.TemporaryDirectory(prefix="liptwitch-profile-") as temporary:
        workdir = Path(temporary)
        port = free_port()
        actions = Server("action server", [str(REPO / ".venv" / "bin" / "rasa"), "run", "actions", "--actions",
                                           "actions", "--port", str(port)],
                         f"http://127.0.0.1:{port}/health", workdir / "actions.log")
        actions.start()
        try:
            actions.wait_until_ready()
            turns = asyncio.run(converse(model, workdir, f"http://127.0.0.1:{port}/webhook"))
        finally:
            actions.stop()
    phases = list(dict.fromkeys(phase for turn in turns for phase in turn))
    windows = {"turns 2-11": turns[1:11], f"turns {LENGTH - 9}-{LENGTH}": turns[LENGTH - 10:LENGTH]}
    print(f"| phase (median ms per turn) | {' | '.join(windows)} |\n|---|---|---|")
    for phase in phases:
        cells = [f"{1000 * statistics.median(t.get(phase, 0.0) for t in window):.1f}" for window in windows.values()]
        print(f"| {phase} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
