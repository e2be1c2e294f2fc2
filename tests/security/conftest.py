"""The assistant as `make run` starts it (local channels, REST without a token, the action-server token), with a
hand-off webhook that records what reaches it, for the probes of tests/security/."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import HandOffReceiver
from tests.e2e.servers import running_assistant


@pytest.fixture(scope="session")
def receiver():
    receiver = HandOffReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def local(tmp_path_factory, receiver):
    workdir = tmp_path_factory.mktemp("security")
    with running_assistant(workdir, {"LIPTWITCH_HANDOFF_URL": receiver.url}) as running:
        running.workdir = workdir
        yield running
