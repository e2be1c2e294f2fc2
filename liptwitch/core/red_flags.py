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
from medspacy.context import ConText
from medspacy.ner import TargetMatcher, TargetRule
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from liptwitch import settings
from liptwitch.core.guided_check import days_between_marks
from liptwitch.core.knowledge_base import KnowledgeBase, RedFlag
from liptwitch.core.limits import accepted_part
from liptwitch.core.red_flag_rules import (
    CONNECTIVES,
    CONTRACTION_STEMS,
    FAMILY_WORDS,
    HOPES,
    MIN_CLAUSE_WORDS,
    NOT_AN_INABILITY_AFTER,
    NOT_REPORTING,
    PERSON_WORDS,
    PLAIN_DENIALS,
    QUESTION_STARTERS,
    RECENT_WORDS,
    SPAN_GROUP,
    context_rules,
    explanation_patterns,
    possible_cause_patterns,
    term_patterns,
)
from liptwitch.core.text import edit_distance
from liptwitch.vocabulary import TRIAGE_LEVELS

# Highest first: when several red flags are found, the first level here wins.
LEVELS = TRIAGE_LEVELS

AFFIRMED, NEGATED, HYPOTHETICAL, HISTORICAL = "affirmed", "negated", "hypothetical", "historical"
# A sign said with a certain, harmless cause in its own clause ("my lip is numb from the dentist") is CAUSED: not
# a report. One with such a cause elsewhere in its sentence is EXPLAINED: asked about, never escalated.
CAUSED, EXPLAINED = "caused", "explained"
LONG_TWITCH_ROW, LONG_TWITCH_DAYS = "RF18", 14  # TRIAGE.md: twitching that lasts more than two weeks
_DAYS = re.compile(r"\b(\d{2,3}) days\b(?! old)")
# TRIAGE.md RF12 (self-harm, suicide or overdose): ten tablets or more taken at once is more than any dose.
OVERDOSE_ROW, OVERDOSE_TABLETS = "RF12", 10
# Not "taking 12 tablets a day" or "had 10 tablets this week": a daily regimen, not a single act.
_TABLETS_TAKEN = re.compile(r"\b(?:took|taken|swallowed|downed|necked)\b(?:\s+\w+){0,3}?\s+(\d{2,3})\s+"
                            r"(?:of\s+(?:my|the|his|her)\s+)?(?:paracetamol|pills|tablets|painkillers|ibuprofen|aspirin|"
                            r"co-codamol|codeine|sleeping\s+pills|antidepressants|meds)\b")
FEELING_VERBS = ("feel", "feels", "felt", "feeling")
# Thoughts of self-harm are never explained away by a cause said beside them ("I want to die at this job"), but
# for "not wake up", which a cause does explain ("wouldn't wake up through three alarms").
_EXPLAINABLE_CRISIS_TERM = re.compile(r"\bwake\b")
_NOT_A_HISTORY = re.compile(r"\b(?:than \w+|never|n't|not) used to\b")
_DENIED_JUST_BEFORE = re.compile(r"\b(?:not|no|never|without|nor|n't|isn't|wasn't|hasn't|haven't)\s+(?:\w+\s+)?$")
ANIMAL_WORDS = {"dog", "dogs", "puppy", "pup", "cat", "cats", "kitten", "horse", "pony", "rabbit", "hamster",
                "guinea", "budgie", "parrot", "vet", "pet"}
PEOPLE_WORDS = {"me", "him", "them", "us", "someone", "somebody", "man", "woman", "lady", "guy", "boy", "girl",
                "colleague", "friend", "mate", "neighbour", "neighbor", "patient", "customer", "teacher", "boss"}
QUESTION_LABEL = "question:"  # the target label of a safety-net question's vague term: "question:fast"

# "cant", "dont", "isnt", "im", "ive": the apostrophe people skip on a phone.
_MISSING_APOSTROPHE = re.compile(
    r"\b(can|don|won|isn|aren|wasn|weren|doesn|didn|couldn|wouldn|shouldn|haven|hasn|hadn)(t)\b|\b(i)(m|ve)\b")


