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
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from liptwitch.knowledge_base import KnowledgeBase, RedFlag
from liptwitch.limits import accepted_part
from liptwitch.spacy_pipeline import COMMON_WORDS
from liptwitch.spacy_pipeline import DEFAULT_PATH as DEFAULT_SPACY_PATH
from liptwitch.text import edit_distance

# Highest first: when several red flags are found, the first level here wins.
LEVELS = ("emergency", "crisis", "urgent", "routine")

AFFIRMED, NEGATED, HYPOTHETICAL, HISTORICAL = "affirmed", "negated", "hypothetical", "historical"
# A sign said with a certain, harmless cause in its own clause ("my lip is numb from the dentist") is CAUSED: not
# a report. One with such a cause elsewhere in its sentence is EXPLAINED: asked about, never escalated.
CAUSED, EXPLAINED = "caused", "explained"

NEGATION_WORDS = ("no", "not", "n't", "never", "without", "none", "nor", "neither")
PERSON_WORDS = ("my", "his", "her", "their", "our", "your", "i", "he", "she", "they", "we", "i'm", "im",
                "mum", "mom", "dad", "son", "daughter", "husband", "wife", "partner", "baby", "child")
SPAN_GROUP = "red_flags"
QUESTION_LABEL = "question:"  # the target label of a safety-net question's vague term: "question:fast"
# Context that makes a clause not a report: a question or supposition, the past, or a plain denial. The
# contracted "n't" is left out on purpose: it is part of many signs ("can't lift", "won't move").
NOT_REPORTING = ("HYPOTHETICAL", "HISTORICAL")
# "wouldn't" is read as "wouldn" + "'t": the stem must never be "corrected" into another word ("couldn").
CONTRACTION_STEMS = {"wouldn", "couldn", "shouldn", "didn", "doesn", "isn", "wasn", "weren", "hasn", "haven", "hadn",
                     "aren", "won", "don", "can", "ain", "mustn", "needn"}
# Words that make a harmless cause a hope rather than a fact: "I think it's from the dentist".
HOPES = {"think", "thinks", "thought", "probably", "maybe", "might", "hope", "hoping", "guess", "reckon", "assume",
         "assuming", "perhaps", "possibly", "wondering", "surely"}
MIN_CLAUSE_WORDS = 4  # a shorter part of a message is read with its neighbour
CONNECTIVES = {"but", "and", "however", "although", "though", "except", "yet", "also", "plus", "whereas", "while",
               "still", "then", "now", "-", "&", ",", ";"}
NOT_AN_INABILITY_AFTER = {"can", "could", "would", "will", "is", "are", "was", "were", "am", "'s", "'re"}
PLAIN_DENIALS = {"no", "not", "never", "without", "denies", "deny", "none", "nothing like", "no sign of",
                 "no signs of", "free of", "negative for", "nor", "neither"}
QUESTION_STARTERS = ("is", "are", "can", "could", "would", "will", "does", "do", "should", "what", "how",
                     "which", "when", "why", "whats", "what's", "was", "were", "might", "may")
FAMILY_WORDS = ("mum", "mom", "mother", "dad", "father", "nan", "nana", "gran", "granny", "grandma",
                "grandad", "grandpa", "grandmother", "grandfather", "aunt", "auntie", "uncle", "cousin",
                "brother", "sister", "family", "parents")
RECENT_WORDS = ("today", "tonight", "yesterday", "morning", "just", "now", "earlier", "minutes", "hour",
                "hours", "last night", "this week")
