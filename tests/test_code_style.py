"""The code follows the project's conventions (ruff.toml), so that a change cannot land unformatted."""

from __future__ import annotations

import subprocess

from tests.helpers import REPO


def test_ruff_finds_nothing():
    ruff = REPO / ".venv" / "bin" / "ruff"
    result = subprocess.run([str(ruff), "check", "liptwitch", "actions", "tests", "web", "bench"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
