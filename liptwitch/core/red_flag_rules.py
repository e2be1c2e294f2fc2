"""The reading rules of the clinical specification (shared/clinical/TRIAGE.md), as medspaCy ConText rules and spaCy
patterns: what denies, questions, supposes, dates or explains a sign, and how a knowledge-base term becomes a
pattern. The detector that applies them is liptwitch/core/red_flags.py.
"""

from __future__ import annotations

import itertools

from medspacy.context import ConTextRule
from spacy.language import Language
from spacy.tokens import Doc, Span

NEGATION_WORDS = ("no", "not", "n't", "never", "without", "none", "nor", "neither")
PERSON_WORDS = ("my", "his", "her", "their", "our", "your", "i", "he", "she", "they", "we", "i'm", "im",
                "mum", "mom", "dad", "son", "daughter", "husband", "wife", "partner", "baby", "child")
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


# --- ConText rules: the reading rules of TRIAGE.md ---------------------------------------------

def _words(*phrases: str) -> list[dict]:
    return [{"LOWER": word} for word in phrases]


NOBODY = ("nobody", "no one", "noone", "none of us")


def context_rules() -> list[ConTextRule]:
    negation = [
        "no", "not", "n't", "never", "without", "denies", "deny", "none", "nothing like", "no sign of",
        "no signs of", "free of", "negative for", "nor", "neither", *NOBODY,
    ]
    pseudo = [  # look like negations or hypotheticals, but affirm
        "came back in", "come back in", "got back in", "went back in",  # the room, not "back in 2010"
        "no helmet", "no seatbelt", "no warning",  # "no helmet, bashed my head": the "no" is not about the sign
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
        "never used to", "did n't use to", "didn't use to", "never did before", "not usually",
        "than it used to", "than they used to", "than he used to", "than she used to", "than i used to",
        "than it was", "than they were", "than before",
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
        # "a boy in his class said it means you're going to have a fit": what someone said will come, not a fit.
        "means you're going to", "means you are going to", "means you're gonna", "means you will", "come before",
        "comes before", "can come before", "early sign of", "first sign of",
        # "could my lip twitch be a type of seizure?": asking what it is, not saying it happened.
        "be a type of", "be a kind of", "be a sort of", "be a form of", "be some kind of", "be some sort of",
        "be some type of", "be some form of", "twitch be", "twitching be", "twitches be",
    ]
    # "is my twitch a seizure?", "could it be a fit?", "could my lip twitch be a seizure?": asking what something is.
    what_is_it = [{"LOWER": {"IN": ["is", "could", "can", "might", "would", "are"]}},
                  {"LOWER": {"IN": ["my", "this", "that", "it", "the", "these"]}},
                  {"LOWER": {"IN": ["twitch", "twitching", "twitches", "lip", "be", "just"]}, "OP": "?"},
                  {"LOWER": {"IN": ["twitch", "twitching", "twitches", "lip", "be", "just"]}, "OP": "?"},
                  {"LOWER": {"IN": ["twitch", "twitching", "twitches", "lip", "be", "just"]}, "OP": "?"},
                  {"LOWER": {"IN": ["a", "an", "like", "related", "part", "some", "one", "kind", "sort", "type",
                                    "form"]}}]
    historical = [
        "years ago", "year ago", "months ago", "month ago", "as a child", "as a kid", "as a teenager",
        "when i was younger", "when i was a kid", "when i was little", "in the past", "history of",
        "in her twenties", "in his twenties", "in my twenties", "in her thirties", "in his thirties", "in my thirties",
        "in her teens", "in his teens", "in my teens", "in her forties", "in his forties", "in my forties",
        "used to", "fully recovered", "recovered", "runs in my family", "runs in the family",
        "in my family", "last year", "passed away", "died", "long time ago", "ages ago", "decades ago",
        "back in", "previously had", "once had", "years back", "run in families", "runs in families",
        "nothing since", "never since", "as a toddler", "as a baby", "as a child", "as a kid", "as a teenager",
        "last summer", "last winter", "last spring", "last autumn", "last christmas", "last easter",
    ]
    rules = [ConTextRule(term, "NEGATED_EXISTENCE", direction="FORWARD", max_scope=6) for term in negation
             if term not in NOBODY]
    # "Nobody in our house has ever had a seizure": the one who has not is named first, the sign further on.
    rules += [ConTextRule(term, "NEGATED_EXISTENCE", direction="FORWARD", max_scope=10) for term in NOBODY]
    # A checklist answered after the sign: "Double vision? no. Headache? nope, balance: fine."
    rules.append(ConTextRule("? no.", "NEGATED_EXISTENCE", direction="BACKWARD", max_scope=4, pattern=[
        {"TEXT": {"IN": ["?", ":", "-"]}},
        {"LOWER": {"IN": ["no", "nope", "nah", "none", "fine", "normal", "negative", "nothing", "never", "nil"]}},
        {"IS_PUNCT": True}]))
    rules += [ConTextRule(term, "PSEUDO", direction="PSEUDO") for term in pseudo]
    # A short scope for terminations: medspaCy 1.2 only sees a scope overlap when one starts or ends
    # inside the other, so a sentence-wide TERMINATE scope would never cut a denial short.
    rules += [ConTextRule(term, "TERMINATE", direction="TERMINATE", max_scope=1) for term in terminate]
    # A new clause ends a denial: "no drooping, and my arm is weak" / "no drooping. my arm is weak"
    rules.append(ConTextRule("new clause", "TERMINATE", direction="TERMINATE", max_scope=1, pattern=[
        {"LOWER": {"IN": [",", ";", "and", "-", "&"]}},
        {"LOWER": {"IN": list(PERSON_WORDS) + ["it", "it's", "its", "the", "this", "now", "suddenly", "all",
                                               "everything", "then", "today", "tonight", "yesterday"]}}]))
    # "not really, bit of trouble swallowing": a short answer to the question asked ends at its comma.
    rules.append(ConTextRule("not really,", "TERMINATE", direction="TERMINATE", max_scope=1, pattern=[
        {"LOWER": {"IN": ["really", "no", "nope", "nah", "not"]}}, {"TEXT": ","}]))
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
                "like i always do", "as i always do", "i always do", "it always has", "always been that way",
                "nothing new", "nothing new there", "not new", "nothing different", "no different", "no change",
                "has n't changed", "hasn't changed", "same as always", "same as it's always been"]
    rules += [ConTextRule(term, "HISTORICAL", direction="BIDIRECTIONAL") for term in lifelong]
    # "since she was a baby", "since he was born": someone else's lifelong trait.
    rules.append(ConTextRule("since she was a baby", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        {"LOWER": "since"}, {"LOWER": {"IN": ["i", "she", "he", "they", "we"]}}, {"LOWER": {"IN": ["was", "were"]}},
        {"LOWER": {"IN": ["a", "an"]}, "OP": "?"},
        {"LOWER": {"IN": ["baby", "born", "kid", "child", "little", "toddler", "teenager"]}}]))

    rules.append(ConTextRule("when I was 2", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        {"LOWER": "when"}, {"LOWER": {"IN": ["i", "she", "he", "they", "we"]}}, {"LOWER": {"IN": ["was", "were"]}},
        {"LIKE_NUM": True}]))
    # "I nearly fainted when I saw the price": nearly is not at all.
    rules += [ConTextRule(term, "HYPOTHETICAL", direction="FORWARD", max_scope=2) for term in ("nearly", "almost")]
    rules.append(ConTextRule("N years ago", "HISTORICAL", direction="BIDIRECTIONAL", pattern=[
        {"LIKE_NUM": True}, {"LOWER": {"IN": ["years", "year", "yrs", "yr", "months"]}},
        {"LOWER": {"IN": ["ago", "back"]}}]))
    return rules