MAX_GAP = 4  # words allowed between the words of a term: "face is drooping", "arm feels so weak"
NUMBER_WORDS = ("a", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "few", "several", "couple", "many")


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
        "won't stop", "won't quit", "won't go away", "wont stop", "wont quit", "doesn't stop", "doesn't go away",
        "writing is that", "reason is that", "thing is that", "problem is that", "happened is that", "worry is that",
        "i mean", "i meant", "he means", "she means", "he meant", "she meant", "they mean", "what i mean",
        "can't stop", "never stops", "never goes away", "not stopped", "hasn't stopped", "hasn't come back",
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
        "in the future", "someday", "one day", "does that mean", "is that", "asking for general knowledge",
        "hypothetically", "if someone", "if somebody", "if a person", "when someone", "for a first aid",
        "turn into", "turns into", "lead to", "leads to", "develop into", "progress to", "asking for the future",
        "general question", "just curious", "out of curiosity", "in general", "ever linked",
    ]
    # "is my twitch a seizure?", "could it be a fit?": asking what something is.
    what_is_it = [{"LOWER": {"IN": ["is", "could", "can", "might", "would", "are"]}},
                  {"LOWER": {"IN": ["my", "this", "that", "it", "the", "these"]}},
                  {"LOWER": {"IN": ["twitch", "twitching", "twitches", "lip", "be", "just"]}, "OP": "?"},
                  {"LOWER": {"IN": ["twitch", "twitching", "twitches", "lip", "be", "just"]}, "OP": "?"},
                  {"LOWER": {"IN": ["a", "an", "like", "related", "part"]}}]
    historical = [
        "years ago", "year ago", "months ago", "month ago", "as a child", "as a kid", "as a teenager",
        "when i was younger", "when i was a kid", "when i was little", "in the past", "history of",
        "in her twenties", "in his twenties", "in my twenties", "in her thirties", "in his thirties", "in my thirties",
        "in her teens", "in his teens", "in my teens", "in her forties", "in his forties", "in my forties",
        "used to", "fully recovered", "recovered", "runs in my family", "runs in the family",
        "in my family", "last year", "passed away", "died", "long time ago", "ages ago", "decades ago",
        "back in", "previously had", "once had", "years back", "run in families", "runs in families",
        "nothing since", "never since", "as a toddler", "as a baby", "as a child", "as a kid", "as a teenager",
    ]
    rules = [ConTextRule(term, "NEGATED_EXISTENCE", direction="FORWARD", max_scope=6) for term in negation]
    rules += [ConTextRule(term, "PSEUDO", direction="PSEUDO") for term in pseudo]
    # A short scope for terminations: medspaCy 1.2 only sees a scope overlap when one starts or ends
    # inside the other, so a sentence-wide TERMINATE scope would never cut a denial short.
    rules += [ConTextRule(term, "TERMINATE", direction="TERMINATE", max_scope=1) for term in terminate]
    # A new clause ends a denial: "no drooping, and my arm is weak" / "no drooping. my arm is weak"
    rules.append(ConTextRule("new clause", "TERMINATE", direction="TERMINATE", max_scope=1, pattern=[
        {"LOWER": {"IN": [",", ";", "and", "-", "&"]}},
        {"LOWER": {"IN": list(PERSON_WORDS) + ["it", "it's", "its", "the", "this", "now", "suddenly", "all",
                                               "everything", "then", "today", "tonight", "yesterday"]}}]))
    # Short scope: "what does facial droop mean?" informs; "what do I do, my son is having a seizure" alarms.
    rules += [ConTextRule(term, "HYPOTHETICAL", direction="FORWARD", max_scope=7) for term in hypothetical]
    rules.append(ConTextRule("is it a", "HYPOTHETICAL", direction="FORWARD", pattern=what_is_it))
    rules += [ConTextRule(term, "HYPOTHETICAL", direction="BACKWARD") for term in ("mean", "means", "meaning")]
    rules += [ConTextRule(term, "HISTORICAL", direction="BIDIRECTIONAL") for term in historical]
    # "when I was younger", "when she was a kid", "when I was at school": a time of life, not "when I was
    # brushing my teeth" (that is tonight).
    someone_was = [{"LOWER": "when"}, {"LOWER": {"IN": ["i", "she", "he", "they", "we"]}},
                   {"LOWER": {"IN": ["was", "were"]}}]
    rules.append(ConTextRule("when she was younger", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        *someone_was, {"LOWER": {"IN": ["younger", "little", "young", "small", "pregnant"]}}]))
    rules.append(ConTextRule("when she was a kid", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        *someone_was, {"LOWER": {"IN": ["a", "an"]}},
        {"LOWER": {"IN": ["kid", "child", "baby", "teenager", "toddler", "teen", "student"]}}]))
    rules.append(ConTextRule("when she was at school", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        *someone_was, {"LOWER": {"IN": ["at", "in"]}},
        {"LOWER": {"IN": ["school", "primary", "uni", "university", "college", "nursery"]}}]))
    # Lifelong, not new: "crooked in photos since I was a kid", "like I always do when I'm nervous".
    lifelong = ["since i was a kid", "since i was a child", "since i was little", "since i was a baby",
                "since i was a teenager", "since birth", "since i was born", "all my life", "my whole life",
                "always been like", "always been like this", "always has been", "always have", "always had",
                "like i always do", "as i always do", "i always do", "it always has", "always been that way"]
    rules += [ConTextRule(term, "HISTORICAL", direction="BIDIRECTIONAL") for term in lifelong]

    rules.append(ConTextRule("when I was 2", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        {"LOWER": "when"}, {"LOWER": {"IN": ["i", "she", "he", "they", "we"]}}, {"LOWER": {"IN": ["was", "were"]}},
        {"LIKE_NUM": True}]))
    # "I nearly fainted when I saw the price": nearly is not at all.
    rules += [ConTextRule(term, "HYPOTHETICAL", direction="FORWARD", max_scope=2) for term in ("nearly", "almost")]
    rules.append(ConTextRule("N years ago", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        {"LIKE_NUM": True}, {"LOWER": {"IN": ["years", "year", "yrs", "yr", "months"]}},
        {"LOWER": {"IN": ["ago", "back"]}}]))
    return rules