@dataclass(frozen=True)
class Finding:
    red_flag: str
    level: str
    text: str
    status: str  # affirmed, negated, hypothetical or historical


@dataclass(frozen=True)
class Clause:
    """A stretch of a message that says one thing: a sentence, or its part up to "but", "; ", ", my...".

    `reporting` is False when the clause denies, asks, supposes or tells the past ("no drooping", "what
    does slurred speech mean?", "my nan had seizures"): a learned reading of such a clause does not alarm.
    `denied` are the rows the detector found in the clause without affirming them.
    """

    text: str
    reporting: bool
    denied: frozenset[str] = frozenset()
    explained: bool = False  # gives a certain, harmless cause ("numb from the dentist"): worth a question at most
    caused: bool = False  # says its own harmless cause: reports nothing ("I won't be around much longer at this job")
    denial: bool = False  # holds a plain denial ("no", "never", "not")
    window: bool = False  # a stretch of a longer clause (read alone, it has lost some of its context)


@dataclass(frozen=True)
class Assessment:
    """What a message says about red flags: the level to act on (None: no escalation) and why.

    `questions` are the safety-net questions (knowledge base, kind safety_question) whose vague terms the
    message affirms ("my face feels weird"); `clauses` are the message's parts as the detector read them.
    """

    level: str | None
    red_flags: tuple[str, ...]
    findings: tuple[Finding, ...]
    questions: tuple[str, ...] = ()
    clauses: tuple[Clause, ...] = ()

    @property
    def informational(self) -> bool:
        """The message asks about a warning sign (a question, a hypothetical) rather than reporting one.

        Only signs that need help today or now count: "can antipsychotics cause twitching?" touches a
        routine row (RF21) but is an ordinary question about a cause, for the knowledge base.
        """
        return self.level is None and any(f.status == HYPOTHETICAL and f.level in LEVELS[:3] for f in self.findings)


# --- the detector -------------------------------------------------------------------------------