def explanation_patterns() -> list[list[dict]]:
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
               "bruise", "hit in the mouth", "laughing so much", "laughed so much", "seen a ghost",
               "lost my voice", "lost her voice", "lost his voice", "laryngitis", "power cut", "power outage",
               "power went", "blackout on our", "blackout in our", "blackout on the", "blackout in the",
               "lost power", "whole street", "power came back", "power to come back", "for the power",
               "ca n't wake up properly", "can not wake up properly", "struggle to wake up properly",
               "struggling to wake up properly", "at this job", "at my job", "in this job", "at this company",
               "the video had", "video froze", "video frozen", "screen froze", "screen frozen", "call froze",
               "call frozen", "the video call", "just the twitch", "only the twitch", "asking the gp",
               "asking the doctor", "asking my gp", "asking my doctor", "bothering the gp", "bothering the doctor",
               "ground to swallow me", "ground swallow me"]
    # "This is going to sound weird": how the message will read, not how anyone's speech sounds.
    phrases += [f"{will} sound {how}" for will in ("going to", "gonna", "might", "may", "will", "'ll", "probably")
                for how in ("weird", "strange", "silly", "stupid", "crazy", "odd", "funny", "dramatic")]
    # "I felt faint with relief when I read it's usually harmless": the idiom, not a faint.
    phrases += ["faint with relief", "fainted with relief", "faint from relief", "dying of embarrassment",
                "died of embarrassment", "dying of shame"]
    # "I'm basically choking on the workload": the idiom, not the throat.
    phrases += [f"choking on {what}" for what in ("the workload", "my workload", "work", "deadlines", "paperwork",
                                                  "emails", "debt", "bills", "the deadlines")]
    # Idioms that borrow a sign's word: "a fit of giggles", "a coughing fit", "blackout curtains".
    phrases += [f"fit of {what}" for what in ("giggles", "the giggles", "laughter", "laughing", "coughing", "sneezing",
                                              "rage", "temper", "jealousy", "pique", "hysterics", "panic")]
    phrases += [f"{what} fit" for what in ("coughing", "laughing", "giggling", "sneezing", "hissy")]
    # "that news was hard to swallow", "a bitter pill to swallow": the idiom, not the throat.
    patterns.append([{"LOWER": {"IN": ["news", "truth", "pill", "criticism", "decision", "verdict", "result", "results",
                                       "rejection", "fact", "feedback"]}},
                     {"LOWER": {"IN": ["was", "is", "'s", "to", "were", "are"]}, "OP": "?"},
                     {"LOWER": {"IN": ["hard", "harder", "difficult", "tough", "bitter"]}, "OP": "?"},
                     {"LOWER": "to"}, {"LOWER": "swallow"}])
    phrases += [f"{will} have a fit {when}" for will in ("will", "would", "'ll", "'d") for when in ("if", "when")]
    phrases += [f"blackout {what}" for what in ("curtains", "curtain", "blinds", "blind", "dates", "period")]
    phrases += [f"{what} fitting" for what in ("dress", "suit", "final", "wedding", "bridal", "shoe", "kitchen")]
    # "I felt like I was going to faint when the dentist showed me the bill": a figure of speech (the phrase must not
    # overlap the sign's own word, or ConText drops it).
    phrases += [f"{saw} the {what}" for saw in ("showed me", "saw", "see", "seeing", "got", "opened")
                for what in ("bill", "price", "price tag", "invoice", "quote", "receipt")]
    # A snoring noise can follow a fit: only a snorer's snoring explains anything.
    phrases += ["snores so loud", "snores so loudly", "when he snores", "when she snores", "his snoring", "her snoring"]
    patterns += [[{"LOWER": word} for word in phrase.split()] for phrase in phrases]
    # "I talk gibberish in my sleep"; "my face fell when I saw my results" (not "...saw myself in the mirror").
    patterns.append([{"LOWER": {"IN": ["talk", "talks", "talking", "talked", "mumble", "mumbles"]}},
                     {"IS_ALPHA": True, "OP": "?"}, {"LOWER": "in"}, {"LOWER": {"IN": ["my", "his", "her", "their"]}},
                     {"LOWER": "sleep"}])
    # "I totally choked in my driving test": nerves, not the throat.
    patterns.append([{"LOWER": {"IN": ["choked", "choke", "choking"]}}, {"LOWER": {"IN": ["in", "at", "during"]}},
                     {"LOWER": {"IN": ["my", "the", "a", "an", "our"]}}, {"IS_ALPHA": True, "OP": "?"},
                     {"LOWER": {"IN": ["test", "exam", "exams", "interview", "presentation", "match", "game", "final",
                                       "audition", "speech", "recital", "pitch"]}}])
    patterns.append([{"LOWER": {"IN": ["face", "heart"]}}, {"LOWER": {"IN": ["fell", "dropped", "sank"]}},
                     {"LOWER": {"IN": ["when", "as"]}}, {"LOWER": {"IN": ["i", "he", "she", "we", "they"]}},
                     {"LOWER": {"IN": ["saw", "heard", "read", "got", "opened", "found"]}},
                     {"LOWER": {"NOT_IN": ["myself", "himself", "herself", "it", "in"]}}])
    return patterns


