"""What a person's message may be, checked where it arrives, before any part of the assistant reads it.

One long message must not stall the server for everyone else: every channel reads at most
MAX_MESSAGE_CHARACTERS of a message and tells the person so, and the red-flag scan reads the part that was
accepted: its beginning and its end (cut at words), because a long, worried post often ends with what is
happening now ("...and now the left side of my face is drooping"). Requests and socket frames larger than
MAX_REQUEST_BYTES are refused by the server before they are read at all. Conversation ids are checked too: a
client that names a huge id, a NUL byte or `../` gets a clear refusal, not a conversation.
"""

from __future__ import annotations

import re

MAX_MESSAGE_CHARACTERS = 2000  # a long, worried post is 100-300 words; this is well beyond that
MAX_REQUEST_BYTES = 64 * 1024  # an HTTP body or a socket.io frame; nginx has its own (deploy/)
MAX_SENDER_LENGTH = 128
SENDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@+=-]*")  # "whatsapp:+447700900123", uuids, "me", "web-3f2a"

TAIL_SHARE = 4  # a quarter of what is read comes from the message's end
GAP = "\n...\n"  # between the beginning and the end: a break no red-flag term reads across
CUT_NOTE = ("Your message was long, so I read its first {head:,} and its last {tail:,} characters. If something "
            "important was in the middle, please send it in a new message. If you think this is an emergency, call "
            "your local emergency number now.")


def _head_and_tail_lengths(limit: int) -> tuple[int, int]:
    tail = limit // TAIL_SHARE
    return limit - tail - len(GAP), tail


def accepted_part(text: str, limit: int = MAX_MESSAGE_CHARACTERS) -> str:
    """`text` if it is at most `limit` characters; else its beginning and its end, each cut at a whole word
    where there is one, at most `limit` characters in all."""
    if len(text) <= limit:
        return text
    head_length, tail_length = _head_and_tail_lengths(limit)
    head = text[:head_length]
    space = head.rfind(" ")
    head = head[:space].rstrip() if space > head_length // 2 else head
    tail = text[-tail_length:]
    space = tail.find(" ")
    tail = tail[space + 1:].lstrip() if -1 < space < tail_length // 2 else tail
    return f"{head}{GAP}{tail}"


def cut_note(limit: int = MAX_MESSAGE_CHARACTERS) -> str:
    head, tail = _head_and_tail_lengths(limit)
    return CUT_NOTE.format(head=head, tail=tail)


def sender_problem(sender: object) -> str | None:
    """Why `sender` cannot name a conversation, or None when it can."""
    if not isinstance(sender, str) or not sender:
        return "'sender' must be a non-empty string naming the conversation"
    if len(sender) > MAX_SENDER_LENGTH:
        return f"'sender' is longer than {MAX_SENDER_LENGTH} characters"
    if not SENDER.fullmatch(sender):
        return "'sender' may hold only letters, digits and _ . : @ + = - (and must start with a letter or digit)"
    return None