def _explanation_patterns() -> list[list[dict]]:
    """A certain, harmless cause said with a sign: "numb from the dentist", "couldn't breathe for laughing",
    "arms dead from chest day". Such a sign is asked about rather than escalated (status EXPLAINED). The hopes
    people wrap a stroke in ("slept on it funny", "probably tired", "the coffee") are not among them.
    """
    because = {"LOWER": {"IN": ["from", "because", "due", "after", "thanks", "with", "of", "through"]}}
    filler = {"LOWER": {"IN": ["to", "of", "the", "my", "a", "all", "that", "this", "so", "much", "three", "two",
                               "several", "yesterday's", "yesterdays"]}, "OP": "*"}
    causes = ["dentist", "dentists", "dental", "filling", "fillings", "anaesthetic", "anesthetic", "numbing",
              "novocaine", "injection", "gym", "workout", "lifting", "laughing", "laughter", "crying", "shouting",
              "singing", "rollercoaster", "sunburn", "kneeling", "sitting", "alarm", "alarms"]
    patterns = [[because, filler, {"LOWER": {"IN": causes}}],
                [because, filler, {"LOWER": {"IN": ["chest", "leg", "arm", "back", "shoulder"]}}, {"LOWER": "day"}],
                [{"LOWER": "when"}, {"LOWER": {"IN": ["i", "i'm", "im"]}},
                 {"LOWER": {"IN": ["am", "get", "'m"]}, "OP": "?"},
                 {"LOWER": {"IN": ["nervous", "anxious", "presenting"]}}]]
    phrases = ["for laughing", "laughing so hard", "laughed so hard", "stage fright", "public speaking", "on stage",
               "voice notes", "in photos", "on camera", "in pictures", "on the rollercoaster", "at the dentist",
               "the dentist", "dentist", "root canal", "filling", "anaesthetic", "anesthetic", "novocaine", "numbing",
               "sleep talking", "cross legged", "cross-legged", "cold sore", "hay fever", "once i calm down",
               "when i calm down", "panic attack", "panic attacks", "in front of crowds", "in front of people",
               "in front of everyone", "when i present", "when i'm presenting", "in front of a crowd",
               "in front of an audience", "in front of the class", "lip filler", "fillers", "botox", "choked up",
               "washing powder", "new detergent", "speech tomorrow", "best man speech", "in public", "bruised",
               "bruise", "hit in the mouth", "laughing so much", "laughed so much", "seen a ghost"]
    # A snoring noise can follow a fit: only a snorer's snoring explains anything.
    phrases += ["snores so loud", "snores so loudly", "when he snores", "when she snores", "his snoring", "her snoring"]
    patterns += [[{"LOWER": word} for word in phrase.split()] for phrase in phrases]
    # "I talk gibberish in my sleep"; "my face fell when I saw my results" (not "...saw myself in the mirror").
    patterns.append([{"LOWER": {"IN": ["talk", "talks", "talking", "talked", "mumble", "mumbles"]}},
                     {"IS_ALPHA": True, "OP": "?"}, {"LOWER": "in"}, {"LOWER": {"IN": ["my", "his", "her", "their"]}},
                     {"LOWER": "sleep"}])
    patterns.append([{"LOWER": {"IN": ["face", "heart"]}}, {"LOWER": {"IN": ["fell", "dropped", "sank"]}},
                     {"LOWER": {"IN": ["when", "as"]}}, {"LOWER": {"IN": ["i", "he", "she", "we", "they"]}},
                     {"LOWER": {"IN": ["saw", "heard", "read", "got", "opened", "found"]}},
                     {"LOWER": {"NOT_IN": ["myself", "himself", "herself", "it", "in"]}}])
    return patterns


