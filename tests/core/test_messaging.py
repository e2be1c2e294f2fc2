"""Replies shaped for each messaging platform: formatting, options, and splitting that never cuts a
sentence, nor an instruction of the emergency advice."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml

from liptwitch.core.answers import PARAGRAPH, render_item
from liptwitch.core.knowledge_base import load_knowledge_base
from liptwitch.core.messaging import (
    HTML,
    MESSENGER,
    NUMBERED_PROMPT,
    PLAIN,
    SLACK,
    SLACK_MRKDWN,
    SMS,
    TELEGRAM,
    WHATSAPP,
    WHATSAPP_VIA_TWILIO,
    Option,
    canonical,
    convert,
    pick_option,
    render,
)
from tests.helpers import REPO

PLATFORMS = [TELEGRAM, SLACK, MESSENGER, SMS, WHATSAPP_VIA_TWILIO]
KB = load_knowledge_base(REPO / "data" / "knowledge_base")
DOMAIN = yaml.safe_load((REPO / "domain.yml").read_text())
ESCALATIONS = [(name, variation) for name, variations in DOMAIN["responses"].items()
               for variation in variations if (variation.get("custom") or {}).get("triage")]
OPTIONS = [{"title": "What causes it?", "payload": "/ask_cause"},
           {"title": "How do I stop it?", "payload": "/ask_treatment"},
           {"title": "When should I see a doctor?", "payload": "/ask_see_doctor"}]


def words(text: str) -> list[str]:
    return text.split()


def test_markdown_becomes_each_platforms_own_formatting():
    markdown = canonical("**Caffeine** & <tea>  \nCut down _slowly_.\n \nSee [the NHS](https://www.nhs.uk).")
    assert markdown == "**Caffeine** & <tea>\nCut down _slowly_.\n\nSee [the NHS](https://www.nhs.uk)."
    assert convert(markdown, HTML) == ('<b>Caffeine</b> &amp; &lt;tea&gt;\nCut down <i>slowly</i>.\n\n'
                                       'See <a href="https://www.nhs.uk">the NHS</a>.')
    assert convert(markdown, SLACK_MRKDWN) == ("*Caffeine* &amp; &lt;tea&gt;\nCut down _slowly_.\n\n"
                                               "See <https://www.nhs.uk|the NHS>.")
    assert convert(markdown, WHATSAPP) == "*Caffeine* & <tea>\nCut down _slowly_.\n\nSee the NHS (https://www.nhs.uk)."
    assert convert(markdown, PLAIN) == "Caffeine & <tea>\nCut down slowly.\n\nSee the NHS (https://www.nhs.uk)."


def test_snake_case_and_stray_markers_are_left_alone():
    assert convert("take vitamin_b12 at 2*3 a day", PLAIN) == "take vitamin_b12 at 2*3 a day"
    assert convert("a ** b", HTML) == "a ** b"


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda platform: platform.name)
@pytest.mark.parametrize("name, variation", ESCALATIONS, ids=[
    f"{name}-{(variation.get('condition') or [{}])[0].get('value', 'default')}" for name, variation in ESCALATIONS])
def test_every_escalation_reply_is_one_whole_message_on_every_platform(platform, name, variation):
    message = {"text": variation["text"], "custom": variation["custom"]}
    [sent] = render(message, platform)
    assert len(sent.text) <= platform.max_chars
    assert sent.plain == convert(canonical(variation["text"]), PLAIN)  # nothing cut, nothing added


def test_escalation_advice_too_long_for_a_message_is_cut_only_between_instructions():
    variation = next(v for name, v in ESCALATIONS if name == "utter_emergency" and not v.get("condition"))
    lines = canonical(variation["text"]).split("\n")
    tiny = dataclasses.replace(SMS, max_chars=max(len(convert(line, PLAIN)) for line in lines) + 5)
    sent = render({"text": variation["text"], "custom": {"triage": "emergency"}}, tiny)
    assert len(sent) > 1
    assert [line for part in sent for line in part.text.split("\n")] == [convert(line, PLAIN) for line in lines]


def long_answer() -> str:
    """Every item of the knowledge base in full: far longer than any platform takes in one message."""
    return PARAGRAPH.join(render_item(item, full=True) for item in KB.items.values())


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda platform: platform.name)
def test_a_long_answer_is_split_at_sentence_ends_within_the_limit_and_loses_nothing(platform):
    text = long_answer()
    sent = render({"text": text, "buttons": OPTIONS}, platform)
    assert len(sent) > 1
    assert all(len(part.text) <= platform.max_chars for part in sent)
    for part in sent[:-1]:
        assert re.search(r"[.!?:)\u2026]$", part.plain), f"a part ends mid-sentence: ...{part.plain[-60:]}"
        assert part.options == []
    whole = convert(canonical(text), PLAIN)
    sent_text = " ".join(part.plain for part in sent)
    if platform.options == "numbered":
        sent_text = sent_text.split(NUMBERED_PROMPT)[0]
    assert words(sent_text) == words(whole)
    assert [option.payload for option in sent[-1].options] == [option["payload"] for option in OPTIONS]


def test_a_sentence_in_bold_is_never_cut_inside_the_bold():
    text = "**Rest well. Sleep more. Drink less coffee.** Then see how it goes. " * 3
    tiny = dataclasses.replace(TELEGRAM, max_chars=80)
    for part in render({"text": text}, tiny):
        assert part.text.count("<b>") == part.text.count("</b>")
        assert "**" not in part.text


def test_sms_and_whatsapp_number_the_options_after_the_answer():
    [sent] = render({"text": "Lip twitching is usually harmless.", "buttons": OPTIONS}, SMS)
    assert sent.text == ("Lip twitching is usually harmless.\n\nReply with a number:\n1. What causes it?\n"
                         "2. How do I stop it?\n3. When should I see a doctor?")


def test_messenger_quick_replies_keep_within_its_limits():
    many = [{"title": f"Option number {n} with a long title", "payload": f"/p{n}"} for n in range(20)]
    [sent] = render({"text": "Choose", "buttons": many}, MESSENGER)
    assert len(sent.options) == 13
    assert all(len(option.title) <= 20 for option in sent.options)
    assert sent.options[0].title == "Option number 0\u2026" and sent.options[0].payload == "/p0"


def test_options_without_text_still_have_a_message_to_hang_on():
    [sent] = render({"buttons": OPTIONS}, TELEGRAM)
    assert sent.text and len(sent.options) == 3


@pytest.mark.parametrize("reply, picked", [
    ("2", "/ask_treatment"), (" 3. ", "/ask_see_doctor"), ("option 1", "/ask_cause"), ("#2", "/ask_treatment"),
    ("how do i stop it?", "/ask_treatment"),  # the title, typed or sent by a reply keyboard
    ("4", None), ("0", None),  # no such option: read as a message
    ("2 my face is drooping", None),  # more than a number: the person's words go to the assistant
])
def test_a_reply_picks_the_numbered_option(reply, picked):
    options = [Option(option["title"], option["payload"]) for option in OPTIONS]
    assert pick_option(reply, options, numbered=True) == picked


def test_a_number_picks_nothing_where_the_options_were_not_numbered():
    options = [Option(option["title"], option["payload"]) for option in OPTIONS]
    assert pick_option("2", options, numbered=False) is None
    assert pick_option("What causes it?", options, numbered=False) == "/ask_cause"
    assert pick_option("2", [], numbered=True) is None


@pytest.mark.parametrize("platform, line", [
    (TELEGRAM, "<i>Source: NHS, Tics · not yet clinically reviewed</i>"),
    (SLACK, "_Source: NHS, Tics · not yet clinically reviewed_"),
    (SMS, "Source: NHS, Tics · not yet clinically reviewed"),  # one plain line on SMS
])
def test_an_answers_source_line_is_small_print_in_each_platforms_own_way(platform, line):
    message = {"text": "**Tics** are common in children.\n \n_Source: NHS, Tics · not yet clinically reviewed_"}
    assert render(message, platform)[-1].text.splitlines()[-1] == line
