"""Delete stored conversations: those nobody has written to for a while, or one person's on request.

Rasa's SQL tracker store keeps every event of every conversation forever, and conversations about
health are sensitive. Run from cron (or by hand) with the Rasa server's own endpoints file:

    python -m liptwitch.operations.retention                       # silent for 30 days (or $LIPTWITCH_RETENTION)
    python -m liptwitch.operations.retention --older-than 90d --dry-run    # how many would go; nothing deleted
    python -m liptwitch.operations.retention --forget 'whatsapp:+447700900123'    # one person's request to be forgotten
    python -m liptwitch.operations.retention --endpoints deploy/endpoints.yml ...  # the cluster's PostgreSQL

`--older-than AGE` (`30d`, `12h`, `90m`) deletes every conversation whose LAST event is older than
AGE: all its events, of every session; a conversation that began long ago but went on recently is
kept whole. `--forget ID` (repeatable) deletes every event of that conversation. Deletions are made in
transactions of up to 500 conversations, each conversation whole or not at all. `--dry-run` prints the
counts and deletes nothing. Only counts are printed, never a conversation id or a message.

The conversation id is the `sender_id` as stored in the `events` table, which each channel chooses:
the web chat's session id (chosen by the server; shown nowhere yet), the phone number for SMS
("+447700900123") and WhatsApp ("whatsapp:+447700900123"), the chat id for Telegram.

The `tracker_store` section is read with Rasa's own reader (every `${VAR}` in the file must be set,
as for `rasa run`) and opened with Rasa's own class, so SQLite and PostgreSQL both work. A relative
SQLite path is taken from the current directory, as Rasa takes it: run from the project directory.

Exit status: 0 done (also when nothing matched), 1 the database could not be reached or refused,
2 a bad argument or endpoints file (one line on stderr says which).

Deleting is not coordinated with the Rasa servers' turns: a turn in progress at the very moment its
conversation is deleted saves the whole conversation back (Rasa writes every event a tracker holds
when the database has none). A conversation silent for AGE has no turn in progress; for --forget,
check with --dry-run afterwards, and forget again if the person was still writing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

if __name__ == "__main__":
    # A cron job's output should be the counts or the error, not SQLAlchemy's 2.0 banner, which Rasa 3.6's
    # SQL tracker store sets off and which only this variable, set before SQLAlchemy is imported, silences.
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import sqlalchemy as sa  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, validate_port  # noqa: E402
from rasa.shared.exceptions import RasaException  # noqa: E402
from rasa.shared.utils.common import class_from_module_path  # noqa: E402
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from liptwitch import settings

RETENTION_VARIABLE = settings.RETENTION.name
DEFAULT_RETENTION = "30d"
DEFAULT_ENDPOINTS = "endpoints.yml"
BATCH_SIZE = 500  # conversations per transaction: short locks, and well under SQLite's bound-parameter limit
CONNECT_TIMEOUT_SECONDS = 10

_AGE = re.compile(r"^\s*(\d+)\s*([dhm])\s*$", re.IGNORECASE)
_AGE_UNITS = {"d": ("days", "day"), "h": ("hours", "hour"), "m": ("minutes", "minute")}
# Rasa's own tracker store types that are not SQL (`sql` is, and so is any subclass of SQLTrackerStore).
_NOT_SQL_TYPES = {"redis", "mongod", "dynamo"}


class UsageError(Exception):
    """A bad argument or endpoints file: exit 2, with this message."""


class DatabaseError(Exception):
    """The database could not be reached or refused a statement: exit 1, with this message."""


@dataclass(frozen=True)
class Deleted:
    conversations: int
    events: int


def parse_age(text: str) -> timedelta:
    """`30d`, `12h` or `90m` as a duration; anything else (or zero) is a UsageError naming the forms."""
    match = _AGE.match(text)
    if not match:
        raise UsageError(f"'{text}' is not an age: write a whole number and d, h or m, such as 30d, 12h or 90m")
    amount, unit = int(match[1]), match[2].lower()
    if amount == 0:
        raise UsageError(f"'{text}' would delete every conversation, even those going on now: give an age above 0")
    return timedelta(**{_AGE_UNITS[unit][0]: amount})


def describe_age(age: timedelta) -> str:
    """The age as people say it: '30 days', '12 hours', '90 minutes'."""
    minutes = int(age.total_seconds() // 60)
    for unit, size in (("d", 24 * 60), ("h", 60), ("m", 1)):
        if minutes % size == 0:
            amount = minutes // size
            plural, singular = _AGE_UNITS[unit]
            return f"{amount} {singular if amount == 1 else plural}"
    raise AssertionError("an age is a whole number of minutes")


# --- Reading the endpoints file and connecting, with Rasa's own reader and class ------------------------


def read_tracker_store_config(endpoints_file: str | Path) -> EndpointConfig:
    path = Path(endpoints_file)
    # Checked here: Rasa's read_endpoints_from_path would fall back to ./endpoints.yml for a missing file,
    # and a retention job must never delete from a database it was not pointed at.
    if not path.is_file():
        raise UsageError(f"endpoints file {path} does not exist (or is not a file): pass --endpoints FILE")
    try:
        config = read_endpoint_config(str(path), endpoint_type="tracker_store")
    except OSError as error:
        raise UsageError(f"endpoints file {path} cannot be read: {error.strerror or error}") from error
    except (RasaException, ValueError) as error:  # YAML syntax, not a mapping, an unset ${VAR}
        raise UsageError(f"endpoints file {path} cannot be read: {_one_line(error)}") from error
    if config is None:
        raise UsageError(f"endpoints file {path} has no tracker_store section: nothing is stored to delete from")
    return config


def _is_sql_tracker_store(config: EndpointConfig) -> bool:
    kind = (config.type or "").strip()
    if kind.lower() == "sql":
        return True
    if not kind or kind.lower() in _NOT_SQL_TYPES:
        return False
    try:
        store_class = class_from_module_path(kind)
    except (ImportError, AttributeError) as error:
        raise UsageError(f"tracker_store type '{kind}' cannot be imported: {_one_line(error)}") from error
    return isinstance(store_class, type) and issubclass(store_class, SQLTrackerStore)


def _check_database_reachable(config: EndpointConfig) -> None:
    """Fail fast: Rasa's SQLTrackerStore retries an unreachable database every 5 seconds, forever."""
    settings = config.kwargs
    dialect = str(settings.get("dialect", "sqlite"))
    try:
        port = validate_port(settings.get("port"))
    except RasaException as error:
        raise UsageError(f"tracker_store port: {error}") from error
    database = settings.get("db", "rasa.db")
    if dialect == "sqlite" and not (config.url and "://" in config.url):
        # SQLite would create an empty file instead, and the job would report nothing to delete.
        if not Path(str(database)).is_file():
            raise UsageError(f"tracker_store db {database} does not exist (relative to {Path.cwd()}): "
                             "run from the directory the Rasa server runs in, or fix the endpoints file")
        return
    url = SQLTrackerStore.get_db_url(dialect, config.url, port, database, settings.get("username"),
                                     settings.get("password"), settings.get("login_db"), settings.get("query"))
    try:
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if dialect.startswith("postgresql") else {}
        engine = sa.create_engine(url, connect_args=connect_args)
        with engine.connect():
            pass
        engine.dispose()
    except SQLAlchemyError as error:
        raise DatabaseError(f"cannot connect to the {dialect} database '{database}' at "
                            f"{config.url}:{port or 'default port'}: {_database_message(error)}") from error