def _possible_cause_patterns() -> list[list[dict]]:
    """Harmless causes that could hide a sign as well as explain it ("a dead arm from lying on it", "out of breath
    after my run", "choked on my water laughing"): the sign is asked about, never escalated nor settled."""
    because = {"LOWER": {"IN": ["from", "because", "after", "cos", "since", "with"]}}
    filler = {"LOWER": {"IN": ["i", "i'd", "id", "had", "been", "my", "a", "the", "long", "hard", "big", "of"]},
              "OP": "*"}
    activities = ["run", "running", "jog", "jogging", "hills", "exercise", "stairs", "sprint", "sprinting", "swim",
                  "swimming", "football", "training", "drive", "driving", "flight", "hike", "cycling", "ride"]
    patterns = [[because, filler, {"LOWER": {"IN": activities}}],
                [{"LOWER": {"IN": ["lying", "lay", "laying", "lain", "sleeping", "slept", "sat", "sitting",
                                   "leaning"]}},
                 {"LOWER": {"IN": ["on", "awkwardly"]}}, {"LOWER": {"IN": ["it", "them", "my", "his", "her"]}}],
                [{"LOWER": {"IN": ["laughing", "laughed", "giggling"]}}, {"LOWER": {"IN": ["at", "so", "too"]}}]]
    phrases = ["normal for me", "which is normal", "always happens", "it always does", "once i walked around",
               "from nerves", "from anxiety", "when i'm anxious", "settles once", "it settles", "before exams",
               "after a long drive", "after the run", "after my run", "after running", "pins and needles went"]
    return patterns + [[{"LOWER": word} for word in phrase.split()] for phrase in phrases]


# --- target rules from the knowledge base ---------------------------------------------------------

POSSESSIVES = ("my", "his", "her", "their", "our", "your", "the", "a", "one")
CONTRACTIONS = {"ca": ["ca", "can", "could"], "n't": ["n't", "not", "nt"], "wo": ["wo", "will"], "'m": ["'m", "am"]}


def _token_matcher(nlp: Language, word: str) -> dict:
    if word == "<num>":
        return {"LOWER": {"IN": [*NUMBER_WORDS, *map(str, range(2, 61))]}}
    if word.startswith("="):  # exactly this form: "=fitting" must not match "fit", nor "=weeks" "a week"
        return {"LOWER": {"IN": word[1:].split("|")}}
    if word in POSSESSIVES:  # optional: "can't lift my arm", "can't lift both arms"
        return {"LOWER": {"IN": list(POSSESSIVES)}, "OP": "?"}
    if word in CONTRACTIONS:
        return {"LOWER": {"IN": CONTRACTIONS[word]}}
    token = nlp(word)[0]
    if token.is_alpha and len(word) > 2:
        return {"LEMMA": {"IN": sorted({token.lemma_, word})}}
    return {"LOWER": word}


