"""The assistant's replies shaped for each messaging platform. Pure Python: no Rasa, no HTTP here.

A reply from Rasa is markdown text plus buttons (and a `custom` payload the web widget reads). Each
platform shows a different subset of that:

- formatting: Telegram takes HTML, Slack its own "mrkdwn", WhatsApp *bold* and _italic_, and SMS
  and Messenger plain text only;
- buttons: a reply keyboard (Telegram), buttons (Slack), quick replies (Messenger, at most 13 of at
  most 20 characters), or numbered options on SMS and WhatsApp, where a reply of "2" picks option 2;
- length: a reply longer than the platform takes is split, at a paragraph, line or sentence, never
  inside one. Escalation advice (a reply with a `triage` level) is split only between its lines,
  each of which is one whole instruction, and in practice always fits in one message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from liptwitch.core.text import normalise

# How a platform formats text.
HTML = "html"  # Telegram, parse_mode HTML
SLACK_MRKDWN = "slack_mrkdwn"
WHATSAPP = "whatsapp"  # *bold*, _italic_
PLAIN = "plain"

# How a platform offers the next questions.
REPLY_KEYBOARD = "reply_keyboard"  # the title comes back as the person's message
BUTTONS = "buttons"  # the payload comes back
QUICK_REPLIES = "quick_replies"  # the payload comes back
NUMBERED = "numbered"  # "2" (or the title) comes back

NUMBERED_PROMPT = "Reply with a number:"


@dataclass(frozen=True)
class Platform:
    name: str
    max_chars: int  # the longest text one message may carry
    formatting: str
    options: str
    max_options: int
    max_option_title: int


TELEGRAM = Platform("telegram", max_chars=4096, formatting=HTML, options=REPLY_KEYBOARD,
                    max_options=12, max_option_title=64)
# A Slack section block holds at most 3000 characters (a message's text 40,000).
SLACK = Platform("slack", max_chars=3000, formatting=SLACK_MRKDWN, options=BUTTONS, max_options=25,
                 max_option_title=75)
MESSENGER = Platform("messenger", max_chars=2000, formatting=PLAIN, options=QUICK_REPLIES, max_options=13,
                     max_option_title=20)
# Twilio takes a body of up to 1600 characters and joins the SMS segments on the phone.
SMS = Platform("sms", max_chars=1600, formatting=PLAIN, options=NUMBERED, max_options=9, max_option_title=60)
WHATSAPP_VIA_TWILIO = Platform("whatsapp", max_chars=1600, formatting=WHATSAPP, options=NUMBERED, max_options=9,
                               max_option_title=60)


@dataclass(frozen=True)
class Option:
    title: str
    payload: str


@dataclass
class OutgoingMessage:
    """One message to send: text already in the platform's format, and the options it offers."""

    text: str
    plain: str  # the same text unformatted, should the platform refuse the formatting
    options: list[Option] = field(default_factory=list)


# --- markdown -----------------------------------------------------------------------------------

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC = re.compile(r"(?<![\w*])_(?!\s)(.+?)(?<!\s)_(?!\w)", re.S)
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def canonical(markdown: str) -> str:
    """Markdown with one spelling per break: paragraphs "\\n\\n", lines "\\n", no trailing spaces.

    The answers write a paragraph as "\\n \\n" and a line break as two spaces and "\\n" (see
    answers.PARAGRAPH); the platforms want plain newlines.
    """
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def convert(markdown: str, formatting: str) -> str:
    """Canonical markdown in the platform's own format. Stray markers are left as they are."""
    if formatting == HTML:
        text = html.escape(markdown, quote=False)
        text = _LINK.sub(lambda m: f'<a href="{m[2].replace(chr(34), "&quot;")}">{m[1]}</a>', text)
        text = _BOLD.sub(r"<b>\1</b>", text)
        return _ITALIC.sub(r"<i>\1</i>", text)
    if formatting == SLACK_MRKDWN:
        # Slack reads <, > and & as its own markup: they must be escaped, and nothing else.
        text = markdown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = _LINK.sub(r"<\2|\1>", text)
        return _BOLD.sub(r"*\1*", text)  # _italic_ is already Slack's
    text = _LINK.sub(r"\1 (\2)", markdown)
    if formatting == WHATSAPP:
        return _BOLD.sub(r"*\1*", text)
    return _ITALIC.sub(r"\1", _BOLD.sub(r"\1", text))


# --- splitting ----------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[)\"'\u201d]?\s+")


