"""A local stand-in for the messaging platforms' APIs, and the platforms' webhook signatures.

The Rasa server under test sends its replies here (TELEGRAM_API_URL, SLACK_API_URL...) instead of to
the internet; every call is recorded, with its headers and its decoded body, for the tests to read.
It answers as each platform does, so the connectors see real-shaped responses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

# The secrets the test server runs with; a forged request is signed with anything else.
SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456:test-bot-token",
    "TELEGRAM_SECRET_TOKEN": "telegram-secret-for-tests",
    "SLACK_BOT_TOKEN": "xoxb-test-token",
    "SLACK_SIGNING_SECRET": "slack-signing-secret-for-tests",
    "MESSENGER_PAGE_ACCESS_TOKEN": "page-access-token-for-tests",
    "MESSENGER_APP_SECRET": "messenger-app-secret-for-tests",
    "MESSENGER_VERIFY_TOKEN": "messenger-verify-token",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "twilio-auth-token-for-tests",
    "LIPTWITCH_PUBLIC_URL": "https://lip-twitch.example.org",
}
TWILIO_WEBHOOK_URL = f"{SECRETS['LIPTWITCH_PUBLIC_URL']}/webhooks/twilio/webhook"


@dataclass
class Call:
    """One request a connector made to a platform's API."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict

    @property
    def recipient(self) -> str | None:
        body = self.body
        return str(body.get("chat_id") or body.get("channel") or body.get("To")
                   or (body.get("recipient") or {}).get("id"))


class FakePlatformApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[int]] = {}  # recipient -> statuses to answer its next calls with
        self.changed = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                url = urlsplit(self.path)
                if "json" in self.headers.get("Content-Type", ""):
                    body = json.loads(raw)
                else:
                    body = {key: values[0] for key, values in parse_qs(raw).items()}
                call = Call(url.path, parse_qs(url.query), dict(self.headers), body)
                with api.changed:
                    api.calls.append(call)
                    api.changed.notify_all()
                    planned = api.failures.get(call.recipient) or []
                    failure = planned.pop(0) if planned else None
                status, answer = (failure, {"ok": False, "error": "planned failure"}) if failure else \
                    api.answer(url.path, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def answer(path: str, body: dict) -> tuple[int, dict]:
        if path.startswith("/telegram/"):
            return 200, {"ok": True, "result": {"message_id": 1, "chat": {"id": body.get("chat_id")}}}
        if path.startswith("/slack/"):
            return 200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}
        if path.startswith("/graph/"):
            return 200, {"recipient_id": body["recipient"]["id"], "message_id": "m_test"}
        return 201, {"sid": "SM" + "0" * 32, "status": "queued", "to": body.get("To")}

    @property
    def environment(self) -> dict[str, str]:
        """What the Rasa server needs to talk to this API instead of the platforms."""
        return {**SECRETS, "TELEGRAM_API_URL": f"{self.url}/telegram", "SLACK_API_URL": f"{self.url}/slack/api",
                "MESSENGER_API_URL": f"{self.url}/graph/v19.0", "TWILIO_API_URL": f"{self.url}/twilio"}

    def wait_for(self, recipient: str, count: int = 1, timeout: float = 30) -> list[Call]:
        """The calls that send to `recipient`, once there are `count` of them and no more arrive for a
        moment (a reply may be several messages)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                seen = len(self.to(recipient))
                if seen >= count:
                    self.changed.wait(timeout=1.0)  # let any further part of the same reply arrive
                    if len(self.to(recipient)) == seen:
                        break
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(timeout=remaining)
        calls = self.to(recipient)
        assert len(calls) >= count, f"{len(calls)} call(s) to {recipient} within {timeout} s, wanted {count}"
        return calls

    def to(self, recipient: str) -> list[Call]:
        return [call for call in self.calls if call.recipient == recipient]

    def fail_next(self, recipient: str, *statuses: int) -> None:
        """Answer the next calls sending to `recipient` with these error statuses, one each."""
        with self.changed:
            self.failures[recipient] = list(statuses)

    def close(self) -> None:
        self.server.shutdown()


# --- signing, as each platform signs its webhook requests ----------------------------------------

def slack_headers(body: bytes, secret: str = SECRETS["SLACK_SIGNING_SECRET"], timestamp: int | None = None,
                  content_type: str = "application/json") -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}",
            "Content-Type": content_type}


def messenger_headers(body: bytes, secret: str = SECRETS["MESSENGER_APP_SECRET"]) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def twilio_headers(params: dict[str, str], token: str = SECRETS["TWILIO_AUTH_TOKEN"],
                   url: str = TWILIO_WEBHOOK_URL) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params),
            "Content-Type": "application/x-www-form-urlencoded"}


def telegram_headers(secret: str = SECRETS["TELEGRAM_SECRET_TOKEN"]) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
