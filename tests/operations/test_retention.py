"""Deleting stored conversations: those silent for longer than the retention age go whole, the others stay
intact; one person's conversation can be forgotten; a dry run deletes nothing; only counts are printed."""

from __future__ import annotations

import asyncio
import re
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from liptwitch.operations.retention import (
    UsageError,
    delete_conversations_older_than,
    describe_age,
    forget_conversation,
    main,
    open_tracker_store,
    parse_age,
    read_tracker_store_config,
)
from tests.helpers import REPO

DAY = 24 * 3600
NOW = time.time()
PHONE = "whatsapp:+447700900123"
SECRET_TEXT = "my lip twitches since my divorce"


def session(start: float, *questions: str) -> list:
    """One session as Rasa stores it, its events a second apart from `start` (a time in seconds)."""
    events = [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start),
              ActionExecuted("action_listen", timestamp=start)]
    for number, question in enumerate(questions, start=1):
        at = start + number
        events += [UserUttered(question, {"name": "ask_cause", "confidence": 1.0}, timestamp=at),
                   BotUttered(f"answer to {question}", timestamp=at), ActionExecuted("action_listen", timestamp=at)]
    return events


def save(database: Path, sender: str, *sessions: list) -> int:
    """Saves a conversation through Rasa's own SQL tracker store; the number of its events."""
    events = [event for events in sessions for event in events]
    store = SQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(database))
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()
    return len(events)


def stored_event_counts(database: Path) -> dict[str, int]:
    """What the database holds, read with sqlite3 rather than the code under test."""
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id"))


@pytest.fixture
def database(tmp_path) -> Path:
    return tmp_path / "conversations.db"


@pytest.fixture
def conversations(database) -> dict[str, int]:
    """Silent for 40 days; recent; begun 90 days ago but written to 2 days ago; a phone number, 45 days ago."""
    return {
        "old-web-chat": save(database, "old-web-chat", session(NOW - 40 * DAY, SECRET_TEXT, "is it serious?")),
        "recent": save(database, "recent", session(NOW - 3600, "what causes it?")),
        "long-running": save(database, "long-running", session(NOW - 90 * DAY, "hi"),
                             session(NOW - 2 * DAY, "back again")),
        PHONE: save(database, PHONE, session(NOW - 45 * DAY, "coffee?")),
    }


@pytest.fixture
def endpoints(tmp_path, database) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text("tracker_store:\n  type: liptwitch.rasa_server.tracker_store.CachedSQLTrackerStore\n"
                    f"  dialect: sqlite\n  db: {database}\n")
    return path


def open_store(database: Path) -> SQLTrackerStore:
    return SQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(database))


# --- AGE ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, age", [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)),
                                       ("90m", timedelta(minutes=90)), (" 7D ", timedelta(days=7))])
def test_an_age_is_days_hours_or_minutes(text, age):
    assert parse_age(text) == age


@pytest.mark.parametrize("text", ["30", "d", "30 days", "-3d", "1.5h", "30s", "", "thirty days"])
def test_anything_else_is_refused_with_the_forms_it_takes(text):
    with pytest.raises(UsageError, match="such as 30d, 12h or 90m"):
        parse_age(text)


def test_an_age_of_zero_is_refused_as_it_would_delete_conversations_going_on_now():
    with pytest.raises(UsageError, match="every conversation"):
        parse_age("0h")


def test_the_age_is_said_as_people_say_it():
    assert [describe_age(parse_age(text)) for text in ("30d", "1d", "12h", "90m", "48h")] == \
        ["30 days", "1 day", "12 hours", "90 minutes", "2 days"]


# --- Deleting old conversations ----------------------------------------------------------------------------


def test_conversations_silent_for_longer_than_the_age_go_and_the_others_stay_intact(database, conversations):
    deleted = delete_conversations_older_than(open_store(database), timedelta(days=30))
    assert deleted.conversations == 2
    assert deleted.events == conversations["old-web-chat"] + conversations[PHONE]
    # The long-running one began 90 days ago but was written to 2 days ago: kept whole, both sessions.
    assert stored_event_counts(database) == {"recent": conversations["recent"],
                                             "long-running": conversations["long-running"]}