def _term_pattern(nlp: Language, term: str) -> list[dict]:
    """A spaCy pattern for a knowledge-base term, written as words separated by spaces.

    `face|smile droop|droopy` means (face or smile), then (droop or droopy); each word matches by
    lemma, so "droop" also matches "drooped" and "drooping", unless written `=word` (that form
    only; `=weeks|months` for alternatives). `<num>` is a number from 2 up;
    my/his/her/the... stand for one another. Up to MAX_GAP other words may come between two
    words of a term ("face has really drooped"), but never a negation or a break ("face isn't
    drooping", "face. drooping").
    """
    gap = {"IS_PUNCT": False, "LOWER": {"NOT_IN": [*NEGATION_WORDS, "nt", "but", "or"]}, "OP": "?"}
    pattern: list[dict] = []
    chunks = term.lower().split()
    for index, chunk in enumerate(chunks):
        if "|" in chunk and not chunk.startswith("="):
            words = chunk.split("|")
            matchers = [_token_matcher(nlp, w) for w in words]
            lemmas = sorted({v for m in matchers for v in next(iter(m.values()))["IN"]}) \
                if all("LEMMA" in m for m in matchers) else None
            pattern.append({"LEMMA": {"IN": lemmas}} if lemmas else
                           {"LOWER": {"IN": sorted({w2 for w in words for w2 in (w, nlp(w)[0].lemma_)})}})
        else:
            tokens = [chunk] if chunk == "<num>" or chunk.startswith("=") else [t.text for t in nlp(chunk)]
            pattern.extend(_token_matcher(nlp, token) for token in tokens)
        joined = index + 1 < len(chunks) and chunks[index + 1].startswith("'")  # "mum 's"
        if index + 1 < len(chunks) and not joined:
            pattern.extend(dict(gap) for _ in range(MAX_GAP))
    return pattern


# --- the detector -------------------------------------------------------------------------------

class RedFlagDetector:
    def __init__(self, kb: KnowledgeBase, spacy_path: Path | str = DEFAULT_SPACY_PATH) -> None:
        self.red_flags = kb.red_flags
        self.kb = kb
        self.nlp = spacy.load(spacy_path)
        lemmas = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        self._english = set(lemmas.values()) | set(self.nlp.Defaults.stop_words)
        common = Path(spacy_path) / COMMON_WORDS
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
            matcher.add([TargetRule(term, flag.id, pattern=_term_pattern(self.nlp, term)) for term in flag.terms])
        for question in kb.safety_questions.values():
            label = QUESTION_LABEL + question.id
            matcher.add([TargetRule(term, label, pattern=_term_pattern(self.nlp, term)) for term in question.terms])
        context: ConText = self.nlp.add_pipe(
            "medspacy_context", config={"rules": None, "prune_on_target_overlap": True,
                                        "input_span_type": "group", "span_group_name": SPAN_GROUP})
        context.add(_context_rules())
        self._explanations = Matcher(self.nlp.vocab)
        self._explanations.add(CAUSED, _explanation_patterns())
        self._explanations.add(EXPLAINED, _possible_cause_patterns())
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
                             "denial": last["denial"] or part["denial"], "denied": last["denied"] | part["denied"]}
            else:
                parts.append(part)
        return tuple(Clause(text=doc[p["start"]:p["end"]].text.strip(" ,;."), reporting=p["reporting"],
                            denied=p["denied"], explained=p["explained"], denial=p["denial"]) for p in parts)

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
            before = {t.lower_ for t in doc[clause:start]}
            # A likeness, a denied cause ("I haven't been to the dentist") or a hope is no cause.
            if before & {"like", "if", "though", "n't", "not", "never", "no"} \
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
        if entity._.is_negated:
            status = NEGATED
        elif cause == CAUSED:
            status = CAUSED  # "wouldn't wake up through three alarms", "numb from the filling"
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
        return sentence[0] in QUESTION_STARTERS and not set(sentence) & set(PERSON_WORDS)

    @staticmethod
    def _family_history(entity: Span) -> bool:
        """ "my nan had seizures": a relative's past episodes, not something happening now."""
        words = {t.lower_ for t in entity.sent}
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
