"""Starts the real action server and Rasa server for end-to-end tests, on free local ports."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.helpers import REPO

VENV_BIN = REPO / ".venv" / "bin"
MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"
START_TIMEOUT = 240  # seconds; the Rasa server loads TensorFlow and the model


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **(extra or {})}


class Server:
    def __init__(self, name: str, command: list[str], health_url: str, log: Path,
                 environment: dict[str, str] | None = None) -> None:
        self.name, self.command, self.health_url, self.log = name, command, health_url, log
        self.environment = environment
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        handle = self.log.open("a")
        self.process = subprocess.Popen(self.command, cwd=REPO, env=_environment(self.environment), stdout=handle,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start within {timeout} s; log in {self.log}")
            time.sleep(0.5)

    def ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            tail = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"the {self.name} stopped while starting; end of its log:\n{tail}")
        try:
            return requests.get(self.health_url, timeout=2).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


class Assistant:
    """A running assistant: the Rasa server's base URL and the servers behind it."""

    def __init__(self, rasa: Server, actions: Server, url: str, page_port: int) -> None:
        self.rasa, self.actions, self.url = rasa, actions, url
        self.page_port = page_port  # serve the tests' chat page here: its origin is the one the chat socket allows

    def send(self, sender: str, message: str, **extra: object) -> list[dict]:
        response = requests.post(f"{self.url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": message, **extra}, timeout=30)
        response.raise_for_status()
        return response.json()


@contextmanager
def running_assistant(workdir: Path, environment: dict[str, str] | None = None,
                      credentials: Path = REPO / "credentials.yml") -> Iterator[Assistant]:
    """The action server and the Rasa server, both with `environment`, Rasa with `credentials`."""
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` first")
    rasa_port, action_port, page_port = free_port(), free_port(), free_port()
    # As `make run`: only the chat page's own origins may open the chat socket (liptwitch/web_channel.py).
    origins = f"http://127.0.0.1:{page_port},http://localhost:{page_port}"
    environment = {"LIPTWITCH_CORS_ORIGINS": origins, **(environment or {})}
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
                         "  enable_selective_domain: true\n"
                         "nlg:\n  type: liptwitch.rasa_nlg.SlotValueNaturalLanguageGenerator\n"
                         "tracker_store:\n  type: liptwitch.tracker_store.CachedSQLTrackerStore\n"
                         f"  dialect: sqlite\n  db: {workdir / 'conversations.db'}\n")
    actions = Server("action server",
                     [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
                     f"http://127.0.0.1:{action_port}/health", workdir / "actions.log", environment)
    rasa = Server("Rasa server",
                  [str(VENV_BIN / "rasa"), "run", "--model", str(MODEL), "--port", str(rasa_port),
                   "--endpoints", str(endpoints), "--credentials", str(credentials),
                   "--cors", *environment["LIPTWITCH_CORS_ORIGINS"].split(",")],
                  f"http://127.0.0.1:{rasa_port}/", workdir / "rasa.log", environment)
    servers = [actions, rasa]
    try:
        for server in servers:
            server.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not all(server.ready() for server in servers):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the servers did not start within {START_TIMEOUT} s; logs in {workdir}")
            time.sleep(0.5)
        yield Assistant(rasa, actions, f"http://127.0.0.1:{rasa_port}", page_port)
    finally:
        for server in reversed(servers):
            server.stop()
