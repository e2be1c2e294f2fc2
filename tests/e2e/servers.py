"""Starts the real action server and Rasa server for end-to-end tests, on free local ports."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from liptwitch.operations.cluster import Process, free_port, http_ok, wait_until_ready
from tests.helpers import REPO

VENV_BIN = REPO / ".venv" / "bin"
MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"
START_TIMEOUT = 240  # seconds; the Rasa server loads TensorFlow and the model

__all__ = ["MODEL", "START_TIMEOUT", "VENV_BIN", "Assistant", "Server", "free_port", "running_assistant"]


class Server(Process):
    """One server for the tests and benchmarks: the cluster's Process, ready when `health_url` answers."""

    def __init__(self, name: str, command: list[str], health_url: str, log: Path,
                 environment: dict[str, str] | None = None) -> None:
        super().__init__(name, command, log, lambda: http_ok(health_url),
                         {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
                          "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **(environment or {})})
        self.health_url = health_url

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        wait_until_ready([self], timeout)


class Assistant:
    """A running assistant: the Rasa server's base URL and the servers behind it."""

    def __init__(self, rasa: Server, actions: Server, url: str, page_port: int, rest_token: str | None = None,
                 tracker_db: Path | None = None) -> None:
        self.rasa, self.actions, self.url = rasa, actions, url
        self.tracker_db = tracker_db  # the SQLite tracker store the Rasa server writes
        self.rest_headers = {"Authorization": f"Bearer {rest_token}"} if rest_token else {}
        self.page_port = page_port  # serve the tests' chat page here: its origin is the one the chat socket allows

    def send(self, sender: str, message: str, **extra: object) -> list[dict]:
        response = requests.post(f"{self.url}/webhooks/rest/webhook", headers=self.rest_headers,
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
    # As `make run`: only the chat page's own origins may open the chat socket (liptwitch/channels/web.py).
    origins = f"http://127.0.0.1:{page_port},http://localhost:{page_port}"
    # As `make run`: the action server runs actions only for requests bearing the run's token.
    environment = {"LIPTWITCH_CORS_ORIGINS": origins, "LIPTWITCH_ACTION_TOKEN": secrets.token_hex(16),
                   **(environment or {})}
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
                         "  enable_selective_domain: true\n"
                         "  headers:\n    X-Action-Token: ${LIPTWITCH_ACTION_TOKEN}\n"
                         "nlg:\n  type: liptwitch.rasa_server.nlg.SlotValueNaturalLanguageGenerator\n"
                         "tracker_store:\n  type: liptwitch.rasa_server.tracker_store.CachedSQLTrackerStore\n"
                         f"  dialect: sqlite\n  db: {workdir / 'conversations.db'}\n")
    actions = Server("action server",
                     [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
                     f"http://127.0.0.1:{action_port}/health", workdir / "actions.log",
                     {"SANIC_HOST": "127.0.0.1", **environment})
    rasa = Server("Rasa server",
                  [str(VENV_BIN / "python"), "-m", "liptwitch.rasa_server", "run", "--model", str(MODEL),
                   "--interface", "127.0.0.1", "--port", str(rasa_port),
                   "--endpoints", str(endpoints), "--credentials", str(credentials),
                   "--cors", *environment["LIPTWITCH_CORS_ORIGINS"].split(",")],
                  f"http://127.0.0.1:{rasa_port}/", workdir / "rasa.log", environment)
    servers = [actions, rasa]
    try:
        for server in servers:
            server.start()
        wait_until_ready(servers, START_TIMEOUT)
        yield Assistant(rasa, actions, f"http://127.0.0.1:{rasa_port}", page_port,
                        environment.get("LIPTWITCH_REST_TOKEN"), workdir / "conversations.db")
    finally:
        for server in reversed(servers):
            server.stop()
