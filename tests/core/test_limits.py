"""What a message and a conversation id may be (liptwitch/core/limits.py, liptwitch/core/commands.py)."""

from __future__ import annotations

import pytest

from liptwitch.core.commands import offered_command
from liptwitch.core.limits import MAX_MESSAGE_CHARACTERS, MAX_SENDER_LENGTH, accepted_part, cut_note, sender_problem


def test_a_long_message_is_read_at_its_beginning_and_its_end_up_to_the_limit_cut_at_words():
    story = "I have been worried about my lip for weeks and I keep reading about it at night. " * 60
    text = story + "Now the whole left side of my face is drooping and I can't smile."
    accepted = accepted_part(text)
    assert len(accepted) <= MAX_MESSAGE_CHARACTERS
    head, tail = accepted.split("\n...\n")
    assert text.startswith(head) and text[len(head)] == " "  # cut after a whole word
    assert text.endswith(tail) and text[-len(tail) - 1] == " "  # and before one
    assert tail.endswith("Now the whole left side of my face is drooping and I can't smile.")
    assert accepted_part("short") == "short"
    assert len(accepted_part("x" * 5000)) == MAX_MESSAGE_CHARACTERS  # no space to cut at
    assert "first 1,495 and its last 500 characters" in cut_note() and "emergency" in cut_note()


@pytest.mark.parametrize("sender", ["me", "whatsapp:+447700900123", "3f2a9c1e-7d3b-4a52-9f1e-2c1d0b9a8e77",
                                    "slack_U123.T456", "x" * MAX_SENDER_LENGTH])
def test_ordinary_conversation_ids_are_accepted(sender):
    assert sender_problem(sender) is None


@pytest.mark.parametrize("sender", [None, "", 42, ["a"], "x" * (MAX_SENDER_LENGTH + 1), "a\x00b", "../etc",
                                    "a/b", " me", "me\n", "<script>"])
def test_other_conversation_ids_are_refused_with_a_reason(sender):
    assert "'sender'" in sender_problem(sender)


TOPICS = {"caffeine", "stress"}


@pytest.mark.parametrize("text", ["/ask_cause", "/check_my_twitching", "/greet", '/ask_about{"topic": "stress"}',
                                  ' /ask_treatment{"topic": "caffeine"} ', '/feedback{"verdict": "not_helpful"}'])
def test_the_assistants_own_buttons_are_commands(text):
    assert offered_command(text, TOPICS)


@pytest.mark.parametrize("text", ["/red_flag_emergency", '/red_flag_emergency{"red_flag": ["RF01"]}', "/restart",
                                  "/goodbye", '/ask_cause{"topic": "<b>x</b>"}', '/ask_cause{"red_flag": "RF01"}',
                                  '/ask_cause{"topic": "stress", "x": 1}', "/ask_cause my arm is weak", "/{",
                                  "/ask_cause\nmy face has dropped", '/ask_about{"topic": ["stress"]}', "ask_cause",
                                  '/feedback{"verdict": "<b>x</b>"}', '/feedback{"verdict": "helpful", "kb_ids": [1]}'])
def test_anything_else_is_a_persons_text(text):
    assert not offered_command(text, TOPICS)
