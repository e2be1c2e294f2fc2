"""Clinical review of the knowledge base: record a sign-off, and list what is due (`make review`, `make check-kb`).

    python -m liptwitch.tools.content_review sign ITEM --by "Dr A. Name" --role "GP" [--on DATE] [--next DATE]
    python -m liptwitch.tools.content_review check [--today DATE] [--within 30]

`sign` records, in data/knowledge_base/reviews.yml, that a named reviewer approved the item's text as it is now: the
date, the next review date (a year on unless --next says otherwise) and a SHA-256 hash of that text. Editing the item
afterwards clears the sign-off. Only a real reviewer's sign-off may be recorded: the command never signs for anyone.

`check` loads the whole knowledge base (any broken file is named by file, line, entry and field), then lists the items
overdue for review, due within --within days, edited since their sign-off and not yet reviewed. Exit status: 0 fine,
1 an item is overdue or unsourced, 2 a broken file or a bad argument. --today fixes the date (the tests use one, so
the suite never fails because time passed).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from liptwitch import settings
from liptwitch.core.knowledge_base import KnowledgeBaseError, load_knowledge_base
from liptwitch.core.review import DUE_WITHIN_DAYS, as_yaml_entry, backlog, sign_off

REVIEWS_FILE = "reviews.yml"
DEFAULT_REVIEW_INTERVAL = datetime.timedelta(days=365)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD") from None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="content_review", description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge-base", type=Path, default=settings.KNOWLEDGE_BASE_DIRECTORY)
    commands = parser.add_subparsers(dest="command", required=True)
    sign = commands.add_parser("sign", help="record a reviewer's sign-off of one item's current text")
    sign.add_argument("item")
    sign.add_argument("--by", required=True, help="the reviewer's name")
    sign.add_argument("--role", required=True, help="the reviewer's role (GP, pharmacist, nurse specialist...)")
    sign.add_argument("--on", type=_date, default=None, help="the day of the sign-off (default: today)")
    sign.add_argument("--next", type=_date, default=None, help="the next review date (default: a year on)")
    check = commands.add_parser("check", help="the review backlog; fails on overdue or unsourced items")
    check.add_argument("--today", type=_date, default=None, help="the date to check against (default: today)")
    check.add_argument("--within", type=int, default=DUE_WITHIN_DAYS, help="days ahead that count as due soon")
    check.add_argument("--seeds", type=Path, default=settings.SEEDS_DIRECTORY)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:  # argparse's usage errors: status 2, as documented
        return int(exit_.code or 0)
    try:
        kb = load_knowledge_base(args.knowledge_base)
    except KnowledgeBaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "check":
        report = backlog(kb, args.today or datetime.date.today(), args.seeds, args.within)
        print("\n".join(report.lines()))
        return 1 if report.failed else 0
    on = args.on or datetime.date.today()
    try:
        review = sign_off(kb, args.item, args.by, args.role, on, args.next or on + DEFAULT_REVIEW_INTERVAL)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = Path(args.knowledge_base) / REVIEWS_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else "kind: review\nitems:\n"
    text = text.replace("items: []", "items:")
    path.write_text(text.rstrip("\n") + "\n" + as_yaml_entry(review), encoding="utf-8")
    load_knowledge_base(args.knowledge_base)  # the file still loads (a broken write would fail here, loudly)
    print(f"Signed off '{review.item}' by {review.by} ({review.role}) on {review.signed_on}; next review "
          f"{review.next_review}. Text hash {review.text_sha256[:12]}...")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