def open_tracker_store(endpoints_file: str | Path) -> SQLTrackerStore:
    """The SQL tracker store the endpoints file names, as Rasa itself would create it."""
    config = read_tracker_store_config(endpoints_file)
    if not _is_sql_tracker_store(config):
        raise UsageError(f"tracker_store type '{config.type or 'in memory'}' in {endpoints_file} is not an SQL "
                         "tracker store: only conversations kept in SQL (SQLite, PostgreSQL) can be deleted here")
    _check_database_reachable(config)
    try:
        store = TrackerStore.create(config)
    except TypeError as error:  # a setting the class does not take
        raise UsageError(f"tracker_store in {endpoints_file}: {error}") from error
    except (RasaException, SQLAlchemyError) as error:
        raise DatabaseError(f"cannot open the tracker store: {_database_message(error)}") from error
    if not isinstance(store, SQLTrackerStore):  # Rasa falls back to memory on some errors
        raise UsageError(f"tracker_store in {endpoints_file} did not open as an SQL tracker store")
    return store


# --- Deleting ----------------------------------------------------------------------------------------


def delete_conversations_older_than(store: SQLTrackerStore, age: timedelta, *, dry_run: bool = False,
                                    now: float | None = None, batch_size: int = BATCH_SIZE) -> Deleted:
    """Delete every conversation whose last event is older than `age` (all its events, every session)."""
    cutoff = (time.time() if now is None else now) - age.total_seconds()
    event = store.SQLEvent
    with store.session_scope() as session:
        stale = (session.query(event.sender_id, sa.func.count(event.id)).group_by(event.sender_id)
                 .having(sa.func.max(event.timestamp) < cutoff).all())
    if dry_run:
        return Deleted(len(stale), sum(count for _, count in stale))
    conversations = events = 0
    sender_ids = [sender_id for sender_id, _ in stale]
    for start in range(0, len(sender_ids), batch_size):
        with store.session_scope() as session:
            # Asked again inside the transaction: a person may have written since the first look.
            still_stale = [sender_id for (sender_id,) in (
                session.query(event.sender_id).filter(event.sender_id.in_(sender_ids[start:start + batch_size]))
                .group_by(event.sender_id).having(sa.func.max(event.timestamp) < cutoff))]
            if still_stale:
                events += session.query(event).filter(event.sender_id.in_(still_stale)).delete(
                    synchronize_session=False)
                conversations += len(still_stale)
            session.commit()
    return Deleted(conversations, events)