def possible_cause_patterns() -> list[list[dict]]:
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
               "after a long drive", "after the run", "after my run", "after running", "pins and needles went",
               "marathon", "half marathon", "the race", "parkrun", "my 5k", "my 10k", "a 5k", "a 10k"]
    # "ran for the bus and was out of breath": a dash for the bus or train is exercise too.
    patterns.append([{"LOWER": {"IN": ["ran", "run", "running", "dashed", "dashing", "sprinted", "sprinting", "raced",
                                       "rushed", "rushing", "legged"]}},
                     {"LOWER": {"IN": ["for", "to", "after", "up"]}},
                     {"LOWER": {"IN": ["the", "a", "my"]}, "OP": "?"},
                     {"LOWER": {"IN": ["bus", "train", "tram", "tube", "stairs", "hill"]}}])
    return patterns + [[{"LOWER": word} for word in phrase.split()] for phrase in phrases]


# --- target rules from the knowledge base ---------------------------------------------------------

POSSESSIVES = ("my", "his", "her", "their", "our", "your", "the", "a", "one")
CONTRACTIONS = {"ca": ["ca", "can", "could"], "n't": ["n't", "not", "nt"], "wo": ["wo", "will"], "'m": ["'m", "am"]}


# A medicine named by its name, which people use more than "my tablets": the endings that name a class of medicine
# in the USAN stem list (American Medical Association's USAN Council), for the classes people on lip-twitching forums
# name most (calcium-channel and beta blockers, ACE inhibitors, statins, antidepressants, anticonvulsants,
# antipsychotics, stimulants, antiemetics, acid reducers). A routine row only: "ask your pharmacist".
MEDICINE_ENDINGS = ("dipine", "pril", "sartan", "olol", "statin", "triptyline", "oxetine", "xetine", "talopram",
                    "afaxine", "azepam", "azolam", "zapine", "apine", "iapine", "peridol", "peridone", "piprazole",
                    "perazine", "clopramide", "phenidate", "amfetamine", "amphetamine", "trigine", "iracetam",
                    "piramate", "prazole", "tidine", "gabalin", "pentin", "thiazide", "semide", "olone", "asone")