class RedFlagDetector:
    def __init__(self, kb: KnowledgeBase, spacy_path: Path | str = settings.SPACY_PIPELINE) -> None:
        self.red_flags = kb.red_flags
        self.kb = kb
        self.nlp = spacy.load(spacy_path)
        lemmas = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        self._english = set(lemmas.values()) | set(self.nlp.Defaults.stop_words)
        common = Path(spacy_path) / settings.COMMON_WORDS_FILE
        if common.is_file():
            # Short common strings ("hed", "sik") are as often typos of a sign's words: only longer ones count.
            self._english |= {word for word in common.read_text(encoding="utf-8").split() if len(word) >= 5}
        self._lemma_forms = lemmas
        self._vocabulary = self._red_flag_vocabulary(kb)
        self.nlp.add_pipe("sentencizer")
        # Found spans go to a span group, where they may overlap: "now my arm feels numb" is both a
        # twitch that spread (routine) and a numb arm (emergency), and the emergency must not be lost.
        matcher: TargetMatcher = self.nlp.add_pipe(
            "medspacy_target_matcher", config={"result_type": "group", "span_group_name": SPAN_GROUP, "prune": False})
        for flag in kb.red_flags.values():
            if flag.applies_with:
                continue  # such terms only qualify another finding (RF04: "...but it's gone now")
            matcher.add([TargetRule(term, flag.id, pattern=pattern) for term in flag.terms
                         for pattern in term_patterns(self.nlp, term)])
        for question in kb.safety_questions.values():
            label = QUESTION_LABEL + question.id
            matcher.add([TargetRule(term, label, pattern=pattern) for term in question.terms
                         for pattern in term_patterns(self.nlp, term)])
        self.nlp.add_pipe("drop_points_in_time")
        context: ConText = self.nlp.add_pipe(
            "medspacy_context", config={"rules": None, "prune_on_target_overlap": True,
                                        "input_span_type": "group", "span_group_name": SPAN_GROUP})
        context.add(context_rules())
        self._explanations = Matcher(self.nlp.vocab)
        self._explanations.add(CAUSED, explanation_patterns())
        self._explanations.add(EXPLAINED, possible_cause_patterns())
        self._qualifiers = {flag.id: self._phrase_regex(flag.terms) for flag in kb.red_flags.values()
                            if flag.applies_with}
        self._past_levels = {flag.id: flag.past_level for flag in kb.red_flags.values() if flag.past_level}
        self._companions = {flag.id: self._phrase_regex(flag.with_any) for flag in kb.red_flags.values()
                            if flag.with_any}

    # spelling ---------------------------------------------------------------------------------

    def _red_flag_vocabulary(self, kb: KnowledgeBase) -> set[str]:
        words: set[str] = set()
        phrases = [phrase for flag in kb.red_flags.values() for phrase in (*flag.terms, *flag.with_any)]
        phrases += [term for question in kb.safety_questions.values() for term in question.terms]
        for phrase in phrases:
            words.update(w for w in re.findall(r"[a-z]+", phrase.lower()) if len(w) >= 4)
        return words

    def _is_english(self, word: str) -> bool:
        return word in self._english or word in self._lemma_forms or word in CONTRACTION_STEMS

    @lru_cache(maxsize=8192)  # noqa: B019 - one detector per process; the cache is the point
    def _correct_word(self, word: str) -> str:
        if word.endswith("in") and len(word) > 4 and word + "g" in self._english:
            return word + "g"  # "havin a fit", "talkin funny": the dropped g
        if len(word) < 3 or word in self._vocabulary or self._is_english(word) or not word.isalpha():
            return word
        candidates = []
        for known in self._vocabulary:
            limit = 1 if len(known) < 6 else 2  # more lenient than topic matching: safety first
            distance = edit_distance(word, known, limit)
            if distance <= limit:
                # Ties go to the word that starts the same and is closest in length ("dubble": double).
                candidates.append((distance, word[0] != known[0], abs(len(word) - len(known)), known))
        return min(candidates)[-1] if candidates else word

    def normalise(self, text: str) -> str:
        """Lower case, one kind of apostrophe, contractions spelt out, and red-flag words spelt right."""
        text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
        text = _MISSING_APOSTROPHE.sub(lambda m: "'".join(g for g in m.groups() if g), text)
        text = re.sub(r"\bcnt\b|\bcan not\b", "can't", text)
        text = re.sub(r"\s*\+\s*", " and ", text)  # "lip + eyelid"
        text = re.sub(r"(?<=[a-z]) n (?=[a-z])", " and ", text)  # "lip n eyebrow", "dose increase n lip twitching"
        return re.sub(r"[a-z]+", lambda m: self._correct_word(m.group(0)), text)

    @staticmethod
    def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
        alternatives = sorted((re.escape(p.lower()).replace(r"\ ", r"\s+") for p in phrases), key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")

    # reading ----------------------------------------------------------------------------------

    def assess(self, text: str) -> Assessment:
        """What `text` says about red flags. Reads at most limits.MAX_MESSAGE_CHARACTERS: its time is bounded."""
        normalised = self.normalise(accepted_part(text or ""))
        doc = self.nlp(normalised)
        spans = [span for span in doc.spans[SPAN_GROUP] if not span.label_.startswith(QUESTION_LABEL)]
        cues = [span for span in doc.spans[SPAN_GROUP] if span.label_.startswith(QUESTION_LABEL)]
        explained = self._explained_clauses(doc)
        findings = [self._finding(span, explained) for span in spans]
        findings = [f for f in findings if self._has_companion(f, normalised)]
        findings += self._qualified(findings, normalised)
        findings += self._counted_from_a_time_of_year(findings, normalised)
        findings += self._an_overdose_counted(findings, normalised)
        reported = [f for f in findings if f.status == AFFIRMED]
        # A past episode matters for some rows only, at their own level (Bell's palsy years ago: routine).
        reported += [replace(f, level=self._past_levels[f.red_flag]) for f in findings
                     if f.status == HISTORICAL and f.red_flag in self._past_levels]
        levels = {f.level for f in reported}
        level = next((candidate for candidate in LEVELS if candidate in levels), None)
        red_flags = tuple(dict.fromkeys(f.red_flag for f in reported if f.level == level))
        questions = [span.label_.removeprefix(QUESTION_LABEL) for span in cues
                     if self._cue_affirmed(span) and self._clause_start(span) not in explained]
        # A sign said with a harmless cause ("my mouth was numb from the filling") is asked about.
        questions += [question.id for f in findings if f.status == EXPLAINED and f.level in LEVELS[:3]
                      for question in [self.kb.question_for(f.red_flag)] if question is not None]
        questions = tuple(dict.fromkeys(questions))
        return Assessment(level=level, red_flags=red_flags, findings=tuple(findings), questions=questions,
                          clauses=self._clauses(doc, spans))

    def _cue_affirmed(self, span: Span) -> bool:
        """A vague change ("my face feels weird") counts unless denied, asked about or in the past."""
        if span.label_ == QUESTION_LABEL + "mood":
            return not span._.is_negated  # as with crisis rows: "if I..." is taken seriously too
        return not (span._.is_negated or span._.is_hypothetical or span._.is_historical
                    or self._general_question(span) or self._family_history(span))

    def _clause_start(self, entity: Span) -> int:
        return max(b for b in self._clause_bounds(entity.doc) if b <= entity.start)

    def _clauses(self, doc: Doc, spans: list[Span]) -> tuple[Clause, ...]:
        """The message cut into clauses where ConText cuts a scope (sentence ends, "but", ", my..."); a
        fragment of a few words ("my voice", "weird") joins its neighbour, as it says too little alone, unless
        one of them reports and the other denies, asks or explains."""
        modifiers = list(doc._.context_graph.modifiers)
        explained = self._explained_clauses(doc)
        parts: list[dict] = []
        bounds = self._clause_bounds(doc)
        for start, end in zip(bounds, bounds[1:]):  # noqa: B905 - one shorter on purpose
            words = [t.lower_ for t in doc[start:end] if t.is_alpha and t.lower_ not in CONNECTIVES]
            if not words:
                continue
            inside = [m for m in modifiers if start <= m.modifier_span[0] < end]
            denial = any(m.category == "NEGATED_EXISTENCE" and self._plain_denial(doc, m.modifier_span) for m in inside)
            part = {"start": start, "end": end, "words": len(words), "explained": explained.get(start) == EXPLAINED,
                    "caused": explained.get(start) == CAUSED,
                    "reporting": not denial and not any(m.category in NOT_REPORTING for m in inside)
                    and explained.get(start) != CAUSED,
                    "denial": denial,
                    "denied": frozenset(f.red_flag for span in spans if start <= span.start < end
                                        for f in [self._finding(span, explained)] if f.status != AFFIRMED)}
            if parts and (part["words"] < MIN_CLAUSE_WORDS or parts[-1]["words"] < MIN_CLAUSE_WORDS) \
                    and (parts[-1]["reporting"], parts[-1]["explained"]) == (part["reporting"], part["explained"]):
                last = parts[-1]
                parts[-1] = {"start": last["start"], "end": end, "words": last["words"] + part["words"],
                             "reporting": last["reporting"] and part["reporting"],
                             "explained": last["explained"] or part["explained"],
                             "caused": last["caused"] or part["caused"],
                             "denial": last["denial"] or part["denial"], "denied": last["denied"] | part["denied"]}
            else:
                parts.append(part)
        return tuple(Clause(text=doc[p["start"]:p["end"]].text.strip(" ,;."), reporting=p["reporting"],
                            denied=p["denied"], explained=p["explained"], caused=p["caused"], denial=p["denial"])
                     for p in parts)

    @staticmethod
    def _plain_denial(doc: Doc, span: tuple[int, int]) -> bool:
        """ "no", "never", "not"...: a denial, but for "not" after "could", "can", "will", "is"... ("could not pick
        it up", "is not listening"), which says what someone cannot do, as "couldn't" does."""
        text = doc[span[0]:span[1]].text
        if text == "not" and span[0] > 0 and doc[span[0] - 1].lower_ in NOT_AN_INABILITY_AFTER:
            return False
        return text in PLAIN_DENIALS

    def _clause_bounds(self, doc: Doc) -> list[int]:
        """Where clauses start and end: sentence starts, and where ConText cuts a scope ("but", ", my")."""
        if "clause_bounds" in doc.user_data:  # worked out once a message
            return doc.user_data["clause_bounds"]
        cuts = {0, len(doc)}
        cuts.update(sentence.start for sentence in doc.sents)
        for modifier in doc._.context_graph.modifiers:
            if modifier.category == "TERMINATE":  # "but" | "but"; ", my" | ", " | "my"
                cuts.update((modifier.modifier_span[0], modifier.modifier_span[0] + 1))
        doc.user_data["clause_bounds"] = sorted(cuts)
        return doc.user_data["clause_bounds"]

    def _explained_clauses(self, doc: Doc) -> dict[int, str]:
        """Clauses (by their start) of a sentence that gives a certain, harmless cause: CAUSED for the clause
        that says it, EXPLAINED for the others ("on stage my mouth goes dry, my voice shakes"). A likeness is no
        cause ("slack, like he'd had an injection at the dentist"), nor a hope ("I think it's from the dentist").
        """
        if "explained_clauses" in doc.user_data:
            return doc.user_data["explained_clauses"]
        bounds = self._clause_bounds(doc)
        found: dict[int, str] = {}
        for match_id, start, _ in self._explanations(doc):
            certain = self.nlp.vocab.strings[match_id] == CAUSED
            sentence = doc[start].sent
            clause = max(b for b in bounds if b <= start)
            # "felt like I was going to faint when I saw the bill": a feeling with the sign after it, not a likeness
            # of the cause ("my chest feels like someone's sitting on it" is one).
            signs = [span.start for span in doc.spans[SPAN_GROUP]]
            before = {t.lower_ for t in doc[clause:start]
                      if not (t.lower_ == "like" and t.i > 0 and doc[t.i - 1].lower_ in FEELING_VERBS
                              and any(t.i < sign < start for sign in signs))}
            just_before = {t.lower_ for t in doc[max(clause, start - 4):start]}
            # A likeness, a denied cause ("I haven't been to the dentist") or a hope is no cause; a denial further
            # back is about something else ("I won't be around much longer at this job").
            if before & {"like", "if", "though"} or just_before & {"n't", "not", "never", "no"} \
                    or {t.lower_ for t in doc[sentence.start:start]} & HOPES:
                continue
            for bound in bounds:
                if sentence.start <= bound < sentence.end and found.get(bound) != CAUSED:
                    found[bound] = EXPLAINED
            if certain:
                found[max(b for b in bounds if b <= start)] = CAUSED
        doc.user_data["explained_clauses"] = found
        return found

    def _finding(self, entity: Span, explained: dict[int, str] | None = None) -> Finding:
        flag: RedFlag = self.red_flags[entity.label_]
        cause = explained.get(self._clause_start(entity)) if explained else None
        if flag.level == "routine":
            cause = None  # "twitching for 3 weeks since the filling", "since the Botox": a cause does not shorten it
        if entity._.is_negated:
            status = NEGATED
        elif (cause == CAUSED and (flag.level != "crisis" or _EXPLAINABLE_CRISIS_TERM.search(entity.text))) \
                or self._an_animals(entity):
            status = CAUSED  # "wouldn't wake up through three alarms", "numb from the filling", "our dog had a fit"
        elif flag.level == "crisis":
            status = AFFIRMED  # any mention of harming oneself is taken seriously, even "if..."
        elif (entity._.is_hypothetical or self._general_question(entity)) and not self._happening_now(entity):
            status = HYPOTHETICAL
        elif entity._.is_historical or self._family_history(entity):
            status = HISTORICAL
        elif cause == EXPLAINED:
            status = EXPLAINED
        else:
            status = AFFIRMED
        return Finding(red_flag=flag.id, level=flag.level, text=entity.text, status=status)

    @staticmethod
    def _general_question(entity: Span) -> bool:
        """ "is difficulty swallowing ever serious?": a question about a symptom, not about anyone."""
        sentence = [t.lower_ for t in entity.sent if not t.is_space]
        # "was putting the washing out and ... can't walk in a straight line": a story told without "I", not a
        # question; an auxiliary opens a question only when one is asked.
        asked = sentence[-1] == "?" or sentence[0] not in ("was", "were", "had", "has", "did")
        return sentence[0] in QUESTION_STARTERS and asked and not set(sentence) & set(PERSON_WORDS)

    def _an_animals(self, entity: Span) -> bool:
        """ "our dog had a seizure last night": the nearest one named before the sign, in its clause, is an animal
        ("my dad collapsed walking the dog" is about the dad)."""
        for token in reversed(entity.doc[self._clause_start(entity):entity.start]):
            if token.lower_ in ANIMAL_WORDS:
                return True
            if token.lower_ in PERSON_WORDS or token.lower_ in FAMILY_WORDS or token.lower_ in PEOPLE_WORDS:
                return False
        return False

    @staticmethod
    def _family_history(entity: Span) -> bool:
        """ "my nan had seizures": a relative's past episodes, not something happening now."""
        # "harder to chew than it used to be", "never used to": a change now, not a history.
        words = set(_NOT_A_HISTORY.sub(" ", entity.sent.text.lower()).split())
        return (bool(words & set(FAMILY_WORDS)) and bool(words & {"had", "used"})
                and entity.text.endswith("s") and not words & set(RECENT_WORDS))

    def _happening_now(self, entity: Span) -> bool:
        """A question that says it is happening still reports it: "is he having a seizure right now?". Only its
        own clause counts: in "if someone's face drooped but it went away, should they still go?", "still" is not."""
        bounds = self._clause_bounds(entity.doc)
        start = max(b for b in bounds if b <= entity.start)
        end = min(b for b in bounds if b >= entity.end)
        words = {t.lower_ for t in entity.doc[start:end]}
        return bool(words & {"now", "currently", "having", "happening", "still"})

    def _has_companion(self, finding: Finding, text: str) -> bool:
        """Rows like RF11 (head injury) count only with one of their companion symptoms."""
        companion = self._companions.get(finding.red_flag)
        if companion is None:
            return True
        # A companion denied in as many words ("not sick, not sleepy", "no vomiting") does not count.
        return any(not _DENIED_JUST_BEFORE.search(text[:match.start()]) for match in companion.finditer(text))

    def _counted_from_a_time_of_year(self, findings: list[Finding], text: str) -> list[Finding]:
        """"since the clocks went back and it's nearly christmas now": more than two weeks, counted between two times
        of the year (guided_check.days_between_marks), which no term can say."""
        flag = self.red_flags.get(LONG_TWITCH_ROW)
        if flag is None or any(f.red_flag == LONG_TWITCH_ROW for f in findings):
            return []
        days = days_between_marks(text)
        counted = _DAYS.search(text)  # "for 16 days straight now": a number no term can compare
        if counted and int(counted.group(1)) > LONG_TWITCH_DAYS:
            days = max(days or 0, float(counted.group(1)))
        if days is None or days <= LONG_TWITCH_DAYS:
            return []
        return [Finding(red_flag=flag.id, level=flag.level, text=f"about {days:.0f} days", status=AFFIRMED)]

    def _an_overdose_counted(self, findings: list[Finding], text: str) -> list[Finding]:
        """"took about 20 paracetamol an hour ago": more tablets than any dose, counted (two are a dose, not a term)."""
        flag = self.red_flags.get(OVERDOSE_ROW)
        taken = _TABLETS_TAKEN.search(text)
        if flag is None or taken is None or int(taken.group(1)) < OVERDOSE_TABLETS \
                or any(f.red_flag == OVERDOSE_ROW and f.status == AFFIRMED for f in findings):
            return []
        return [Finding(red_flag=flag.id, level=flag.level, text=taken.group(0), status=AFFIRMED)]

    def _qualified(self, findings: list[Finding], text: str) -> list[Finding]:
        """Rows that qualify another finding, such as RF04: face, arm or speech signs that went away."""
        extra = []
        for flag_id, regex in self._qualifiers.items():
            flag = self.red_flags[flag_id]
            if regex.search(text) and any(f.status == AFFIRMED and f.red_flag in flag.applies_with for f in findings):
                extra.append(Finding(red_flag=flag_id, level=flag.level, text=regex.search(text).group(0),
                                     status=AFFIRMED))
        return extra
