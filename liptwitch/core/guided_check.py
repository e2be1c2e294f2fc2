"""The guided check, "should I worry about my twitching?": reading answers and choosing the outcome.

Pure Python: the Rasa form (actions/twitch_check.py) asks the questions and calls these functions to read
free-text answers ("about three weeks", "only my lip", "nope") and to decide the outcome at the level
TRIAGE.md gives: a "yes" to any FAST question is an emergency; more than two weeks or a twitch that
spreads is routine (see a doctor soon); otherwise self-care, with the everyday triggers to look at.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from liptwitch.core.knowledge_base import KnowledgeBase
from liptwitch.core.text import normalise
from liptwitch.vocabulary import (
    CHECK_ARM,
    CHECK_DURATION_DAYS,
    CHECK_FACE,
    CHECK_FREQUENCY,
    CHECK_LOCATION,
    CHECK_SPEECH,
    FAST_SLOTS,  # noqa: F401  (read with the check's other names)
)

SKIPPED = "skipped"
YES, NO = "yes", "no"
LIP_ONLY, SPREADING = "lip only", "spreading"
NOW_AND_THEN, EVERY_DAY, CONSTANT = "now and then", "every day", "all the time"
# The red flag a "yes" to each FAST question reports (TRIAGE.md: face drooping, arm weakness, speech).
FAST_RED_FLAGS = {CHECK_FACE: "RF01", CHECK_ARM: "RF02", CHECK_SPEECH: "RF03"}
SKIPPED_DAYS = -1.0  # check_duration_days is a number: a skipped question is stored as -1
ROUTINE_AFTER_DAYS = 14  # TRIAGE.md RF18: twitching lasting more than 2 weeks
EVERYDAY_TRIGGERS = ("stress", "fatigue", "caffeine", "nutrition", "medication")

LONGEST_DAYS = 100 * 365  # a longer duration is taken as a slip of the keyboard, and asked again
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "couple": 2, "few": 3, "several": 4, "eleven": 11, "twelve": 12}
_UNITS = {"min": 1 / 1440, "minute": 1 / 1440, "hour": 1 / 24, "hr": 1 / 24, "day": 1, "night": 1, "week": 7,
          "wk": 7, "fortnight": 14, "month": 30, "year": 365, "yr": 365}
_DURATION = re.compile(r"\b(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                       r"couple|few|several)?\s*(?:of\s+)?(min|minute|hour|hr|day|night|week|wk|fortnight|month|"
                       r"year|yr)s?\b")
# Words before "a day" / "a week" that make it a length of time ("for a week"), not a rate ("coffee a day").
_FOR_HOW_LONG = {"for", "about", "around", "over", "past", "last", "than", "almost", "nearly", "like", "only", "just",
                 "half", "within", "in", "since", "whole", "entire", "maybe", "roughly", "least", "of"}
_HOW_OFTEN = {"every", "each", "per", "all", "times", "twice", "once", "x"}
_SINCE = {"today": 0.5, "this morning": 0.5, "tonight": 0.5, "last night": 1, "yesterday": 1, "since yesterday": 1,
          "last week": 7, "since last week": 7, "last month": 30, "since last month": 30, "ages": 60,
          "for ages": 60, "forever": 90, "months": 60, "weeks": 21, "years": 365, "just started": 0.5,
          "all year": 180, "last term": 60, "all term": 60}
_SKIP_WORDS = {"skip", "dont know", "do not know", "not sure", "no idea", "unsure", "idk", "dunno", "pass",
               "i dont know", "rather not say"}
_YES = {"yes", "yeah", "yep", "yup", "y", "ya", "yes it is", "yes it does", "a bit", "a little", "i think so",
        "maybe", "possibly", "sort of", "kind of", "kinda", "it is", "it does", "true", "affirmative", "sure"}
_NO = {"no", "nope", "nah", "n", "not at all", "no it isnt", "no it doesnt", "none", "never", "no its not",
       "no not at all", "its fine", "fine", "all fine", "normal", "its normal", "nothing", "no changes",
       "no problem", "not really", "i dont think so", "no its fine"}


def is_skip(text: str) -> bool:
    return normalise(text) in _SKIP_WORDS


def parse_duration_days(text: str) -> float | None:
    """How long the twitching has gone on, in days: "3 weeks" -> 21, "since yesterday" -> 1."""
    words = normalise(text)
    for match in _DURATION.finditer(words):
        before = words[:match.start()].split()[-1:]
        if before and before[0] in _HOW_OFTEN:
            continue  # "every day", "twice a day", "all day": how often, not how long
        if match.group(1) in ("a", "an") and before and before[0] not in _FOR_HOW_LONG:
            continue  # "6 cups of coffee a day", "twitches an hour": a rate, not how long
        count_text, unit = match.group(1), match.group(2)
        if count_text is None and unit not in ("fortnight",):
            count = 2.0 if f"{unit}s" in words.split() else 1.0
        else:
            count = float(_NUMBERS.get(count_text, 0) or count_text) if count_text else 1.0
        days = count * _UNITS[unit]
        if "half" in words[:match.start()].split()[-2:]:
            days /= 2  # "half a year", "half the year", "half an hour"
        # "999...9 weeks" is no answer: asked again, never stored (an infinite number broke the outcome).
        return days if math.isfinite(days) and days <= LONGEST_DAYS else None
    for phrase in sorted(_SINCE, key=len, reverse=True):
        if re.search(rf"\b{phrase}\b", words):
            return _SINCE[phrase]
    return days_between_marks(text)



# Times of the year people count from and to: "since the clocks went back and it's nearly christmas now", "since easter
# and it's june". Each is a month (and day) of an ordinary year; the gap between two is how long, across the new year.
_MONTHS = {name: number for number, names in enumerate((
    ("january", "jan"), ("february", "feb", "febuary"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")), start=1) for name in names}
_TIMES_OF_YEAR = {
    "christmas": (12, 25), "xmas": (12, 25), "new year": (1, 1), "new years": (1, 1), "easter": (4, 5),
    "the clocks went back": (10, 27), "clocks went back": (10, 27), "the clocks changed": (10, 27),
    "the clocks went forward": (3, 30), "clocks went forward": (3, 30), "halloween": (10, 31),
    "bonfire night": (11, 5), "valentines": (2, 14), "valentine s day": (2, 14), "the summer": (7, 15),
    "summer": (7, 15), "the spring": (4, 15), "the autumn": (10, 15), "the winter": (1, 15),
    "half term": (10, 25), "the start of term": (9, 5), "back to school": (9, 5), "bank holiday": (5, 27),
    "the summer holidays": (7, 25), "summer holidays": (7, 25), "back at school": (9, 5),
}
_MARK = "|".join(sorted([*map(re.escape, _TIMES_OF_YEAR), *_MONTHS], key=len, reverse=True))
_FROM_MARK = re.compile(rf"\b(?:since (?:before )?|from |(?:started|began|start) (?:in |around |at |on )?(?:the )?"
                        rf"(?:\w+ week of )?"
                        rf"(?:early |mid |late |the end of )?|back in )(?:the )?(?:start of |beginning of |end of )?"
                        rf"({_MARK})\b")
_TO_MARK = re.compile(rf"\b(?:it s|its|it is|now|and now|til|till|until|to|are|we re|were) "
                      rf"(?:now |nearly |almost |already |early |mid |late |the end of |the middle of |practically "
                      rf"|in )*"
                      rf"(?:the )?({_MARK})\b")


_IN_MONTH = re.compile(r"\bin (?:early |mid |late )?(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b")
_STARTED = re.compile(r"\b(started|began|kicked off|came on|since then)\b")


def _day_of_year(mark: str) -> int:
    month, day = _TIMES_OF_YEAR.get(mark) or (_MONTHS[mark], 15)
    return (month - 1) * 30 + day


def days_between_marks(text: str) -> float | None:
    """How long, from a time of the year to another ("since xmas, its now febuary"): days, else None."""
    words = normalise(text)
    start, end = _FROM_MARK.search(words), None
    if start is None and _STARTED.search(words):  # "back from Spain in August, it started on the flight home"
        start = _IN_MONTH.search(words)
    if start is not None:
        end = _TO_MARK.search(words, start.end())
    if start is None or end is None:
        return None
    gap = (_day_of_year(end.group(1)) - _day_of_year(start.group(1))) % 360
    return float(gap) if gap else None


# "no other symptoms", "nothing other than that": "other" that names no other place.
_NO_OTHER = re.compile(r"\b(?:no|not any|without|any|nothing) other\b(?: \w+)?|\bother than\b")


def parse_location(text: str, explicit: bool = False) -> str | None:
    """Lip only, or spreading. With `explicit`, "my lip twitches" says nothing (it may be elsewhere too)."""
    words = _NO_OTHER.sub(" ", normalise(text))
    if re.search(r"\b(spread|spreading|spreads|also|too|as well|other|eye|eyelid|cheek|face|chin|jaw|arm|leg|"
                 r"hand|body|elsewhere|more than one|several places|all over)\b", words) \
            and not re.search(r"\b(only|just)\b", words):
        return SPREADING
    if re.search(r"\b(only|just)\b" if explicit else r"\b(lip|lips|mouth|only|just)\b", words):
        return LIP_ONLY
    return None


def parse_frequency(text: str) -> str | None:
    words = normalise(text)
    if re.search(r"\b(all the time|constant|constantly|non stop|nonstop|wont stop|never stops|continuous|"
                 r"all day|every minute|always)\b", words):
        return CONSTANT
    if re.search(r"\b(every day|everyday|daily|each day|several times a day|a lot|often|most days)\b", words):
        return EVERY_DAY
    if re.search(r"\b(now and then|sometimes|occasionally|once|rarely|on and off|off and on|comes and goes|"
                 r"few times|every few days|not often|once or twice|a couple of times)\b", words):
        return NOW_AND_THEN
    return None


def parse_yes_no(text: str) -> str | None:
    words = normalise(text)
    if words in _YES or words.split()[:1] in (["yes"], ["yeah"], ["yep"]):
        return YES
    if words in _NO or words.split()[:1] in (["no"], ["nope"], ["nah"]):
        return NO
    return None


@dataclass(frozen=True)
class CheckOutcome:
    level: str  # emergency, routine or self_care
    text: str
    kb_ids: tuple[str, ...]


def _told(answers: dict[str, object]) -> str:
    parts = []
    location = answers.get(CHECK_LOCATION)
    if location == LIP_ONLY:
        parts.append("the twitching is in your lip only")
    elif location == SPREADING:
        parts.append("the twitching is in more than one place or spreading")
    days = answers.get(CHECK_DURATION_DAYS)
    if isinstance(days, int | float) and days > 0:
        parts.append("it started today" if days < 1 else f"it has gone on for about {_days_text(days)}")
    frequency = answers.get(CHECK_FREQUENCY)
    if frequency in (NOW_AND_THEN, EVERY_DAY, CONSTANT):
        parts.append(f"it happens {frequency}")
    fast = [answers.get(slot) for slot in FAST_SLOTS]
    if all(value == NO for value in fast):
        parts.append("your face, arms and speech are as usual")
    return ("You told me that " + ", ".join(parts) + ".") if parts else "You skipped the questions."


def _days_text(days: float) -> str:
    if days >= 60:
        return f"{round(days / 30)} months"
    if days >= 14:
        return f"{round(days / 7)} weeks"
    if days >= 7:
        return "a week" if round(days / 7) == 1 else f"{round(days / 7)} weeks"
    return "a day" if round(days) <= 1 else f"{round(days)} days"


# The rows of TRIAGE.md an answer of the check meets: lasting more than two weeks, or in more than one place.
LONG_LASTING_RED_FLAG, SPREADING_RED_FLAG = "RF18", "RF19"


def routine_red_flags(answers: dict[str, object]) -> tuple[str, ...]:
    """The routine rows the answers so far meet (TRIAGE.md RF18, RF19); none means self-care so far."""
    days = answers.get(CHECK_DURATION_DAYS)
    found = []
    if isinstance(days, int | float) and days > ROUTINE_AFTER_DAYS:
        found.append(LONG_LASTING_RED_FLAG)
    if answers.get(CHECK_LOCATION) == SPREADING:
        found.append(SPREADING_RED_FLAG)
    return tuple(found)


def outcome(kb: KnowledgeBase, answers: dict[str, object], advised_routine: bool = False) -> CheckOutcome:
    """The level and a short personal summary for what the person answered (slot name -> value).

    `advised_routine`: the routine advice was already given during the check (an answer that met a routine row,
    or a routine red flag said on the way, such as a new medicine): the outcome is routine too, never less.
    """
    if any(answers.get(slot) == YES for slot in FAST_SLOTS):
        return CheckOutcome("emergency", "", ("warning_signs",))
    flags = routine_red_flags(answers)
    routine = bool(flags) or advised_routine
    lines = [_told(answers)]
    if routine:
        why = ("it has lasted more than two weeks" if LONG_LASTING_RED_FLAG in flags
               else "it is in more than one place" if flags else "of what you told me")
        lines.append(f"Because {why}, it's worth **booking an appointment with your GP or doctor** to have "
                     "it checked. It isn't an emergency.")
    else:
        lines.append("That sounds like the common, usually harmless kind of twitch, which often settles "
                     "on its own.")
    lines.append("Everyday triggers worth looking at:")
    triggers = [kb.get(cause_id) for cause_id in EVERYDAY_TRIGGERS]
    lines += [f"\u2022 **{cause.title}**: {kb.treatments_for(cause.id)[0].gist}" for cause in triggers]
    lines.append(f"\u2695\ufe0f {kb.get('see_doctor').short}")
    lines.append("_This is general information from your answers, not a diagnosis._")
    kb_ids = (*EVERYDAY_TRIGGERS, *(kb.treatments_for(c)[0].id for c in EVERYDAY_TRIGGERS), "see_doctor")
    return CheckOutcome("routine" if routine else "self_care", "  \n".join(lines), kb_ids)