def forget_conversation(store: SQLTrackerStore, conversation_id: str, *, dry_run: bool = False) -> int:
    """Delete every event of one conversation; the number of events deleted (or that would be)."""
    event = store.SQLEvent
    with store.session_scope() as session:
        matching = session.query(event).filter(event.sender_id == conversation_id)
        if dry_run:
            return matching.count()
        deleted = matching.delete(synchronize_session=False)
        session.commit()
        return deleted


# --- Command line ------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m liptwitch.operations.retention",
                     description="Delete stored conversations that nobody wrote to for a while, or one "
                                 "person's conversation on request. Prints counts only.")
    parser.add_argument("--endpoints", default=DEFAULT_ENDPOINTS, metavar="FILE",
                        help=f"Rasa endpoints file whose tracker_store is used (default: {DEFAULT_ENDPOINTS})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--older-than", metavar="AGE", type=_age_argument,
                      help=f"delete conversations whose last event is older than AGE: 30d, 12h, 90m "
                           f"(default: ${RETENTION_VARIABLE}, else {DEFAULT_RETENTION})")
    mode.add_argument("--forget", metavar="CONVERSATION_ID", action="append", type=_conversation_id_argument,
                      help="delete every event of this conversation (the sender_id as stored: a phone number "
                           "for SMS, 'whatsapp:+44...' for WhatsApp, the chat id for Telegram); repeatable")
    parser.add_argument("--dry-run", action="store_true", help="print what would be deleted; delete nothing")
    return parser


def _age_argument(text: str) -> timedelta:
    try:
        return parse_age(text)
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _conversation_id_argument(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a conversation id cannot be empty")
    return text


def _retention_from_environment(environ: Mapping[str, str]) -> timedelta:
    text = settings.RETENTION.read(environ)
    try:
        return parse_age(text)
    except UsageError as error:
        raise UsageError(f"{RETENTION_VARIABLE}: {error}") from error


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def run(args: argparse.Namespace, environ: Mapping[str, str], say: Callable[[str], None] = print) -> None:
    """Does what the arguments ask, saying what was done as it goes (a later failure keeps earlier lines)."""
    age = None if args.forget else (args.older_than or _retention_from_environment(environ))
    store = open_tracker_store(args.endpoints)
    try:
        if args.forget:
            verb = "would delete" if args.dry_run else "deleted"
            for number, conversation_id in enumerate(args.forget, start=1):
                # Named by position only: the id is a phone number or chat id, which logs must not keep.
                count = forget_conversation(store, conversation_id, dry_run=args.dry_run)
                where = f"--forget #{number}"
                say(f"{where}: {verb} {_plural(count, 'event')}" if count
                    else f"{where}: no stored conversation has this id; nothing to delete")
        else:
            deleted = delete_conversations_older_than(store, age, dry_run=args.dry_run)
            verb = "Would delete" if args.dry_run else "Deleted"
            say(f"{verb} {_plural(deleted.conversations, 'conversation')} "
                f"({_plural(deleted.events, 'event')}) whose last event is older than {describe_age(age)}.")
    except SQLAlchemyError as error:
        raise DatabaseError(f"the database refused: {_database_message(error)}") from error
    finally:
        store.engine.dispose()
    if args.dry_run:
        say("Dry run: nothing was deleted.")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args, environ)
    except UsageError as error:
        print(f"python -m liptwitch.operations.retention: error: {error}", file=sys.stderr)
        return 2
    except DatabaseError as error:
        print(f"python -m liptwitch.operations.retention: error: {error}", file=sys.stderr)
        return 1
    return 0


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _database_message(error: BaseException) -> str:
    # Only the driver's first line: SQLAlchemy's own message adds the statement and its parameters,
    # which hold conversation ids.
    original: Any = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return f"{type(original).__name__}: {first_line}"


if __name__ == "__main__":
    # Rasa's imports turn deprecation warnings on (once each); they mean nothing to an operator.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    sys.exit(main())
