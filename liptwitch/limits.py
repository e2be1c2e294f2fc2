"""What a person's message may be, checked where it arrives, before any part of the assistant reads it.

One long message must not stall the server for everyone else: every channel reads at most
MAX_MESSAGE_CHARACTERS of a message (cut at a word) and tells the person so, and the red-flag scan reads
the part that was accepted. Requests and socket frames larger than MAX_REQUEST_BYTES are refused by the
server before they are read at all. Conversation ids are checked too: a client that names a 100 KB id, a
NUL byte or `../` gets a clear refusal, not a conversation.
"""

from __future__ import annotations

import re

MAX_MESSAGE_CHARACTERS = 2000  # a long, worried post is 100-300 words; this is well beyond that
MAX_REQUEST_BYTES = 64 * 1024  # an HTTP body or a socket.io frame; nginx has its own (deploy/)
MAX_SENDER_LENGTH = 128
SENDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@+=-]*")  # "whatsapp:+447700900123", uuids, "me", "web-3f2a"

CUT_NOTE = ("Your message was long, so I read its first {limit:,} characters. If something important came "
            "after that, please send it in a new message. If you think this is an emergency, call your local "
            "emergency number now.")


def accepted_part(text: str, limit: int = MAX_MESSAGE_CHARACTERS) -> str:
    """The first `limit` characters of `text`, cut after a whole word where there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space].rstrip() if space > limit // 2 else cut


def cut_note(limit: int = MAX_MESSAGE_CHARACTERS) -> str:
    return CUT_NOTE.format(limit=limit)


def sender_problem(sender: object) -> str | None:
    """Why `sender` cannot name a conversation, or None when it can."""
    if not isinstance(sender, str) or not sender:
        return "'sender' must be a non-empty string naming the conversation"
    if len(sender) > MAX_SENDER_LENGTH:
        return f"'sender' is longer than {MAX_SENDER_LENGTH} characters"
    if not SENDER.fullmatch(sender):
        return "'sender' may hold only letters, digits and _ . : @ + = - (and must start with a letter or digit)"
    return None