MEDICINE_PATTERN = r"^[a-z]{2,}(?:" + "|".join(MEDICINE_ENDINGS) + r")$"


def _token_matcher(nlp: Language, word: str) -> dict:
    if word == "<num>":
        return {"LOWER": {"IN": [*NUMBER_WORDS, *map(str, range(2, 61))]}}
    if word == "<medicine>":
        return {"LOWER": {"REGEX": MEDICINE_PATTERN}}
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


def term_patterns(nlp: Language, term: str) -> list[list[dict]]:
    """The spaCy patterns for a term. An alternative that is more than one token ("won't" is "wo n't") cannot share
    a token with the others (it would match "will" and lose its negation): it becomes a term of its own."""
    choices = []
    for chunk in term.split():
        if "|" in chunk and not chunk.startswith(("=", "+=")):
            plus = "+" if chunk.startswith("+") else ""
            words = chunk.removeprefix("+").split("|")
            # "<medicine>" is a pattern of its own, not a word to list among the others.
            single = [w for w in words if w == "<num>" or (w != "<medicine>" and len(nlp(w)) == 1)]
            choices.append(([plus + "|".join(single)] if single else []) + [plus + w for w in words if w not in single])
        else:
            choices.append([chunk])
    return [term_pattern(nlp, " ".join(variant)) for variant in itertools.product(*choices)]