def test_many_conversations_are_deleted_batch_after_batch(database):
    for number in range(7):
        save(database, f"old-{number}", session(NOW - 40 * DAY, "hi"))
    save(database, "recent", session(NOW - 60, "hi"))
    deleted = delete_conversations_older_than(open_store(database), timedelta(days=30), batch_size=3)
    assert deleted.conversations == 7
    assert set(stored_event_counts(database)) == {"recent"}


def test_a_dry_run_counts_and_deletes_nothing(database, conversations):
    before = stored_event_counts(database)
    would = delete_conversations_older_than(open_store(database), timedelta(days=30), dry_run=True)
    assert (would.conversations, would.events) == (2, conversations["old-web-chat"] + conversations[PHONE])
    assert forget_conversation(open_store(database), "recent", dry_run=True) == conversations["recent"]
    assert stored_event_counts(database) == before


# --- Forgetting one person ---------------------------------------------------------------------------------


def test_forgetting_deletes_every_session_of_that_conversation_only(database, conversations):
    assert forget_conversation(open_store(database), "long-running") == conversations["long-running"]
    remaining = stored_event_counts(database)
    assert "long-running" not in remaining
    assert remaining == {sender: count for sender, count in conversations.items() if sender != "long-running"}


def test_forgetting_an_unknown_id_deletes_nothing_and_says_so(database, conversations, endpoints, capsys):
    before = stored_event_counts(database)
    assert main(["--endpoints", str(endpoints), "--forget", "whatsapp:+440000000000"], environ={}) == 0
    assert stored_event_counts(database) == before
    assert "no stored conversation has this id" in capsys.readouterr().out


def test_forget_on_the_command_line_names_conversations_by_position_not_by_phone_number(
        database, conversations, endpoints, capsys):
    assert main(["--endpoints", str(endpoints), "--forget", PHONE, "--forget", "recent"], environ={}) == 0
    out = capsys.readouterr().out
    assert f"--forget #1: deleted {conversations[PHONE]} events" in out
    assert f"--forget #2: deleted {conversations['recent']} events" in out
    assert "+44" not in out and "recent" not in out
    assert set(stored_event_counts(database)) == {"old-web-chat", "long-running"}


def test_forget_with_dry_run_deletes_nothing(database, conversations, endpoints, capsys):
    assert main(["--endpoints", str(endpoints), "--forget", PHONE, "--dry-run"], environ={}) == 0
    assert f"would delete {conversations[PHONE]} events" in capsys.readouterr().out
    assert stored_event_counts(database)[PHONE] == conversations[PHONE]


def test_the_age_comes_from_the_environment_and_is_30_days_without_it(database, conversations, endpoints, capsys):
    assert main(["--endpoints", str(endpoints)], environ={}) == 0
    assert capsys.readouterr().out.startswith("Deleted 2 conversations")
    assert main(["--endpoints", str(endpoints)], environ={"LIPTWITCH_RETENTION": "1d"}) == 0
    assert capsys.readouterr().out.startswith("Deleted 1 conversation ")
    assert set(stored_event_counts(database)) == {"recent"}


# --- As an operator runs it ----------------------------------------------------------------------------------


