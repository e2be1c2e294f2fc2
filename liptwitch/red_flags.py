"""Red-flag detection: does a message describe a symptom that needs care now, and at what level?

Implements the reading rules of the clinical specification (shared/clinical/TRIAGE.md) on spaCy and
medspaCy: target rules generated from the knowledge base's red-flag terms, and ConText modifiers
for denial, questions and hypotheticals, and the past. Where off-the-shelf ConText would be wrong
for this use, the rules here differ on purpose:

- a denial silences only its own finding: its scope ends at "but" and at a new clause;
- "went away", "fine now" and "no longer" are not denials (a symptom that went away may be a TIA);
- pseudo-negations ("no idea why...", "not only...") and hedges ("I think maybe...") affirm;
- third person affirms (the person writing may not be the patient); a family *history* does not;
- questions and hypotheticals ("what does facial droop mean?") inform rather than alarm.

Misspellings are corrected towards the red-flag vocabulary first ("slured speach", "fce droopng"),
but only for words that are not English words already ("week" never becomes "weak").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import spacy
from medspacy.context import ConText, ConTextRule
from medspacy.ner import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from liptwitch.knowledge_base import KnowledgeBase, RedFlag
from liptwitch.spacy_pipeline import DEFAULT_PATH as DEFAULT_SPACY_PATH
from liptwitch.text import word_distance

# Highest first: when several red flags are found, the first level here wins.
LEVELS = ("emergency", "crisis", "urgent", "routine")

AFFIRMED, NEGATED, HYPOTHETICAL, HISTORICAL = "affirmed", "negated", "hypothetical", "historical"

NEGATION_WORDS = ("no", "not", "n't", "never", "without", "none", "nor", "neither")
PERSON_WORDS = ("my", "his", "her", "their", "our", "your", "i", "he", "she", "they", "we", "i'm", "im",
                "mum", "mom", "dad", "son", "daughter", "husband", "wife", "partner", "baby", "child")
MAX_GAP = 3  # words allowed between the words of a term: "face is drooping", "arm feels so weak"
NUMBER_WORDS = ("a", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "few", "several", "couple", "many")


@dataclass(frozen=True)
class Finding:
    red_flag: str
    level: str
    text: str
    status: str  # affirmed, negated, hypothetical or historical


@dataclass(frozen=True)
class Assessment:
    """What a message says about red flags: the level to act on (None: no escalation) and why."""

    level: str | None
    red_flags: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def informational(self) -> bool:
        """The message asks about a red flag (a question, a hypothetical) rather than reporting one."""
        return self.level is None and any(f.status == HYPOTHETICAL for f in self.findings)


# --- ConText rules: the reading rules of TRIAGE.md ---------------------------------------------

def _words(*phrases: str) -> list[dict]:
    return [{"LOWER": word} for word in phrases]


def _context_rules() -> list[ConTextRule]:
    negation = [
        "no", "not", "n't", "never", "without", "denies", "deny", "none", "nothing like", "no sign of",
        "no signs of", "free of", "negative for", "nor", "neither",
    ]
    pseudo = [  # look like negations or hypotheticals, but affirm
        "no idea", "no clue", "not sure why", "not sure if", "not sure whether", "not only", "not just",
        "no longer", "not anymore", "no doubt", "not getting better", "not going away", "not stopping",
        "not improving", "not better", "no better", "not even", "don't know why", "dont know why",
        "do n't know why", "does n't know why", "can't tell why", "ca n't tell why", "not normal",
        "is n't normal", "is not normal", "not right", "not fine", "not okay", "not ok", "never had this before",
        "never had this", "never happened before", "never felt", "never been like this",
    ]
    terminate = ["but", "however", "although", "though", "except", "yet", "apart from", "aside from",
                 "now", "then", "also", "plus", "whereas", "while", "still"]
    hypothetical = [
        "if", "what if", "in case", "whether", "signs of", "sign of", "symptoms of", "symptom of",
        "what does", "what do", "what is", "what's", "whats", "what are", "meaning of", "definition of",
        "tell me about", "explain", "know about", "read about", "worried about getting", "afraid of getting",
        "scared of getting", "risk of", "chance of", "could it be", "could this be", "can it be",
        "is it a", "is it an", "is this a", "is that a", "is it like", "difference between", "how do i know",
        "how can i tell", "how would i know", "what happens", "would it", "should i worry about",
        "what causes", "can you get", "do people get", "how to recognise", "how to recognize", "look out for",
        "watch out for", "warning signs", "is it possible", "could i have", "do i have", "might have",
        "in the future", "someday", "one day", "does that mean", "is that",
    ]
    # "is my twitch a seizure?", "could it be a fit?": asking what something is.
    what_is_it = [{"LOWER": {"IN": ["is", "could", "can", "might", "would", "are"]}},
                  {"LOWER": {"IN": ["my", "this", "that", "it", "the", "these"]}},
                  {"LOWER": {"IN": ["twitch", "twitching", "twitches", "lip", "be", "just"]}, "OP": "?"},
                  {"LOWER": {"IN": ["a", "an", "like", "related", "part"]}}]
    historical = [
        "years ago", "year ago", "months ago", "month ago", "as a child", "as a kid", "as a teenager",
        "when i was younger", "when i was a kid", "when i was little", "in the past", "history of",
        "used to", "fully recovered", "recovered", "runs in my family", "runs in the family",
        "in my family", "last year", "passed away", "died", "long time ago", "ages ago", "decades ago",
        "back in", "previously had", "once had", "years back",
    ]
    rules = [ConTextRule(term, "NEGATED_EXISTENCE", direction="FORWARD", max_scope=6) for term in negation]
    rules += [ConTextRule(term, "PSEUDO", direction="PSEUDO") for term in pseudo]
    # A short scope for terminations: medspaCy 1.2 only sees a scope overlap when one starts or ends
    # inside the other, so a sentence-wide TERMINATE scope would never cut a denial short.
    rules += [ConTextRule(term, "TERMINATE", direction="TERMINATE", max_scope=1) for term in terminate]
    # A new clause ends a denial: "no drooping, and my arm is weak" / "no drooping. my arm is weak"
    rules.append(ConTextRule("new clause", "TERMINATE", direction="TERMINATE", max_scope=1, pattern=[
        {"LOWER": {"IN": [",", ";", "and", "-", "&"]}},
        {"LOWER": {"IN": list(PERSON_WORDS) + ["it", "it's", "its", "the", "this", "now", "suddenly"]}}]))
    rules += [ConTextRule(term, "HYPOTHETICAL", direction="FORWARD") for term in hypothetical]
    rules.append(ConTextRule("is it a", "HYPOTHETICAL", direction="FORWARD", pattern=what_is_it))
    rules += [ConTextRule(term, "HYPOTHETICAL", direction="BACKWARD") for term in ("mean", "means", "meaning")]
    rules += [ConTextRule(term, "HISTORICAL", direction="BIDIRECTIONAL") for term in historical]
    rules.append(ConTextRule("N years ago", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        {"LIKE_NUM": True}, {"LOWER": {"IN": ["years", "year", "yrs", "yr", "months"]}},
        {"LOWER": {"IN": ["ago", "back"]}}]))
    return rules


# --- target rules from the knowledge base ---------------------------------------------------------

def _term_pattern(nlp: Language, term: str) -> list[dict]:
    """A spaCy pattern for a knowledge-base term: each word by lemma or form, short gaps between.

    "face drooping" matches "face is drooping", "face droops" and "face has really drooped", but no
    gap may hold a negation ("face isn't drooping" is not a match) or a break ("face. drooping").
    """
    gap = {"IS_PUNCT": False, "LOWER": {"NOT_IN": [*NEGATION_WORDS, "but", "and", "or"]}, "OP": "?"}
    pattern: list[dict] = []
    tokens = list(nlp(term.lower()))
    for index, token in enumerate(tokens):
        if token.text == "<num>":
            pattern.append({"LOWER": {"IN": [*NUMBER_WORDS, "2", "3", "4", "5", "6", "7", "8", "9", "10"]}})
        elif token.is_alpha and len(token.text) > 2:
            pattern.append({"LEMMA": {"IN": sorted({token.lemma_.lower(), token.text})}})
        else:
            pattern.append({"LOWER": token.text})
        joined = index + 1 < len(tokens) and (tokens[index + 1].text.startswith("'")
                                              or tokens[index + 1].text == "n't")
        if index + 1 < len(tokens) and not joined:
            pattern.extend([dict(gap) for _ in range(MAX_GAP)])
    return pattern


# --- the detector -------------------------------------------------------------------------------

class RedFlagDetector:
    def __init__(self, kb: KnowledgeBase, spacy_path: Path | str = DEFAULT_SPACY_PATH) -> None:
        self.red_flags = kb.red_flags
        self.nlp = spacy.load(spacy_path)
        lemmas = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        self._english = set(lemmas.values()) | set(self.nlp.Defaults.stop_words)
        self._lemma_forms = lemmas
        self._vocabulary = self._red_flag_vocabulary(kb)
        self.nlp.add_pipe("sentencizer")
        matcher: TargetMatcher = self.nlp.add_pipe("medspacy_target_matcher")
        for flag in kb.red_flags.values():
            if flag.applies_with:
                continue  # such terms only qualify another finding (RF04: "...but it's gone now")
            matcher.add([TargetRule(term, flag.id, pattern=_term_pattern(self.nlp, term)) for term in flag.terms])
        context: ConText = self.nlp.add_pipe(
            "medspacy_context", config={"rules": None, "prune_on_target_overlap": True})
        context.add(_context_rules())
        self._qualifiers = {flag.id: self._phrase_regex(flag.terms) for flag in kb.red_flags.values()
                            if flag.applies_with}
        self._past_levels = {flag.id: flag.past_level for flag in kb.red_flags.values() if flag.past_level}
        self._companions = {flag.id: self._phrase_regex(flag.with_any) for flag in kb.red_flags.values()
                            if flag.with_any}

    # spelling ---------------------------------------------------------------------------------

    def _red_flag_vocabulary(self, kb: KnowledgeBase) -> set[str]:
        words: set[str] = set()
        for flag in kb.red_flags.values():
            for phrase in (*flag.terms, *flag.with_any):
                words.update(w for w in re.findall(r"[a-z]+", phrase.lower()) if len(w) >= 4)
        return words

    def _is_english(self, word: str) -> bool:
        return word in self._english or word in self._lemma_forms

    @lru_cache(maxsize=8192)  # noqa: B019 - one detector per process; the cache is the point
    def _correct_word(self, word: str) -> str:
        if len(word) < 3 or word in self._vocabulary or self._is_english(word) or not word.isalpha():
            return word
        best, best_distance = word, None
        for known in self._vocabulary:
            distance = word_distance(word, known)
            if distance is not None and (best_distance is None or distance < best_distance):
                best, best_distance = known, distance
        return best

    def normalise(self, text: str) -> str:
        """Lower case, one kind of apostrophe, and red-flag words spelt right."""
        text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
        return re.sub(r"[a-z]+", lambda m: self._correct_word(m.group(0)), text)

    @staticmethod
    def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
        alternatives = sorted((re.escape(p.lower()).replace(r"\ ", r"\s+") for p in phrases), key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")

    # reading ----------------------------------------------------------------------------------

    def assess(self, text: str) -> Assessment:
        normalised = self.normalise(text or "")
        doc = self.nlp(normalised)
        findings = [self._finding(entity) for entity in doc.ents]
        findings = [f for f in findings if self._has_companion(f, normalised)]
        findings += self._qualified(findings, normalised)
        reported = [f for f in findings if f.status == AFFIRMED]
        # A past episode matters for some rows only, at their own level (Bell's palsy years ago: routine).
        reported += [replace(f, level=self._past_levels[f.red_flag]) for f in findings
                     if f.status == HISTORICAL and f.red_flag in self._past_levels]
        levels = {f.level for f in reported}
        level = next((candidate for candidate in LEVELS if candidate in levels), None)
        red_flags = tuple(dict.fromkeys(f.red_flag for f in reported if f.level == level))
        return Assessment(level=level, red_flags=red_flags, findings=tuple(findings))

    def _finding(self, entity: Span) -> Finding:
        flag: RedFlag = self.red_flags[entity.label_]
        if entity._.is_negated:
            status = NEGATED
        elif entity._.is_hypothetical and not self._names_a_person(entity):
            status = HYPOTHETICAL
        elif entity._.is_historical:
            status = HISTORICAL
        else:
            status = AFFIRMED
        return Finding(red_flag=flag.id, level=flag.level, text=entity.text, status=status)

    @staticmethod
    def _names_a_person(entity: Span) -> bool:
        """A question about someone's own symptom still reports it: "why is my face drooping?"."""
        doc: Doc = entity.doc
        before = [t.lower_ for t in doc[max(entity.sent.start, entity.start - 2):entity.start]]
        inside = [t.lower_ for t in entity]
        having = {"having", "had", "has", "got", "getting"}
        return bool(set(before + inside[:1]) & set(PERSON_WORDS) or set(before) & having)

    def _has_companion(self, finding: Finding, text: str) -> bool:
        """Rows like RF11 (head injury) count only with one of their companion symptoms."""
        companion = self._companions.get(finding.red_flag)
        return companion is None or bool(companion.search(text))

    def _qualified(self, findings: list[Finding], text: str) -> list[Finding]:
        """Rows that qualify another finding, such as RF04: face, arm or speech signs that went away."""
        extra = []
        for flag_id, regex in self._qualifiers.items():
            flag = self.red_flags[flag_id]
            if regex.search(text) and any(f.status == AFFIRMED and f.red_flag in flag.applies_with for f in findings):
                extra.append(Finding(red_flag=flag_id, level=flag.level, text=regex.search(text).group(0),
                                     status=AFFIRMED))
        return extra
