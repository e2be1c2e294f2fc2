"""Helpers shared by the tests."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _find_shared() -> Path:
    """The project's shared folder: a sibling of the repository (/work/main -> /work/shared)."""
    for ancestor in REPO.parents:
        candidate = ancestor / "shared"
        if (candidate / "clinical" / "TRIAGE.md").is_file():
            return candidate
    return REPO.parent / "shared"  # the tests that read it then fail naming the missing file


SHARED = _find_shared()
TRIAGE = SHARED / "clinical" / "TRIAGE.md"


def triage_rows() -> list[tuple[str, str, list[str]]]:
    """The red-flag rows of TRIAGE.md: id, level, and the examples that must escalate at that level."""
    assert TRIAGE.is_file(), f"{TRIAGE} not found"
    rows = []
    for line in TRIAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| RF"):
            cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
            rows.append((cells[0], cells[2], re.findall(r'"([^"]+)"', cells[3])))
    return rows
FIGURES: list[str] = []  # lines printed in the "measured" section at the end of the pytest run


def report(line: str) -> None:
    """Print `line` in the summary at the end of the pytest run (and keep it in the log)."""
    FIGURES.append(line)


def generated_conversations(domain) -> list[list]:
    """The events of every tracker Rasa generates from the stories, rules and test stories (no augmentation), in
    Rasa's order."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(REPO / "domain.yml"),
        training_data_paths=[str(REPO / "data" / "stories"), str(REPO / "data" / "rules"),
                             str(REPO / "tests" / "stories")])
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0,
                                     use_story_concatenation=False).generate()
    return [list(tracker.events) for tracker in trackers]


async def local_web_server(path: str, handler) -> tuple:
    """An aiohttp server on 127.0.0.1 (a port the system picks) answering POST `path` with `handler`: its runner (to
    clean up) and the URL."""
    from aiohttp import web

    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
