"""Text normalisation and typo-tolerant phrase matching, shared by the NLU and the actions.

People write "coffe", "Energy-Drinks", "parkinsons" or "B12!!": matching works on a normalised form
and tolerates small edit distances, scaled to the length of the word so that short words ("ms",
"tea") must match exactly.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, apostrophes dropped, single spaces."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("'", "")
    return _NOT_WORD.sub(" ", text).strip()


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance in its optimal-string-alignment form (an adjacent swap counts 1), or limit + 1
    once it exceeds limit (rapidfuzz's OSA, which stops early at the cut-off)."""
    return OSA.distance(a, b, score_cutoff=limit)


MOST_TYPOS = 2


def allowed_typos(word: str) -> int:
    """How many edits a word of this length may carry and still be recognised."""
    if len(word) <= 3:
        return 0
    if len(word) <= 7:
        return 1
    return MOST_TYPOS


def deletions(word: str, most: int) -> set[str]:
    """`word` and every string made from it by deleting at most `most` letters."""
    found, latest = {word}, {word}
    for _ in range(most):
        latest = {variant[:index] + variant[index + 1:] for variant in latest for index in range(len(variant))}
        found |= latest
    return found


def _singular(word: str) -> str:
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if word.endswith(ending) and len(word) > len(ending) + 2 and not word.endswith("ss"):
            return word[: -len(ending)] + replacement
    return word


@lru_cache(maxsize=8192)
def word_distance(word: str, known: str) -> int | None:
    """0 for the same word (or its plural), the number of typos if tolerable, else None."""
    if word == known or _singular(word) == _singular(known):
        return 0
    limit = allowed_typos(known)
    distance = edit_distance(word, known, limit) if limit else limit + 1
    return distance if distance <= limit else None


@dataclass(frozen=True)
class Match:
    start: int  # word positions in the normalised text, end exclusive
    end: int
    phrase: str
    value: str
    exact: bool


class PhraseMatcher:
    """Finds known phrases in text, word by word, tolerating typos; maps each phrase to a value.

    A window of words matches the known phrase of its length whose words are each within tolerance of the window's
    (`word_distance`) with the fewest typos in all, the first such phrase on a tie. The phrases are indexed by length
    and first word, and each word of a text is compared with the known words once, so that a window looks only at
    the phrases whose first word is near its own (looking at them all took a few milliseconds a message).
    """

    def __init__(self, phrases: dict[str, str]) -> None:
        self._phrases: dict[tuple[str, ...], str] = {}
        for phrase, value in phrases.items():
            words = tuple(normalise(phrase).split())
            if words:
                self._phrases.setdefault(words, value)
        self._by_length = sorted({len(words) for words in self._phrases}, reverse=True)
        # (length, first word) -> the phrases, each with its position among all (which decides a tie)
        self._starting_with: dict[tuple[int, str], list[tuple[int, tuple[str, ...]]]] = {}
        for position, words in enumerate(self._phrases):
            self._starting_with.setdefault((len(words), words[0]), []).append((position, words))
        # Each known word under its singular, and under every string left by deleting as many letters as it allows
        # typos: a word within a known word's typos shares such a string with it (a typo is a deletion on one side
        # or both).
        self._known_by_singular: dict[str, list[str]] = {}
        self._known_by_deletions: dict[str, list[str]] = {}
        for word in dict.fromkeys(word for words in self._phrases for word in words):
            self._known_by_singular.setdefault(_singular(word), []).append(word)
            for variant in deletions(word, allowed_typos(word)):
                self._known_by_deletions.setdefault(variant, []).append(word)
        # Per matcher: the words people write are many, a few thousand recent ones are enough.
        self._near = lru_cache(maxsize=4096)(self._near_words)

    def resolve(self, text: str) -> str | None:
        """The value of the phrase `text` names, exactly or with typos; else the longest phrase inside it."""
        words = tuple(normalise(text).split())
        if not words:
            return None
        whole = self._match_window(words, 0)
        if whole:
            return whole.value
        found = self.find(text)
        return max(found, key=lambda m: (m.end - m.start, m.exact)).value if found else None

    def find(self, text: str) -> list[Match]:
        """All non-overlapping known phrases in `text`, longest first, left to right."""
        words = normalise(text).split()
        taken = [False] * len(words)
        matches: list[Match] = []
        for length in self._by_length:
            for start in range(len(words) - length + 1):
                if any(taken[start:start + length]):
                    continue
                window = tuple(words[start:start + length])
                match = self._match_window(window, start)
                if match:
                    matches.append(match)
                    for position in range(start, start + length):
                        taken[position] = True
        return sorted(matches, key=lambda m: m.start)

    def _near_words(self, word: str) -> dict[str, int]:
        """The known words within tolerance of `word`, with their distances: among those of the same singular and
        those sharing a deletion string with it (comparing it with every known word took milliseconds)."""
        candidates = itertools.chain(self._known_by_singular.get(_singular(word), ()),
                                     *(self._known_by_deletions.get(variant, ()) for variant in
                                       deletions(word, MOST_TYPOS)))
        near: dict[str, int] = {}
        for known in candidates:
            if known not in near:
                distance = word_distance(word, known)
                if distance is not None:
                    near[known] = distance
        return near

    def _match_window(self, window: tuple[str, ...], start: int) -> Match | None:
        value = self._phrases.get(window)
        if value is not None:
            return Match(start, start + len(window), " ".join(window), value, exact=True)
        best: tuple[int, int, tuple[str, ...]] | None = None  # typos, position, phrase
        nears: list[dict[str, int]] = []
        for first_word, first_distance in self._near(window[0]).items():
            for position, known in self._starting_with.get((len(window), first_word), ()):
                if not nears:
                    nears = [self._near(word) for word in window]
                total = first_distance
                for near, known_word in zip(nears[1:], known[1:], strict=True):
                    distance = near.get(known_word)
                    if distance is None:
                        break
                    total += distance
                else:
                    if best is None or (total, position) < best[:2]:
                        best = (total, position, known)
        if best is None:
            return None
        known = best[2]
        return Match(start, start + len(window), " ".join(known), self._phrases[known], exact=best[0] == 0)


# Countries whose emergency numbers the replies know (see the red-flag responses in domain.yml).
_COUNTRY_NAMES = {
    "GB": ("gb", "uk", "united kingdom", "great britain", "britain", "england", "scotland", "wales",
           "northern ireland"),
    "IE": ("ie", "ireland", "eire"),
    "US": ("us", "usa", "united states", "united states of america", "america"),
    "CA": ("ca", "canada"),
    "AU": ("au", "australia"),
    "NZ": ("nz", "new zealand"),
    "EU": ("eu", "europe", "at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu",
           "it", "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se", "austria",
           "belgium", "bulgaria", "croatia", "cyprus", "czechia", "denmark", "estonia", "finland", "france",
           "germany", "greece", "hungary", "italy", "latvia", "lithuania", "luxembourg", "malta",
           "netherlands", "poland", "portugal", "romania", "slovakia", "slovenia", "spain", "sweden"),
}
_COUNTRY_CODES = {name: code for code, names in _COUNTRY_NAMES.items() for name in names}


def country_code(value: object) -> str | None:
    """The replies' country code for what a channel says ("uk", "GB", "Germany" -> GB, GB, EU)."""
    return _COUNTRY_CODES.get(normalise(str(value))) if value else None
