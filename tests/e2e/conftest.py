"""One running assistant for all end-to-end tests: the web chat, REST and every messaging platform, as
`make run-platforms` runs it, with its hand-off webhook and the platforms' APIs on local servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.platform_api import FakePlatformApi
from tests.e2e.servers import running_assistant
from tests.helpers import REPO


class HandOffReceiver:
    """A real HTTP server on 127.0.0.1 that records what is posted to it."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.headers: list[dict] = []
        received = threading.Condition()
        self.received = received
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with received:
                    receiver.records.append(json.loads(body))
                    receiver.headers.append(dict(self.headers))
                    received.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hand-off"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, conversation_id: str, timeout: float = 20) -> dict:
        with self.received:
            self.received.wait_for(lambda: any(r["conversation_id"] == conversation_id for r in self.records),
                                   timeout=timeout)
        matching = [r for r in self.records if r["conversation_id"] == conversation_id]
        assert matching, f"no hand-off record for {conversation_id} within {timeout} s"
        return matching[-1]

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def hand_off_receiver():
    receiver = HandOffReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def platform_api():
    api = FakePlatformApi()
    yield api
    api.close()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, hand_off_receiver, platform_api):
    workdir = tmp_path_factory.mktemp("servers")
    environment = {"LIPTWITCH_HANDOFF_URL": hand_off_receiver.url, "LIPTWITCH_HANDOFF_TOKEN": "test-token",
                   "LIPTWITCH_REST_TOKEN": "test-rest-token", **platform_api.environment}
    # The credentials as `make run-platforms` writes them, from deploy/credentials.yml.
    credentials = workdir / "credentials.yml"
    selected = subprocess.run([sys.executable, "-m", "liptwitch.tools.channel_credentials",
                               str(REPO / "deploy" / "credentials.yml"), str(credentials)],
                              env={**os.environ, **environment}, cwd=REPO, capture_output=True, text=True, check=True)
    assert "left out" not in selected.stdout, selected.stdout
    with running_assistant(workdir, environment, credentials) as running:
        yield running
