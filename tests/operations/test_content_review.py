"""Reviewed content (issue 20): where each answer comes from, a clinician's sign-off, and the review backlog."""

from __future__ import annotations

import datetime
import re
import shutil

import pytest

from liptwitch import settings
from liptwitch.core.knowledge_base import KnowledgeBaseError, load_knowledge_base
from liptwitch.core.review import NOT_REVIEWED, backlog, review_state, source_line
from liptwitch.tools.content_review import main

SIGNED_ON = "2026-03-10"


@pytest.fixture
def kb_copy(tmp_path):
    """The knowledge base in a folder of its own, to sign off and edit."""
    folder = tmp_path / "knowledge_base"
    shutil.copytree(settings.KNOWLEDGE_BASE_DIRECTORY, folder)
    return folder


def sign(folder, item="stress", on=SIGNED_ON, *extra):
    return main(["--knowledge-base", str(folder), "sign", item, "--by", "Dr Ada Reviewer", "--role", "GP",
                 "--on", on, *extra])


def check(folder, today, capsys):
    status = main(["--knowledge-base", str(folder), "check", "--today", today])
    return status, capsys.readouterr().out


def test_nothing_claims_a_review_nobody_made(kb):
    assert all(not review_state(kb, item).reviewed for item in kb.items.values())
    assert source_line(kb, ["stress"]).endswith(f" · {NOT_REVIEWED}")


def test_an_answer_names_its_sources_in_one_short_line(kb):
    assert source_line(kb, ["caffeine"]) == ("Source: Lip twitching article (original); Lip twitching article "
                                             f"(reworded) · {NOT_REVIEWED}")
    # A public page is named by its publisher and page, not the whole title.
    assert source_line(kb, ["fear_als"]).startswith("Source: NHS, Twitching eyes and muscles")
    many = source_line(kb, ["stress", "fear_als", "child", "pregnancy"])
    assert "more)" in many and len(many) < 160  # one line on a phone
    assert source_line(kb, []) is None


def test_a_sign_off_shows_on_the_answer_and_editing_the_text_clears_it(kb_copy, capsys):
    assert sign(kb_copy) == 0
    kb = load_knowledge_base(kb_copy)
    state = review_state(kb, kb.items["stress"])
    assert state.reviewed and state.review.by == "Dr Ada Reviewer" and state.review.role == "GP"
    assert state.review.next_review == datetime.date(2027, 3, 10)  # a year on unless said otherwise
    assert source_line(kb, ["stress"]).endswith(" · reviewed March 2026")
    assert source_line(kb, ["stress", "fatigue"]).endswith(f" · {NOT_REVIEWED}")  # the weakest state wins
    # Any edit of what was approved clears the sign-off: the answer says "not yet clinically reviewed" again.
    causes = kb_copy / "causes.yml"
    causes.write_text(causes.read_text(encoding="utf-8").replace(
        "Yes, stress and anxiety are common triggers.", "Yes, stress and anxiety are very common triggers."),
        encoding="utf-8")
    kb = load_knowledge_base(kb_copy)
    state = review_state(kb, kb.items["stress"])
    assert not state.reviewed and state.cleared
    status, out = check(kb_copy, "2026-04-01", capsys)
    assert status == 0 and "cleared   stress" in out


def test_the_backlog_lists_what_is_due_and_fails_on_what_is_overdue(kb_copy, capsys):
    assert sign(kb_copy, "stress", SIGNED_ON, "--next", "2026-12-20") == 0
    capsys.readouterr()
    status, out = check(kb_copy, "2026-12-01", capsys)  # due within 30 days: listed, not a failure
    assert status == 0 and "due soon  stress: review due 2026-12-20" in out
    status, out = check(kb_copy, "2026-12-21", capsys)
    assert status == 1 and "OVERDUE   stress: review was due 2026-12-20" in out and "FAILED" in out
    status, out = check(kb_copy, "2026-06-01", capsys)
    assert status == 0 and "stress" not in out


def test_an_unsourced_item_fails_the_check(kb, tmp_path):
    report = backlog(kb, datetime.date(2026, 12, 3), seeds=tmp_path)  # no seed article where the sources say
    assert report.failed and ("stress", "A: 000_e09508e26a43c13a.txt is not in " + str(tmp_path)) in report.unsourced
    assert not backlog(kb, datetime.date(2026, 12, 3), seeds=settings.SEEDS_DIRECTORY).failed


def test_a_sign_off_needs_a_real_item_name_and_role(kb_copy, capsys):
    assert sign(kb_copy, "no_such_item") == 2
    assert "unknown item 'no_such_item'" in capsys.readouterr().err
    assert main(["--knowledge-base", str(kb_copy), "sign", "stress", "--by", " ", "--role", "GP"]) == 2
    assert "name (BY) and role (ROLE)" in capsys.readouterr().err
    assert load_knowledge_base(kb_copy).reviews == {}  # nothing was written


@pytest.mark.parametrize("field, value, message", [
    ("signed_on", "10/03/2026", "must be a date written YYYY-MM-DD"),
    ("text_sha256", "abc", "SHA-256"),
    ("item", "nothing_like_it", "unknown id 'nothing_like_it'"),
])
def test_a_broken_sign_off_names_the_file_entry_and_field(kb_copy, field, value, message):
    assert sign(kb_copy) == 0
    reviews = kb_copy / "reviews.yml"
    written = reviews.read_text(encoding="utf-8")
    reviews.write_text(re.sub(rf"(?m)^(  - |    ){field}: .*$", rf"\g<1>{field}: {value}", written), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as error:
        load_knowledge_base(kb_copy)
    assert "reviews.yml" in str(error.value) and field in str(error.value) and message in str(error.value)


def test_a_public_page_must_say_when_it_was_read(kb_copy):
    sources = kb_copy / "sources.yml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text.replace("    read: 2026-12-03\n", "", 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as error:
        load_knowledge_base(kb_copy)
    assert "sources.yml" in str(error.value) and "read" in str(error.value)