def _sentences(line: str) -> list[str]:
    """The sentences of a line, never cutting inside **bold** (it would leave markers unpaired)."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        if line[:end].count("**") % 2 == 0:
            pieces.append(line[start:end].rstrip())
            start = end
    pieces.append(line[start:])
    return [piece for piece in pieces if piece]


# Each level splits a text into pieces joined again by its separator.
_PARAGRAPHS = ("\n\n", lambda text: text.split("\n\n"))
_LINES = ("\n", lambda text: text.split("\n"))
_SENTENCES = (" ", _sentences)
_WORDS = (" ", lambda sentence: sentence.split(" "))
_Level = tuple[str, Callable[[str], list[str]]]


def split(markdown: str, fits: Callable[[str], bool], levels: Sequence[_Level] | None = None) -> list[str]:
    """Canonical markdown in as few parts as fit, cut at the coarsest boundary that makes them fit.

    Paragraphs are kept together when they fit, then lines, then sentences; a single sentence
    longer than a whole message (none in the knowledge base) is cut between words.
    """
    levels = list(levels if levels is not None else (_PARAGRAPHS, _LINES, _SENTENCES, _WORDS))
    if fits(markdown) or not levels:
        return [markdown]
    (separator, cut), finer = levels[0], levels[1:]
    pieces = [piece for piece in cut(markdown) if piece.strip()]
    if len(pieces) <= 1:
        return split(markdown, fits, finer)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if fits(candidate):
            current = candidate
            continue
        if current:
            parts.append(current)
        if fits(piece):
            current = piece
        else:
            parts.extend(split(piece, fits, finer))
            current = ""
    if current:
        parts.append(current)
    return parts


# --- options ------------------------------------------------------------------------------------

def shorten(title: str, limit: int) -> str:
    """A button title cut at a word to `limit` characters, with an ellipsis when cut."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-?")
    return f"{cut or title[: limit - 1]}\u2026"


def options_of(message: dict) -> list[Option]:
    """The buttons (or quick replies) of a Rasa bot message."""
    raw = message.get("buttons") or message.get("quick_replies") or []
    options = []
    for button in raw:
        if isinstance(button, dict) and button.get("title"):
            options.append(Option(str(button["title"]), str(button.get("payload") or button["title"])))
    return options


def numbered_options(options: Sequence[Option]) -> str:
    return "\n".join([NUMBERED_PROMPT, *(f"{number}. {option.title}" for number, option in
                                         enumerate(options, start=1))])


_NUMBER_REPLY = re.compile(r"^\s*(?:option\s*)?#?\s*(\d{1,2})\s*[.)]?\s*$", re.I)


def pick_option(text: str, options: Sequence[Option], numbered: bool) -> str | None:
    """The payload a reply picks from the options last offered: "2" (when they were numbered), or a
    title sent back as text (a Telegram reply keyboard does that). None when it picks nothing."""
    if not options or not text:
        return None
    match = _NUMBER_REPLY.match(text) if numbered else None
    if match:
        number = int(match[1])
        return options[number - 1].payload if 1 <= number <= len(options) else None
    wanted = normalise(text)
    for option in options:
        if normalise(option.title) == wanted:
            return option.payload
    return None


# --- the whole reply ----------------------------------------------------------------------------

def is_escalation(message: dict) -> bool:
    """Red-flag advice (emergency, crisis, urgent, routine): sent whole, in order, first."""
    custom = message.get("custom")
    return isinstance(custom, dict) and bool(custom.get("triage"))


def render(message: dict, platform: Platform) -> list[OutgoingMessage]:
    """A Rasa bot message as the messages to send on `platform`, in order."""
    markdown = canonical(str(message.get("text") or ""))
    options = options_of(message)[: platform.max_options]
    options = [Option(shorten(option.title, platform.max_option_title), option.payload) for option in options]
    if not markdown and not options:
        return []

    def fits(part: str) -> bool:
        return len(convert(part, platform.formatting)) <= platform.max_chars

    # Escalation advice is cut only between its lines, each one whole instruction; only a single
    # line longer than a whole message (none is: a test checks) would be cut at a sentence.
    levels = (_PARAGRAPHS, _LINES, _SENTENCES) if is_escalation(message) else None
    parts = split(markdown, fits, levels) if markdown else []
    if platform.options == NUMBERED and options:
        listing = numbered_options(options)
        if parts and fits(f"{parts[-1]}\n\n{listing}"):
            parts[-1] = f"{parts[-1]}\n\n{listing}"
        else:
            parts.append(listing)
    messages = [OutgoingMessage(convert(part, platform.formatting), convert(part, PLAIN)) for part in parts]
    if options:
        if not messages:  # buttons with no text: the platforms need some text to hang them on
            messages.append(OutgoingMessage("Choose one:", "Choose one:"))
        messages[-1].options = options
    return messages
