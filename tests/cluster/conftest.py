"""One production-like cluster (liptwitch/operations/cluster.py) for the cluster tests: PostgreSQL, Redis, two action
servers, two Rasa servers and nginx, on free 127.0.0.1 ports, started here and stopped at the end."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from liptwitch.operations.cluster import REPO, Cluster
from tests.cluster.client import ClusterClient


@pytest.fixture(scope="session")
def cluster():
    # Not under pytest's own temporary directory: PostgreSQL (as `postgres`) and nginx's workers (as `nobody`)
    # must be able to go through the path, and pytest's base directory is private to this user.
    workdir = Path(tempfile.mkdtemp(prefix="liptwitch-cluster-"))
    # 127.0.0.1 is not rate-limited here, so that the load of these tests is not refused; the rate-limit test
    # sends from 127.0.0.2, which is limited as any client is.
    running = Cluster(workdir, enable_api=True, unlimited=("127.0.0.1",))
    running.start()
    try:
        yield running
    finally:
        running.stop()
        # The servers' logs stay in logs/cluster-tests/ for whoever reads a failure; the rest goes.
        kept = REPO / "logs" / "cluster-tests"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(running.logs, kept)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def client(cluster):
    return ClusterClient(cluster)