def term_pattern(nlp: Language, term: str) -> list[dict]:
    """A spaCy pattern for a knowledge-base term, written as words separated by spaces.

    `face|smile droop|droopy` means (face or smile), then (droop or droopy); each word matches by
    lemma, so "droop" also matches "drooped" and "drooping", unless written `=word` (that form
    only; `=weeks|months` for alternatives). `<num>` is a number from 2 up; `<medicine>` a medicine's name;
    my/his/her/the... stand for one another. Up to MAX_GAP other words may come between two
    words of a term ("face has really drooped"), but never a negation or a break ("face isn't
    drooping", "face. drooping"); a word written `+word` must come right after the one before it.
    """
    gap = {"IS_PUNCT": False, "LOWER": {"NOT_IN": [*NEGATION_WORDS, "nt", "but", "or"]}, "OP": "?"}
    pattern: list[dict] = []
    chunks = term.lower().split()
    for index, chunk in enumerate(chunks):
        chunk = chunk.removeprefix("+")
        if "|" in chunk and not chunk.startswith("="):
            words = chunk.split("|")
            matchers = [_token_matcher(nlp, w) for w in words]
            lemmas = sorted({v for m in matchers for v in next(iter(m.values()))["IN"]}) \
                if all("LEMMA" in m for m in matchers) else None
            pattern.append({"LEMMA": {"IN": lemmas}} if lemmas else
                           {"LOWER": {"IN": sorted({w2 for w in words for w2 in (w, nlp(w)[0].lemma_)})}})
        else:
            tokens = [chunk] if chunk in ("<num>", "<medicine>") or chunk.startswith("=") \
                else [t.text for t in nlp(chunk)]
            pattern.extend(_token_matcher(nlp, token) for token in tokens)
        # "mum 's"; "+again": the next word comes right after this one ("cutting again", not "cutting out x again")
        joined = index + 1 < len(chunks) and chunks[index + 1].startswith(("'", "+"))
        if index + 1 < len(chunks) and not joined:
            pattern.extend(dict(gap) for _ in range(MAX_GAP))
    return pattern


# --- words that look like a sign and are not: a component after the target matcher -----------------------------

SPAN_GROUP = "red_flags"  # the span group the target matcher fills and the other components read
# "about three years ago I had Bell's palsy": a point in time, not a duration ("started six weeks ago" is one).
SINCE_WORDS, YEARS = ("ago", "back"), ("year", "years", "yrs", "yr")


@Language.component("drop_points_in_time")
def drop_points_in_time(doc: Doc) -> Doc:
    """Words that look like a sign and are not: years just before "ago" ("about three years ago I had Bell's palsy"
    is when, not how long, and must not hide that time from the past rule), an age ("my baby is 3 months old"), and
    "a faint tingle".
    """
    spans = doc.spans[SPAN_GROUP]
    doc.spans[SPAN_GROUP] = [span for span in spans
                             if not (span.end < len(doc) and doc[span.end].lower_ in SINCE_WORDS
                                     and doc[span.end - 1].lower_ in YEARS)
                             and not _faint_as_in_slight(span)
                             and not (span.end < len(doc) and doc[span.end].lower_ == "old")]  # "3 months old"
    return doc


def _faint_as_in_slight(span: Span) -> bool:
    """"a faint tingle", "the faintest buzz": faint as in slight, not fainting."""
    return (span.text in ("faint", "faintest") and span.start > 0
            and span.doc[span.start - 1].lower_ in ("a", "the", "very", "slight", "some", "only"))