def run_command(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "liptwitch.operations.retention", *arguments], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_cron_job_deletes_old_conversations_and_prints_counts_only(database, conversations, endpoints):
    result = run_command("--endpoints", str(endpoints), "--older-than", "30d", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    expected = conversations["old-web-chat"] + conversations[PHONE]
    assert result.stdout == f"Deleted 2 conversations ({expected} events) whose last event is older than 30 days.\n"
    assert result.stderr == ""  # nothing for cron to mail but the counts
    assert set(stored_event_counts(database)) == {"recent", "long-running"}


def test_a_bad_age_on_the_command_line_is_one_line_and_exit_code_2(database, conversations, endpoints):
    result = run_command("--endpoints", str(endpoints), "--older-than", "30 days", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "'30 days' is not an age" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored_event_counts(database) == conversations


# --- Bad input: one line naming what is wrong, exit code 2 -----------------------------------------------


def error_of(capsys, argv: list[str], environ: dict[str, str] | None = None) -> str:
    try:
        status = main(argv, environ={} if environ is None else environ)
    except SystemExit as exit_:  # argparse's own refusals
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1, err
    return err


def test_bad_arguments_are_refused_with_what_is_wrong(tmp_path, endpoints, database, conversations, capsys):
    assert "argument --older-than: 'soon' is not an age" in error_of(capsys, ["--older-than", "soon"])
    assert "not allowed with argument" in error_of(capsys, ["--forget", PHONE, "--older-than", "30d"])
    assert "a conversation id cannot be empty" in error_of(capsys, ["--forget", " "])
    assert "LIPTWITCH_RETENTION: '30' is not an age" in error_of(capsys, ["--endpoints", str(endpoints)],
                                                                  environ={"LIPTWITCH_RETENTION": "30"})
    assert stored_event_counts(database) == conversations


def test_bad_endpoints_files_are_refused_with_what_is_wrong(tmp_path, capsys):
    missing = tmp_path / "nowhere.yml"
    assert f"endpoints file {missing} does not exist" in error_of(capsys, ["--endpoints", str(missing)])
    no_store = tmp_path / "no_store.yml"
    no_store.write_text("action_endpoint:\n  url: http://localhost:5055/webhook\n")
    assert "has no tracker_store section" in error_of(capsys, ["--endpoints", str(no_store)])
    redis = tmp_path / "redis.yml"
    redis.write_text("tracker_store:\n  type: redis\n  url: localhost\n")
    assert "tracker_store type 'redis'" in error_of(capsys, ["--endpoints", str(redis)])
    broken = tmp_path / "broken.yml"
    broken.write_text("tracker_store: [\n")
    assert f"endpoints file {broken} cannot be read" in error_of(capsys, ["--endpoints", str(broken)])
    unset = tmp_path / "unset.yml"
    unset.write_text("tracker_store:\n  type: sql\n  dialect: postgresql\n  url: ${LIPTWITCH_TEST_UNSET_HOST}\n")
    assert "LIPTWITCH_TEST_UNSET_HOST" in error_of(capsys, ["--endpoints", str(unset)])


def test_a_missing_sqlite_database_is_an_error_not_a_new_empty_database(tmp_path, monkeypatch, capsys):
    # Run from the wrong directory, a relative path finds nothing: that must not look like "nothing to delete".
    monkeypatch.chdir(tmp_path)
    (tmp_path / "build").mkdir()
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: sql\n  dialect: sqlite\n  db: build/conversations.db\n")
    error = error_of(capsys, ["--endpoints", str(endpoints)])
    assert f"tracker_store db build/conversations.db does not exist (relative to {tmp_path})" in error
    assert not (tmp_path / "build" / "conversations.db").exists()


def test_an_unreachable_database_fails_at_once_with_exit_code_1(tmp_path, capsys):
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: liptwitch.rasa_server.tracker_store.CachedSQLTrackerStore\n"
                         f"  dialect: postgresql\n  url: 127.0.0.1\n  port: {port}\n  db: rasa\n"
                         "  username: rasa\n  password: not-to-be-printed\n")
    started = time.monotonic()
    assert main(["--endpoints", str(endpoints)], environ={}) == 1
    err = capsys.readouterr().err
    assert time.monotonic() - started < 30  # Rasa's own class would retry every 5 seconds, forever
    assert f"cannot connect to the postgresql database 'rasa' at 127.0.0.1:{port}" in err
    assert "not-to-be-printed" not in err


def test_the_projects_endpoints_files_both_name_an_sql_tracker_store(monkeypatch, tmp_path):
    # Rasa's reader needs every ${VAR} of the file set, as when the cluster starts.
    for variable in re.findall(r"\$\{(\w+)\}", (REPO / "deploy" / "endpoints.yml").read_text()):
        monkeypatch.setenv(variable, "5432" if variable.endswith("PORT") else "x")
    local = read_tracker_store_config(REPO / "endpoints.yml")
    cluster = read_tracker_store_config(REPO / "deploy" / "endpoints.yml")
    assert local.kwargs["dialect"] == "sqlite" and cluster.kwargs["dialect"] == "postgresql"
    assert cluster.kwargs["password"] == "x"  # ${VAR} filled in from the environment, as Rasa does
    # And the local one opens as the project's SQL tracker store (in a copy pointing at a scratch database).
    save(tmp_path / "conversations.db", "someone", session(NOW, "hi"))
    copy = tmp_path / "endpoints.yml"
    copy.write_text((REPO / "endpoints.yml").read_text().replace("build/conversations.db",
                                                                   str(tmp_path / "conversations.db")))
    store = open_tracker_store(copy)
    assert isinstance(store, SQLTrackerStore) and type(store).__name__ == "CachedSQLTrackerStore"
