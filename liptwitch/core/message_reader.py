"""Reading a message as a person writes it: its sentences, every question asked, and the context given.

Real posts about lip twitching tell a story (how long, where, who, what they think set it off), name a fear
("is it ALS??") and then ask one to three questions. The reader finds each of those so that one reply can answer
the fear first, use what the person said, and answer every question. Pure Python: the knowledge base's synonyms
name the topics, the guided check's parsers read durations, places and frequencies, and the red-flag rules' word
lists read denials and family words. The red-flag check runs on the whole message before any of this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from liptwitch.core.guided_check import parse_duration_days, parse_frequency, parse_location
from liptwitch.core.knowledge_base import KnowledgeBase
from liptwitch.core.red_flag_rules import FAMILY_WORDS
from liptwitch.core.text import Match, PhraseMatcher, normalise

# What a question asks, tried in this order on the normalised question; the first whose words it contains wins.
# (A question naming a fear, or a topic the articles do not cover, is answered by that item whatever it asks.)
_ASK_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("summary", (r"\btl ?dr\b", r"\bnutshell\b", r"\bsummar", r"\boverview\b", r"\bthe basics\b", r"\bsum (it )?up\b")),
    ("tests", (  # "how do doctors tell the difference?" asks about tests, not the difference
        r"\bhow (do|would|can|will) (doctors?|they|gps?|you|a doctor|the doctor) "
        r"(tell|know|check|diagnose|rule|find)\b",
    )),
    ("stop_now", (  # "how do I make it stop before my speech on Saturday?"
        r"\b(stop|stops|calm|get rid|fix|settle|hide)\b.{0,40}\b(instantly|immediately|right now|rn|right away|"
        r"straight away|quickly|fast|asap|in an hour|before (my|the|a|an|work|tomorrow|tonight|saturday|friday|monday|"
        r"sunday)|today|tonight)\b",
        r"\bquick fix\b", r"\binstant\b",
    )),
    ("see_doctor", (  # "how long should I leave it before seeing my GP?" asks when to see one, not how long
        r"\bbefore (seeing|going to|i see|i go to|calling|ringing|booking)\b",
        r"\bget (\w+ )?(checked|looked at|seen)\b", r"\bneeds? (checking|checked|looking at|seeing)\b",
        r"\bgo back to (the|my) (clinic|dentist|doctor|gp|surgery|hospital)\b",
        r"\btake (him|her|them) to (the|a|her|his|their) (gp|doctor|doctors|hospital)\b",
    )),
    ("difference", (
        r"\b(spasm|twitch|tremor|tic|cramp) or an? (spasm|twitch|tremor|tic|cramp)\b", r"\bdifference\b",
        r"\bdifferent (from|to|than)\b", r"\bvs\b", r"\bversus\b", r"\bsame (thing )?as\b",
    )),
    ("duration", (
        r"\bhow long\b", r"\bgo(es)? away\b", r"\bever (stop|go)\b", r"\bwill (it|this) (stop|end|pass)\b",
        r"\bwhen will\b", r"\bpermanent\b", r"\blast(s)? (for|this long|so long)\b", r"\bhow many (days|weeks)\b",
        r"\bwear off\b", r"\b(go|stop|settle|clear|pass)( up| away)? (on (its|it s) own|by itself)\b", r"\bsettle\b",
        r"\bgo on for\b", r"\bgrow out of\b",
    )),
    ("tests", (
        r"\btests?\b", r"\btested\b", r"\bscans?\b", r"\bmri\b", r"\bemg\b", r"\bblood ?work\b", r"\bbloods\b",
        r"\bexamin",
    )),
    ("treatment", (
        r"\bwhat (can|could|should|do|would) (i|we|you|he|she|they) do\b", r"\bwhat to do\b",
        r"\bhow (do|can|could|should|would) (i|we|you|he|she|they) (stop|treat|fix|calm|get rid|ease|reduce|prevent|"
        r"settle|manage|deal|cope|help|make|break|sort)\b",
        r"\b(stop|stops|stopping)\b", r"\bmake (it|this|them) stop\b", r"\bget rid\b", r"\btreat", r"\bremed",
        r"\bcure\b", r"\bhelps?\b", r"\bfix\b", r"\bany (tips|advice|ideas|suggestions)\b", r"\bwhat works\b",
        r"\bcalm (it|this) down\b", r"\bprevent",
        # "should I take magnesium", not "should I take her to the GP"
        r"\b(should|can|could|do) (i|we|she|he|they) (be )?(take|taking|try|trying|use|eat|drink|have)\b"
        r"(?! (him|her|them|my \w+|the \w+|\w+) to\b)",
        r"\bwhat (should|can|could) (i|we|she|he|they) (take|eat|drink|try)\b", r"\banything (i|we) can\b",
        r"\bdoes (it|that|this) work\b", r"\bworth (it|trying|taking)\b", r"\bhow much\b", r"\bsort (it|this) out\b",
        r"\brecommend", r"\bsuggest", r"\btry first\b", r"\bwhat helps\b", r"\bbreak the cycle\b",
        r"\bsafe to take\b", r"\b(i|we) (can|could|should) (take|try|use)\b",
    )),
    ("see_doctor", (
        r"\bdoctors?\b", r"\bdr\b", r"\bgp\b", r"\bneurologist\b",
        r"\bsee (someone|somebody|a professional|a specialist)\b",
        r"\bget (it|this|them|him|her) (checked|looked at|seen)\b", r"\bmedical (help|advice|attention)\b",
        r"\bappointment\b", r"\bdentist\b", r"\bpsychiatrist\b", r"\bpharmacist\b", r"\bmidwife\b",
        r"\bhealth visitor\b", r"\b(look|looking|watch|watching) (out )?for\b", r"\bwarning signs\b",
        r"\bneed to go\b", r"\ba e\b", r"\bemergency\b", r"\bcan (it|this) wait\b",
        r"\bgo to (a|the) (hospital|clinic)\b", r"\ber\b", r"\burgent care\b",
    )),
    ("cause", (
        r"\bwhy\b", r"\bcaus", r"\breasons?\b", r"\btrigger", r"\brelated\b", r"\blinked\b", r"\bconnected\b",
        r"\bdue to\b", r"\bbecause of\b", r"\bresponsible\b", r"\bto blame\b", r"\bbehind (it|this)\b",
        r"\bcoming from\b", r"\bfrom (the|my|all|too|drinking|not)\b", r"\bcould it be\b", r"\bcan it be\b",
        r"\bis it (the|my|from|because)\b", r"\bdown to\b", r"\bculprit\b", r"\bside effect",
    )),
    ("definition", (
        r"\bwhat (is|are) (a |the )?(lip )?(twitch|twitching|twitches|fasciculations?)\b",
        r"\bwhat does [a-z ]{1,40} mean\b", r"\bwhat (is|s) (this|it|that)\b", r"\bwhats (this|it|that)\b",
        r"\bwhat (is|s) going on\b", r"\bwhats going on\b", r"\bwhat (is|s) happening\b",
    )),
    ("serious", (
        r"\bserious\b", r"\bworr", r"\bconcern", r"\bdanger", r"\bnormal\b", r"\bharm", r"\bbad sign\b",
        r"\b(is|it s|its) (it |this )?(ok|okay|fine)\b", r"\bpanic\b", r"\bscared\b", r"\bsign of\b",
        r"\bsymptom of\b", r"\bsomething bad\b", r"\bbig deal\b", r"\b(it s|its|is) nothing\b", r"\bchances\b",
        r"\bsign\b", r"\bworse\b", r"\bcommon\b", r"\busual\b", r"\btypical\b", r"\bsomething wrong\b",
        r"\bwrong with\b", r"\bmean\b",
    )),
    ("looks", (r"\b(look|looks|feel|feels) like\b",)),  # what a twitch looks or feels like
    ("symptom", (r"\bsymptoms?\b",)),
)
ASKS = tuple((name, re.compile("|".join(words))) for name, words in _ASK_WORDS)
# The knowledge-base item each ask is answered with when the question names no topic.
ASK_ITEMS = {"summary": "summary", "duration": "duration_frequency", "see_doctor": "see_doctor",
             "serious": "seriousness", "definition": "definition", "tests": "tests", "difference": "twitch_vs_spasm",
             "stop_now": "stop_now", "looks": "involuntary_movements"}

# Question words as people mistype them on a phone: "shuld i be worried", "wat is it", "cud it be them".
_OPENER_TYPOS = {"shuld": "should", "shoud": "should", "shold": "should", "sould": "should", "shoudl": "should",
                 "wat": "what", "wht": "what", "whta": "what", "waht": "what", "cud": "could", "coud": "could",
                 "culd": "could", "wud": "would", "wil": "will", "hw": "how", "hwo": "how", "iz": "is", "r": "are",
                 "wen": "when", "y": "why", "cn": "can", "doe": "does", "dose": "does"}
_QUESTION_OPENERS = ("what", "whats", "why", "how", "can", "could", "does", "do", "did", "is", "isnt", "are", "should",
                     "will", "would", "when", "which", "who", "where", "any", "anyone", "anybody", "has", "have",
                     "was", "might", "may", "shall", "am")
# Words before the question proper: "so what can I do", "also is it serious", "pls tell me why".
_LEAD_WORDS = ("so", "and", "also", "but", "or", "plus", "then", "ok", "okay", "well", "like", "basically", "oh",
               "and also", "but also", "please", "pls", "plz", "seriously", "honestly", "really", "hi", "hey")
_INDIRECT = re.compile(r"\b(tl ?dr|in a nutshell|sum (it )?up|explain|give me|tell me about|"
                       r"i (wonder|was wondering|want to know|wanna know|would like to know|d like to know|need to "
                       r"know)|(just )?(want|wanted|need|needed) to know|wondering (if|whether|what|why|how)|"
                       r"can (you|someone|anyone) (tell|explain|help)|"
                       r"(tell|let) me (know )?(if|whether|what|why|how|is|are|which|when|should|can|could|does|do|"
                       r"will|who)|any (advice|tips|ideas|suggestions|help)|"
                       r"(anyone|anybody) (know|had|have|experienced)|not sure (if|whether|what))\b")
# A question asked in the middle of a line with no question mark: "bottom lip twiching for 3 days should i worry".
_EMBEDDED_QUESTION = re.compile(r"\b(should (i|we)|do (i|we) need|is (it|this|that) (normal|serious|bad|ok|okay|"
                                r"something)|what (is|s) (this|it|that|going on)|whats (this|it|that|going on)|"
                                r"does (it|that) work|how (do|can) (i|we)|what (can|should|do) (i|we) do|"
                                r"(can|could) (it|this|that|they) be|what (helps|works)|wat (is|s) (it|this|that)|"
                                r"is (this|it|that) how|is (it|this|that)( a| an)? \w+\s*$)\b")
# A question run on after a story with no punctuation: "...no sleep lol what helps", "...drinks how do i stop it".
_RUN_ON_QUESTION = re.compile(r"(?<=\s)(?:what (?:helps|works|can i|should i|do i|is (?:it|this))|"
                              r"how (?:do|can|to) (?:i|we)?|should i|is (?:it|this) (?:normal|serious|bad|ok)|"
                              r"wat is|whats (?:this|that|it))\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\u201d]*\s+|\n+|(?<=\?)(?=[A-Za-z])")
# A new question inside a sentence: "is it serious and what can I do", "..., also how long will it last".
_QUESTION_JOIN = re.compile(r"(?:,|;|\s-\s|\s(?:and|also|or|plus|but|so))\s+(?=(?:also\s+|so\s+)?(?:what|whats|"
                            r"what's|why|how|can|could|should|is|are|does|do|will|would|when|any|whether|"
                            r"which (?=doctors?|tests?|specialist|one|vitamins?|supplements?|kind|type|is best|would))"
                            r"\b)", re.I)

_NEGATION = {"no", "not", "dont", "didnt", "doesnt", "never", "without", "havent", "hasnt", "isnt", "wasnt",
             "quit", "stopped", "cut", "gave", "avoid", "zero", "nor"}
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s-\s|\bbut\b")
_FINE = {"fine", "well", "ok", "okay", "great", "normally", "enough", "properly"}  # "I sleep fine": no trigger
_WHO = (
    ("child", r"\b((my|our) (\w+ )?(child|kid|kids|baby|boy|girl|little one)|son|daughter|toddler|newborn|infant|"
              r"teenager|teen|teenage son|teenage daughter|grandson|granddaughter)s?\b|\b(\d{1,2}|one|two|three|four|"
              r"five|six|seven|eight|nine|ten) ?(year|yr|month) olds?\b|\b\d{1,2} ?yo\b"),
    ("family", r"\bmy (\w+ )?(" + "|".join(FAMILY_WORDS) + r")s?\b"),
    ("partner", r"\bmy (\w+ )?(husband|wife|partner|boyfriend|girlfriend|fiance|fiancee|spouse|other half)s?\b"),
    ("friend", r"\bmy (\w+ )?(friend|mate|colleague|flatmate|roommate|neighbour|neighbor)s?\b"),
)
_TWITCH_WORDS = re.compile(r"\b(twitch\w*|twich\w*|spasm\w*|flutter\w*|flicker\w*|quiver\w*|jump\w*|tremb\w*|"
                           r"tremor\w*|tic|tics|pulsing|pulses|vibrat\w*|fasciculat\w*|jerk\w*|ripple\w*)\b")
# Someone's own twitching named inside a question: "is my lip twitching from...", "mine started 4 days ago".
# ...and going on, not a general question with "my" in it ("can coffee make my lip twitch?").
_ONGOING = re.compile(r"\b(keeps?|has been|have been|been|started|since|all (day|week)|wont stop|won t stop|"
                      r"is twitching|s twitching|is (my|his|her|their)|at the moment|right now|this week|today|"
                      r"lately|recently)\b")
_OWN = re.compile(r"\b(my|mine|mines|his|her|their)\b")
# "my lip twitching is it als", "is my bottom lip twitching from...": the person's own twitch named in the question.
# Not "can coffee make my lip twitch?", a question about twitching in general.
_MY_FACE_TWITCHING = re.compile(r"\bmy (\w+ )?(lip|lips|mouth)( is| keeps| has been| been| s)? (twitching|twitches|"
                                r"twiching|flickering|flickers|jumping|jumps|quivering|spasming)\b")
_FACE = r"(lip|lips|mouth|face|eye|eyelid|cheek|chin)"
# Someone else's twitching: "his top lip", "my mum's lip", "she's been getting a twitchy lip".
_PEOPLE = ("son|daughter|child|kid|toddler|baby|boy|girl|little one|newborn|infant|teenager|teen|grandson|"
           "granddaughter|old|" + "|".join(FAMILY_WORDS) + "|husband|wife|partner|boyfriend|girlfriend|fiance|"
           "fiancee|spouse|other half|friend|mate|colleague|flatmate|roommate|neighbour|neighbor")
_THEIR_FACE = re.compile(r"\b(his|her|their)( \w+)? " + _FACE + r"\b|\b(" + _PEOPLE + r")s( \w+)? " + _FACE + r"\b")
_THEY_TWITCH = re.compile(r"\b(he|she|they|hes|shes|theyre|he s|she s)\b.*\b(twitch\w*|spasm\w*|flutter\w*|jump\w*)\b")
_ORDINALS = {"first": 1, "1st": 1, "one": 1, "second": 2, "2nd": 2, "two": 2, "third": 3, "3rd": 3, "three": 3,
             "fourth": 4, "4th": 4, "four": 4, "fifth": 5, "5th": 5, "five": 5, "sixth": 6, "6th": 6, "six": 6,
             "last": -1, "final": -1, "bottom": -1, "top": 1}
_ORDINAL_REFERENCE = re.compile(r"\b(?:the|that|number|no|option|item|#)\s*(first|1st|second|2nd|third|3rd|fourth|"
                                r"4th|fifth|5th|sixth|6th|last|final|top|bottom|one|two|three|four|five|six)\b"
                                r"(?:\s+(?:one|cause|treatment|symptom|thing))?")
_NUMBERED = re.compile(r"\b(?:number|no|option|item)\s*([1-9])\b|^([1-9])$")
# A condition named in a story is a fear only with words of fear or suspicion around it.
_FEAR_WORDS = re.compile(r"\b(scared|afraid|terrified|frightened|worried|worry|worrying|fear|feared|panic\w*|convinced|"
                         r"paranoid|freaking|freaked|anxious|spiral\w*|googl\w*|read (that|it|online)|could be|"
                         r"might be|must be|sure it s|think it s|thought it was|mind went|rabbit hole|dr google)\b")
_HYPOTHETICAL = re.compile(r"^(if|what if|even if|suppose|supposing|in case)\b")
_NOT_A_FEAR_WHEN_ASKED = ("treatment", "duration", "stop_now", "difference")
WARNING_SIGNS = "warning_signs"  # the item that answers "what are the signs of a stroke?"
FEAR_PREFIX = "fear_"  # knowledge-base items that answer a named fear ("is it ALS?") have ids fear_...


@dataclass(frozen=True)
class Question:
    """One question of a message: its words, what it asks (a key of ASKS, or None), and the items it names."""

    text: str
    asks: str | None
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """What a message says and asks. Topics and triggers are knowledge-base ids."""

    sentences: tuple[str, ...]
    questions: tuple[Question, ...]
    topics: tuple[str, ...] = ()  # every item named anywhere, in order
    triggers: tuple[str, ...] = ()  # the causes the person mentions for themselves (not denied)
    trigger_words: dict[str, str] = field(default_factory=dict)  # cause id -> the person's own words
    fears: tuple[str, ...] = ()  # fear items named (fear_als...)
    duration_days: float | None = None
    location: str | None = None
    frequency: str | None = None
    who: str = "me"
    describes_twitching: bool = False

    def is_long(self) -> bool:
        return len(self.sentences) >= 2


class MessageReader:
    """Reads messages against one knowledge base (its synonyms name the topics and the triggers)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.matcher = PhraseMatcher(kb.synonym_index())
        # Fears read on their own too: in "is it a sign of a stroke" the longer "sign of a stroke" names the
        # warning signs, and the fear of a stroke must still be heard.
        self.fear_matcher = PhraseMatcher({phrase: item_id for phrase, item_id in kb.synonym_index().items()
                                           if item_id.startswith(FEAR_PREFIX)})

    def read(self, text: str) -> Reading:
        sentences = tuple(split_sentences(text))
        questions: list[Question] = []
        told: list[str] = []  # the parts that are not questions
        topics: list[str] = []
        triggers: dict[str, str] = {}
        fears: list[str] = []
        supposed: list[str] = []  # items a supposition or a story names, for the question that follows
        for sentence in sentences:
            for part in split_questions(sentence):
                named = self._topics(part)
                topics.extend(m.value for m in named)
                feared = [m.value for m in self.fear_matcher.find(part) if m.exact or len(m.phrase) >= 6]
                if is_question(part):
                    asked = [*supposed, *(m.value for m in named)]
                    supposed = []
                    question = Question(part, what_it_asks(part), tuple(dict.fromkeys(asked)))
                    questions.append(question)
                    # "how is it treated if it's MS?" asks how; "what are the signs of a stroke?" asks for the signs
                    if question.asks not in _NOT_A_FEAR_WHEN_ASKED and (
                            WARNING_SIGNS not in question.topics or question.asks == "serious"):
                        fears.extend(feared)
                    continue
                told.append(part)
                if _FEAR_WORDS.search(normalise(part)):  # "terrified it's ALS", not "my grandad has Parkinson's"
                    fears.extend(feared)
                else:  # "my grandad has Parkinson's and ... what treatments are there": what the question is about
                    supposed += feared
                if _HYPOTHETICAL.match(normalise(part)):
                    # "if my lip twitch is from anxiety, how do I make it stop": what the next question is about, not
                    # the person's trigger
                    supposed += [m.value for m in named]
                    continue
                for match in named:
                    if self.kb.get(match.value).kind == "cause" and not _denied(part, match):
                        triggers.setdefault(match.value, _as_said(part, match))
        return Reading(
            sentences=sentences, questions=tuple(questions), topics=tuple(dict.fromkeys(topics)),
            triggers=tuple(triggers), trigger_words=triggers, fears=tuple(dict.fromkeys(fears)),
            duration_days=parse_duration_days(text), location=parse_location(text, explicit=True),
            frequency=parse_frequency(text), who=who_it_is_about(sentences),
            describes_twitching=any(_TWITCH_WORDS.search(normalise(part)) for part in told) or any(
                _TWITCH_WORDS.search(words) and _OWN.search(words) and _ONGOING.search(words)
                or _MY_FACE_TWITCHING.search(words) for words in (normalise(q.text) for q in questions))
            or (parse_duration_days(text) is not None and bool(_TWITCH_WORDS.search(normalise(text)))))

    def _topics(self, text: str) -> list[Match]:
        """Items named in `text`: exact phrases, or longer ones with a typo ("magnesuim"); short words are too easy
        to mistake for something else."""
        return [m for m in self.matcher.find(text) if m.exact or len(m.phrase) >= 6]


