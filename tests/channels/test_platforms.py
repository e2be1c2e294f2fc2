"""The messaging connectors' signature checks, and the credentials `make run-platforms` runs with."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys

import pytest
import yaml
from twilio.request_validator import RequestValidator

from liptwitch.channels.messenger import Messenger, messenger_signature_matches
from liptwitch.channels.slack import Slack
from liptwitch.channels.telegram import Telegram, telegram_secret_matches
from liptwitch.channels.twilio import Twilio, twilio_signature_matches, twilio_signed_url
from liptwitch.tools.channel_credentials import select
from tests.helpers import REPO

DEPLOY_CREDENTIALS = (REPO / "deploy" / "credentials.yml").read_text()
TELEGRAM_ONLY = {"TELEGRAM_BOT_TOKEN": "1:token", "TELEGRAM_SECRET_TOKEN": "secret"}


def test_telegram_secret_token_must_match_exactly():
    assert telegram_secret_matches("s3cret", "s3cret")
    assert not telegram_secret_matches("s3cret", "s3cre")
    assert not telegram_secret_matches("s3cret", None)
    assert not telegram_secret_matches("", "")  # no secret configured: nothing gets in


def test_messenger_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"object":"page","entry":[]}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert messenger_signature_matches("app-secret", body, good)
    assert not messenger_signature_matches("app-secret", body + b" ", good)
    assert not messenger_signature_matches("other-secret", body, good)
    assert not messenger_signature_matches("app-secret", body, "sha1=" + "0" * 40)
    assert not messenger_signature_matches("app-secret", body, None)


def test_twilio_signature_covers_the_public_url_and_every_field():
    url, params = "https://bot.example.org/webhooks/twilio/webhook", {"From": "+447700900123", "Body": "hi"}
    signature = RequestValidator("token").compute_signature(url, params)
    assert twilio_signature_matches("token", url, params, signature)
    assert not twilio_signature_matches("token", url.replace("bot.", "evil."), params, signature)
    assert not twilio_signature_matches("token", url, {**params, "Body": "hello"}, signature)
    assert not twilio_signature_matches("token", url, params, None)


def test_twilio_checks_the_public_url_or_the_url_the_proxy_received():
    public = "https://bot.example.org/webhooks/twilio/webhook"
    assert twilio_signed_url(public, "/webhooks/twilio/webhook", "", "http", "127.0.0.1:5005") == public
    assert twilio_signed_url(public, "/webhooks/twilio/webhook", "a=1", "http", "x") == f"{public}?a=1"
    # Without a public URL: what nginx says it received, else what the server received.
    assert twilio_signed_url(None, "/webhooks/twilio/webhook", "", "http", "127.0.0.1:5005", "https",
                                      "bot.example.org") == public
    assert twilio_signed_url(None, "/webhooks/twilio/webhook", "", "http",
                                      "127.0.0.1:5005") == "http://127.0.0.1:5005/webhooks/twilio/webhook"


def test_a_platform_without_its_variables_is_left_out_and_says_what_it_needs():
    selected, report = select(DEPLOY_CREDENTIALS, {"SLACK_BOT_TOKEN": "xoxb-1"})
    # The web chat always runs; REST only with its token; no messaging platform without its variables.
    assert set(yaml.safe_load(selected)) == {"liptwitch.channels.web.WebChatInput"}
    assert any(line.startswith("Rest is left out: set LIPTWITCH_REST_TOKEN") for line in report)
    assert ('Slack is left out: set SLACK_SIGNING_SECRET to turn it on (docs/channels.md).'
            in report)
    assert "Twilio is left out: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN to turn it on" in " ".join(report)


def test_rest_runs_beside_the_platforms_only_with_its_token():
    selected, _ = select(DEPLOY_CREDENTIALS, {"LIPTWITCH_REST_TOKEN": "t" * 32})
    assert yaml.safe_load(selected)["liptwitch.channels.rest.Rest"] == {"token": "${LIPTWITCH_REST_TOKEN}"}


def test_a_platform_with_its_variables_is_kept_with_the_secrets_left_in_the_environment():
    selected, report = select(DEPLOY_CREDENTIALS, {**TELEGRAM_ONLY, "LIPTWITCH_PUBLIC_URL": "https://bot.example.org/"})
    assert "liptwitch.channels.telegram.Telegram:" in selected and "${TELEGRAM_BOT_TOKEN}" in selected
    assert "1:token" not in selected
    assert "Telegram is on: its webhook is https://bot.example.org/webhooks/telegram/webhook" in report


@pytest.mark.parametrize("connector, label", [(Telegram, "Telegram"), (Slack, "Slack"),
                                              (Messenger, "Messenger"), (Twilio, "Twilio")])
def test_the_printed_webhook_is_where_each_connector_listens(connector, label):
    assert f"liptwitch.channels.{label.lower()}.{label}:" in DEPLOY_CREDENTIALS
    assert connector.name() == label.lower()  # Rasa serves a channel at /webhooks/<name>/webhook


def test_rasa_starts_its_channels_from_the_selected_credentials(tmp_path):
    """What `make run-platforms` does with only Telegram set: Rasa loads the file, no crash."""
    target = tmp_path / "credentials.yml"
    environment = {"PATH": "/usr/bin:/bin", **TELEGRAM_ONLY}
    done = subprocess.run([sys.executable, "-m", "liptwitch.tools.channel_credentials",
                           str(REPO / "deploy" / "credentials.yml"), str(target)],
                          env=environment, cwd=REPO, capture_output=True, text=True, check=True)
    assert "Slack is left out" in done.stdout and "Telegram is on" in done.stdout
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; from rasa.core.run import create_http_input_channels as c; "
         "print(' '.join(ch.name() for ch in c(None, sys.argv[1])))", str(target)],
        env={**environment, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}, cwd=REPO,
        capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == ["socketio", "telegram"]  # no REST token, no REST channel


SERVER_FREEZE_CHECK = """
import gc, sys
from sanic import Sanic
from liptwitch.channels.rest import Rest

app = Sanic("freeze_check")
app.blueprint(Rest().blueprint(lambda message: None), url_prefix="/webhooks/rest")
loaded = [[object()] for _ in range(10000)]  # what loading a model leaves, as far as the collector can tell

async def report(app, loop):
    print("frozen", gc.get_freeze_count(), "still tracked", len(gc.get_objects()), flush=True)
    app.stop()

app.register_listener(report, "after_server_start")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


def test_the_server_freezes_what_loading_created_once_it_has_started(tmp_path):
    """After start-up the collector no longer walks the loaded objects (full collections paused turns 310 ms)."""
    from tests.e2e.servers import free_port

    script = tmp_path / "server.py"
    script.write_text(SERVER_FREEZE_CHECK)
    run = subprocess.run([sys.executable, str(script), str(free_port())], capture_output=True, text=True,
                         timeout=120, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    words = next(line for line in run.stdout.splitlines() if line.startswith("frozen")).split()
    frozen, tracked = int(words[1]), int(words[4])
    assert frozen > 10000 and tracked < frozen / 10, run.stdout + run.stderr
