"""The web chat's session tokens: only a token this service signed gives back its conversation; the
signing key is created once, private, and shared by every server of the host; origins are checked."""

from __future__ import annotations

import re
import stat
import threading

import pytest
import yaml

from liptwitch.channels.web import (
    ORIGINS_VARIABLE,
    SECRET_VARIABLE,
    WebChatInput,
    allowed_origins,
    conversation_of,
    load_secret,
    new_conversation_id,
    token_for,
)
from tests.helpers import REPO

SECRET = b"k" * 64
OTHER_SECRET = b"j" * 64


def issued() -> tuple[str, str]:
    conversation_id = new_conversation_id()
    return conversation_id, token_for(conversation_id, SECRET)


def test_an_issued_token_gives_back_its_conversation_and_the_id_is_random_128_bits():
    conversation_id, token = issued()
    assert re.fullmatch(r"[0-9a-f]{32}", conversation_id)
    assert conversation_of(token, SECRET) == conversation_id
    assert token != conversation_id and conversation_id in token  # the id is the token's public half
    assert len({new_conversation_id() for _ in range(1000)}) == 1000


def test_a_tampered_token_is_refused():
    conversation_id, token = issued()
    signature = token.split(".")[1]
    flipped = signature[:10] + ("0" if signature[10] != "0" else "1") + signature[11:]
    assert conversation_of(f"{conversation_id}.{flipped}", SECRET) is None
    other_id = new_conversation_id()
    assert conversation_of(f"{other_id}.{signature}", SECRET) is None  # someone else's id, my signature
    assert conversation_of(f"{other_id}.{'0' * 64}", SECRET) is None


def test_a_token_signed_with_another_key_is_refused():
    conversation_id = new_conversation_id()
    assert conversation_of(token_for(conversation_id, OTHER_SECRET), SECRET) is None


@pytest.mark.parametrize("presented", [
    "victim-id",                                 # a plain id, as Rasa's channel accepted
    "0f" * 16,                                   # a bare conversation id, without its signature
    None, 42, {"session_id": "x"}, ["a"],        # not text at all
    "",
])
def test_anything_but_a_token_is_refused(presented):
    assert conversation_of(presented, SECRET) is None


def test_a_token_in_another_format_or_too_long_is_refused():
    conversation_id, token = issued()
    assert conversation_of(token.upper(), SECRET) is None
    assert conversation_of(f" {token}", SECRET) is None
    assert conversation_of(token.replace(".", ":"), SECRET) is None
    assert conversation_of(token + "0", SECRET) is None
    assert conversation_of(token + "\n", SECRET) is None
    assert conversation_of(token * 10_000, SECRET) is None


def test_the_key_file_is_created_private_and_reused(tmp_path):
    key_file = tmp_path / "build" / "web-session.key"
    first = load_secret({}, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    token = token_for("ab" * 16, first)
    again = load_secret({}, key_file)  # a restart, or the other Rasa server of the host
    assert again == first
    assert conversation_of(token, again) == "ab" * 16
    assert list(key_file.parent.iterdir()) == [key_file]  # no draft left behind


def test_servers_starting_together_share_one_key(tmp_path):
    key_file = tmp_path / "web-session.key"
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def start_server() -> None:
        start.wait()
        keys.append(load_secret({}, key_file))

    threads = [threading.Thread(target=start_server) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert keys[0] == key_file.read_text().strip().encode()


def test_the_environment_key_wins_and_must_be_long_enough(tmp_path):
    key_file = tmp_path / "web-session.key"
    assert load_secret({SECRET_VARIABLE: "s" * 40}, key_file) == b"s" * 40
    assert not key_file.exists()
    with pytest.raises(ValueError, match=f"{SECRET_VARIABLE} has 8 characters"):
        load_secret({SECRET_VARIABLE: "password"}, key_file)


def test_an_empty_key_file_says_what_to_do(tmp_path):
    key_file = tmp_path / "web-session.key"
    key_file.write_text("\n")
    with pytest.raises(ValueError, match="web-session.key holds no usable key.*delete it"):
        load_secret({}, key_file)


def test_origins_are_those_configured_and_any_only_when_said():
    assert allowed_origins({}) is None  # engine.io then accepts the server's own origin only
    assert allowed_origins({ORIGINS_VARIABLE: "*"}) == "*"
    assert allowed_origins({ORIGINS_VARIABLE: "http://localhost:8080, https://chat.example.org/"}) == [
        "http://localhost:8080", "https://chat.example.org"]  # browsers send an origin without a slash


@pytest.mark.parametrize("written", ["localhost:8080", "https://chat.example.org/chat", "http://a:1,*"])
def test_a_mistyped_origin_stops_with_what_to_write(written):
    with pytest.raises(ValueError, match=f"{ORIGINS_VARIABLE}: .* is not an origin; write scheme://host"):
        allowed_origins({ORIGINS_VARIABLE: written})


@pytest.mark.parametrize("credentials", ["credentials.yml", "deploy/credentials.yml"])
def test_both_credentials_files_run_the_web_chat_on_this_channel(credentials, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, "s" * 40)
    settings = yaml.safe_load((REPO / credentials).read_text())
    assert "socketio" not in settings  # Rasa's own channel would take any conversation id
    channel = WebChatInput.from_credentials(settings["liptwitch.channels.web.WebChatInput"])
    assert channel.name() == "socketio"  # the widget's path and /webhooks/socketio stay
    assert channel.session_persistence and channel.user_message_evt == "user_uttered"