def split_sentences(text: str) -> list[str]:
    """The sentences of a message, as written (a question mark ends one even without a space after it)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip(" .!?,;-")]


def split_questions(sentence: str) -> list[str]:
    """A sentence cut where a new question starts: "is it serious and what can I do?" -> two parts, and "lip
    twitching from energy drinks how do i stop it" -> the story and the question."""
    parts = [p.strip(" ,;-") for p in _QUESTION_JOIN.split(sentence)]
    cut = []
    for part in parts:
        match = _RUN_ON_QUESTION.search(part)
        if match and len(part[:match.start()].split()) >= 3 and not is_question(part[:match.start()]):
            cut += [part[:match.start()].strip(" ,;-"), part[match.start():]]
        else:
            cut.append(part)
    return [p for p in cut if p]


def is_question(text: str) -> bool:
    """Asked with a question mark, a question word, or indirectly ("I wonder if...", "any tips")."""
    if text.rstrip().endswith("?"):
        return True
    words = [_OPENER_TYPOS.get(word, word) for word in normalise(text).split()]
    while words and (words[0] in _LEAD_WORDS):
        words = words[1:]
    rest = " ".join(words)
    return bool(words and words[0] in _QUESTION_OPENERS) or bool(_INDIRECT.search(rest)
                                                                  or _EMBEDDED_QUESTION.search(rest))


def what_it_asks(question: str) -> str | None:
    words = " ".join(_OPENER_TYPOS.get(word, word) for word in normalise(question).split())
    return next((name for name, pattern in ASKS if pattern.search(words)), None)


def who_it_is_about(sentences: list[str] | tuple[str, ...]) -> str:
    """me, child, family, partner or friend: whose twitching the message is about. Someone counts when a sentence
    names them with twitching or a part of the face ("my son's lip twitches"), not when they are context ("we had
    our second baby three weeks ago")."""
    about_someone = False
    for sentence in sentences:
        words = normalise(sentence)
        if not (_THEIR_FACE.search(words) or _THEY_TWITCH.search(words)):
            continue
        about_someone = True
        found = [(m.start(), name) for name, pattern in _WHO for m in [re.search(pattern, words)] if m]
        if found:
            return min(found)[1]
    if about_someone:  # "Took my 6 year old to the dentist. Today he keeps telling me his lip is jumping."
        whole = normalise(" ".join(sentences))
        found = [(m.start(), name) for name, pattern in _WHO for m in [re.search(pattern, whole)] if m]
        if found:
            return min(found)[1]
    return "me"


def ordinal_reference(text: str) -> int | None:
    """ "the third one" -> 3, "the last one" -> -1, "number 2" -> 2: a place in the list just shown."""
    words = normalise(text)
    number = _NUMBERED.search(words)
    if number:
        return int(number.group(1) or number.group(2))
    match = _ORDINAL_REFERENCE.search(words)
    return _ORDINALS[match.group(1)] if match else None


def _denied(text: str, match: Match) -> bool:
    """ "I don't drink coffee", "no caffeine at all", "I sleep fine": a cause the person rules out is not their
    trigger. Read within the clause only: in "not eating properly, sleeping four hours" the sleep is not denied."""
    words = normalise(text).split()
    clause_start = 0
    position = 0
    for chunk in _CLAUSE_BREAK.split(text):
        size = len(normalise(chunk).split())
        if position + size > match.start:
            clause_start = position
            break
        position += size
    before = words[max(clause_start, match.start - 3):match.start]
    after = words[match.end:match.end + 2]
    return bool(set(before) & _NEGATION) or bool(set(after) & _FINE)


# A word before a trigger that belongs with it: "barely sleeping", "loads of energy drinks", "too much coffee".
_MODIFIERS = {"cant", "couldnt", "barely", "hardly", "little", "less", "poor", "bad", "no", "not", "lack", "loads",
              "lots", "much", "many", "more", "constant", "late", "extra", "strong", "big", "new", "final", "my"}


def _as_said(text: str, match: Match) -> str:
    """The trigger in the person's words, with the word before it when that word qualifies it."""
    words = normalise(text).split()
    start = match.start
    if start >= 2 and words[start - 1] == "of" and words[start - 2] in _MODIFIERS:
        start -= 2
    elif start >= 1 and words[start - 1] in _MODIFIERS:
        start -= 1
    return " ".join(words[start:match.end])
