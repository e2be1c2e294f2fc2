"""The reading rules of TRIAGE.md, one by one, on the red-flag detector (no Rasa here)."""

from __future__ import annotations

import pytest

from liptwitch.core.red_flags import HYPOTHETICAL, NEGATED, RedFlagDetector


@pytest.fixture(scope="module")
def detector(kb):
    return RedFlagDetector(kb)


def level(detector, text):
    return detector.assess(text).level


def test_every_triage_example_escalates_at_its_level_and_no_non_example_fires_its_row(detector, kb):
    for flag in kb.red_flags.values():
        for example in flag.examples:
            found = detector.assess(example)
            assert found.level == flag.level and flag.id in found.red_flags, (flag.id, example, found)
        for example in flag.non_examples:
            found = detector.assess(example)
            if flag.past_level:  # "I had Bell's palsy 5 years ago, fully recovered" is routine
                assert found.level in (None, flag.past_level), (flag.id, example, found)
            else:
                assert flag.id not in found.red_flags, (flag.id, example, found)


def test_a_denial_silences_only_its_own_finding_and_stops_at_but(detector):
    assert level(detector, "I don't have drooping") is None
    found = detector.assess("I don't have drooping but my arm is numb")
    assert found.level == "emergency" and found.red_flags == ("RF02",)
    assert level(detector, "no drooping, and my arm is weak") == "emergency"


def test_gone_away_is_not_a_denial(detector):
    found = detector.assess("my face drooped for 10 minutes but it's gone now")
    assert found.level == "emergency" and "RF04" in found.red_flags
    assert "RF04" in detector.assess("had slurred speech this morning, fine now").red_flags


@pytest.mark.parametrize("text", ["no idea why my face is drooping", "not only the twitch but my arm is weak"])
def test_pseudo_negation_affirms(detector, text):
    assert level(detector, text) == "emergency"


def test_hedging_and_third_person_escalate(detector):
    assert level(detector, "I think maybe my smile looks uneven?") == "emergency"
    assert level(detector, "my mum's face has dropped") == "emergency"


def test_questions_and_hypotheticals_inform(detector):
    for text in ("what does facial droop mean?", "what if my face started drooping?", "is my twitch a seizure?"):
        found = detector.assess(text)
        assert found.level is None and found.informational, text
        assert found.findings[0].status == HYPOTHETICAL


def test_a_question_about_what_is_happening_now_alarms(detector):
    assert level(detector, "is he having a seizure right now?") == "emergency"


def test_family_history_and_the_past_do_not_fire(detector):
    for text in ("my dad had a stroke", "MS runs in my family", "my nan had seizures", "I hit my head 2 years ago"):
        assert level(detector, text) is None, text


def test_misspellings_case_emoji_and_slang(detector):
    for text in ("slured speach", "fce droopng", "MY FACE IS DROOPING", "my face is drooping 😭", "cnt breathe"):
        assert level(detector, text) == "emergency", text
    assert level(detector, "kms") == "crisis"


def test_idioms_and_other_senses_do_not_fire(detector):
    for text in ("this twitch is killing me", "i'm trying to get fit", "I'm confused about the causes",
                 "week after week it twitches"):
        assert detector.assess(text).level not in ("emergency", "crisis", "urgent"), text


def test_a_red_flag_buried_in_a_long_message(detector):
    text = ("I've been really stressed at work and I'm drinking way too much coffee, maybe five cups a day. "
            "My upper lip has been twitching on and off since Monday. This afternoon my left arm went numb "
            "for a while. Anyway, could it be the caffeine?")
    assert level(detector, text) == "emergency"


def test_the_highest_level_wins(detector):
    found = detector.assess("twitching for 3 weeks and now I keep choking on drinks and my face droops")
    assert found.level == "emergency" and found.red_flags == ("RF01",)
    assert level(detector, "twitching for a month and it's spread to my cheek") == "routine"


def test_negated_findings_are_reported_as_such(detector):
    found = detector.assess("no arm weakness at all")
    assert found.level is None and [f.status for f in found.findings] == [NEGATED]


# --- what the learned safety net reads: clauses, and the vague changes that earn a safety-net question ------


def test_a_message_is_read_clause_by_clause_with_denials_questions_and_the_past_marked(detector):
    found = detector.assess("I have never had a fit, but my mouth went slack. what are the signs of a stroke?")
    assert [(clause.text, clause.reporting) for clause in found.clauses] == [
        ("i have never had a fit", False), ("my mouth went slack", True), ("what are the signs of a stroke?", False)]
    assert found.clauses[0].denied == {"RF08"}
    assert [clause.text for clause in detector.assess("no drooping, and my arm is weak").clauses] == [
        "no drooping", "my arm is weak"]


def test_a_sign_with_a_contracted_not_still_reports(detector):
    """ "won't move" is a sign, not a denial: the clause still reports."""
    assert all(clause.reporting for clause in detector.assess("her arm won't move and she can't lift it").clauses)
    assert not detector.assess("my nan had seizures years ago").clauses[0].reporting


@pytest.mark.parametrize(("text", "question"), [
    ("my face feels weird", "fast"),
    ("his speech sounds odd tonight", "fast"),
    ("my tongue feels thick and strange", "breathing"),
    ("she went blank and wasn't answering me", "fit"),
    ("my vision went fuzzy for a bit", "sudden"),
    ("honestly i'm so tired of everything", "mood"),
])
def test_vague_changes_earn_their_safety_net_question(detector, text, question):
    assert question in detector.assess(text).questions


@pytest.mark.parametrize("text", ["does a weird feeling in your face mean a stroke?",
                                  "my face doesn't feel weird at all", "my lip twitches when I'm tired",
                                  "I want to give up caffeine"])
def test_questions_denials_and_plain_twitching_earn_no_question(detector, text):
    assert detector.assess(text).questions == ()


# --- held-out set 5's lessons ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Double vision? no. Headache? no. Balance? fine. Lip twitch? yes lol, 3 days",
    "my nan's mouth has been a bit crooked since her stroke in 2015, nothing new or different",
    "she's had a lopsided smile since she was a baby, nothing new there",
    "our dog had a seizure last night and the vet says it's epilepsy",
    "there was a blackout on our street last night so I couldn't sleep",
    "bumped my head on the cupboard door this morning, little lump, not sick, not sleepy",
    "Nobody in our house has ever had a seizure, but my daughter's lip twitches",
])
def test_near_misses_that_share_the_emergency_words_do_not_alarm(detector, text):
    assert level(detector, text) is None


# What held-out sets 5 to 8 showed after their first runs (bench/RESULTS.md): each reading, at its level.
@pytest.mark.parametrize("text, expected", [
    ("my dad collapsed while walking the dog", "emergency"),  # the nearest one named is the dad
    ("left. and my left arm feels like its not mine since lunch", "emergency"),
    ("banged my head yesterday, not dizzy but I've been sick twice", "emergency"),  # one companion denied, one not
    ("keep spluttering when I drink, goes down the wrong way every time, never used to", "urgent"),
    ("I am feeling I should not be living, my family will be more happy without me", "crisis"),
    ("I want to die at this job, I can't take it", "crisis"),  # a cause beside them never explains such thoughts
    ("not really, bit of trouble swallowing bread the last few days, feels like it sticks", "urgent"),
    ("my dad's tongue has these little ripples and steak is much harder to chew than it used to be", "urgent"),
    ("lip + eyelid both twitching this week, exam stress i assume", "routine"),
    ("using my salbutamol inhaler a lot more and my lip twitches after each puff", "routine"),
    ("I totally choked in my driving test yesterday and my lip was twitching the whole time", None),
    ("my nan had seizures when she was young", None),
    ("they gave me anti-sickness tablets two days ago and now my tongue keeps pushing out of my mouth", "urgent"),
    ("since my lamotrigine dose went up last week my top lip flickers loads", "routine"),
    ("my dose has gone up and my lip twitches", "routine"),
    ("pins and needles in my toes last weekend, now it's up past my knees", "urgent"),
    ("I'm up to my knees in work and my lip twitches", None),
    # Set 8: a swallow that takes effort, fingertips, a painful fading eye, durations and places said other ways.
    ("swallowing has got harder this week and meat kind of sticks", "urgent"),
    ("it takes effort to swallow lately", "urgent"),
    ("that news was hard to swallow but my lip twitch is fine", None),  # the idiom, not the throat
    ("it was hard to swallow my dinner tonight", "urgent"),
    ("we had bread sticks with dinner and my lip twitched", None),
    ("numb lips, tingling fingers and my hands keep cramping", "urgent"),
    ("my lips and fingertips are tingling and I get cramps", "urgent"),
    ("colours look washed out in my left eye and it hurts when I move it", "urgent"),
    ("my eye hurts behind it and reds look dull in that eye", "urgent"),
    ("the colours on my screen look washed out and my lip twitches", None),
    ("my lip has twitched for half a year", "routine"),
    ("lip twitching for the past year", "routine"),
    ("it's been the whole of last term basically", "routine"),
    ("lip twitching for about a week now", None),  # a week is not more than two
    ("I get twitching everywhere, lip, arms, legs", "routine"),
    ("random twitches in various muscles, lip included", "routine"),
    ("my lip twitches and then my eyelid goes too", "routine"),
    ("my thoughts are all over the place and my lip twitches", None),
    ("nobody can see it, my husband says he can't see anything when it happens", None),
    ("I suddenly can't see anything", "emergency"),
    ("I had a coughing fit and then my lip started twitching", None),
    ("my mum will have a fit if she sees this twitch", None),
    ("she had a fit of shaking and went stiff", "emergency"),
    ("I bought blackout blinds to sleep better, lip still twitching", None),
    ("is my lip twitch some kind of seizure?", None),
    ("could this twitching be a form of epilepsy?", None),
    ("my dad had some kind of seizure and is still confused", "emergency"),
    ("been cutting again this week, the twitch is the least of my worries", "crisis"),
    ("my daughter has started cutting again", "crisis"),
    ("I've started cutting out caffeine again to cope with the twitch", None),  # `+again`: right after
    ("the power cut again last night and my lip twitched", None),
    ("I've been working out at the gym and my lip twitches", None),
])
def test_what_the_held_out_sets_showed_is_read_at_its_level(detector, text, expected):
    assert level(detector, text) == expected


# What held-out sets 9 to 11 and the understanding sets showed after their first runs (bench/RESULTS.md).
@pytest.mark.parametrize("text, expected", [
    # A term's alternative of two tokens ("won't" is "wo n't") keeps its negation, and matches at all.
    ("my face does move and my lip twitches", None),
    ("the tablets do go down fine", None),
    ("his face won't move on the left", "emergency"),
    ("I can't swallow since this morning", "urgent"),
    ("tablets won't go down", "urgent"),
    # Years before "ago" are when, not how long; "started six weeks ago" is still how long.
    ("About three years ago I had Bell's palsy on the right side of my face, it recovered", "routine"),
    ("it started about six weeks ago and it's still going", "routine"),
    ("my baby is 3 months old and my lip twitches", None),
    ("now and then a faint tingle in my lip", None),
    ("I felt like I was going to faint when the dentist showed me the bill haha", None),
    ("I feel faint and my lips are swollen", "emergency"),
    # A lip that pulls up is a twitch or a spasm; pulled down or to one side is a drooping face.
    ("my lip pulls up on one side for a second and then lets go", None),
    ("her mouth pulled to one side since lunch", "emergency"),
    ("Asking for my uncle who won't ask himself", None),
    ("mum's not herself since lunch", "emergency"),
    ("he's not really himself today", "emergency"),
    # The name of a condition is no report of it; having it, or thinking it is, is.
    ("a colleague said twitching can come before Bell's palsy, my face looks normal", None),
    ("my sister says it's probably bells palsy, his face has fallen on the right", "emergency"),
    ("I think I've got Bell's palsy", "emergency"),
    ("a boy in his class said a twitch means you're going to have a fit", None),
    ("This is going to sound weird, but my lip twitches after wine", None),
    ("I'm basically choking on the workload at the moment", None),
    ("my dad sounds weird on the phone tonight", "emergency"),
    ("training for a marathon, up to 60km a week", None),  # "km" is not "kms"
    ("half of what im looking at is missing, like the left bit of the page isnt there", "emergency"),
    ("the room tipped sideways and I can't get straight down the hall", "emergency"),
    ("when i came back in his face had sort of fallen on the right side", "emergency"),  # the room, not "back in 2010"
    ("lips and tongue keep going into tight spasms since the new anti sickness pill", "urgent"),
    ("my chin went numb on Wednesday and now it's creeping onto my cheek", "urgent"),
    ("the twitch has moved onto my chin", "routine"),  # a twitch that spread (RF19), not numbness (RF17)
    # A medicine by its name (USAN stems), a routine row.
    ("started amlodipine last week and my lip keeps jumping", "routine"),
    ("since they upped his methylphenidate his lip twitches", "routine"),
    ("lamotrigine dose increase n lip twitchin since", "routine"),
    ("can amlodipine cause lip twitching?", None),
    ("I had a pineapple yesterday and my lip twitched", None),
    ("whenever my eyelid twitches my lip pulls up at the same time", "routine"),
    ("lip n eyebrow twitchin together since last weekend", "routine"),
    # Set 11: durations counted between two times of the year, brand names, "low" is not "lower", idioms.
    ("its been going since the clocks went back and its nearly christmas now, just my top lip", "routine"),
    ("lip twitch since easter and its june. on and off but mostly on", "routine"),
    ("since christmas my lip twitches", None),  # from when, but not to when: it may be a week
    ("most of the term tbh", "routine"),
    ("is it my Prozac? lip has been twitching since I started it 10 days ago", "routine"),
    ("Got Maxolon from the GP on Friday, since Saturday my jaw keeps going into spasm", "urgent"),
    ("a numb patch on my cheek that's crept down to my lip and chin over four days", "urgent"),
    ("blurry patch in my left eye that aches at the back when I look around", "urgent"),
    ("upper lip and the side of my nose twitch at the same time", "routine"),
    ("does lip twitching mean you're low on potassium?", None),
    ("one side of my mouth is lower than the other", "emergency"),
    ("i felt faint with relief when i read that lip twitches are usually harmless", None),
    ("dying of embarrassment here, my lip twitched all through my first date", None),
    # Set 12: more ways of saying how long and what changed.
    ("it's moved into my chin and my cheek over the last few days", "routine"),
    ("GP upped my levothyroxine about ten days ago and my top lip flutters", "routine"),
    ("since before the summer holidays and the kids are back at school now", "routine"),
    ("lip twitching for 16 days straight now", "routine"),
    ("my baby is 20 days old and my lip twitches", None),
    ("Since starting Elvanse my lip twitches", "routine"),
    ("my ventolin makes my hands shaky and now my lip flickers", "routine"),
    ("we had a blackout last night, whole street lost power, and i was up till 3", None),
    ("was putting the washing out and the whole garden tipped sideways, cant walk in a straight line", "emergency"),
    ("fell off my bike yesterday no helmet, bashed my head. threw up twice this morning", "emergency"),
    ("lip twitching and now i cant get a full breath in, chest feels like someones sitting on it", "emergency"),
    ("he's super out of it and can't tell me what city we're in", "emergency"),
    ("I can't remember what day it is, so busy lol", None),
    ("back from Spain in August and my lip started jumping on the flight home. It's October now", "routine"),
    ("in august i'm going to spain, its june now", None),  # no twitch started then
    ("with the house move and everything my lip has been twitching", None),
    # Set 13 (after its first run).
    ("took about 20 paracetamol an hour ago, i dont know why im telling a twitch bot", "crisis"),
    ("I took 2 paracetamol for my headache and my lip twitches", None),  # a dose, not an overdose
    ("I'm taking 12 tablets a day since my transplant and my lip twitches", "routine"),  # a regimen (RF21)
    ("started aripiprazole 2 days ago and my lip and jaw are spasming, cant control it", "urgent"),
    ("started on risperidone at the weekend, today my tongue keeps curling", "urgent"),
    ("lip has been jumping on and off all summer", "routine"),
    ("Ever since the clocks went back my lip has had this twitch, it's now the middle of december", "routine"),
    ("my eyelid twitches and now the corner of my mouth pulls up at exactly the same time", "routine"),
    ("could my elvanse be behind the lip jumping?", "routine"),
    ("I had Botox in my forehead 10 days ago and now my top lip has a twitch", "routine"),
    ("my lip has twitched for 3 weeks since the filling", "routine"),  # a cause does not shorten it
    ("the numbness started on my chin and has spread across my cheek and up to my ear", "urgent"),
    # Signs the net read only in a window of a long message: now the detector's, whatever the next retrain does.
    ("the left corner of my mouth wouldn't go up when I smiled at myself", "emergency"),
    ("My wife noticed my mouth looks a bit off to one side when I talk", "emergency"),
    ("my mouth is doing this weird thing where it wont smile on the right", "emergency"),
    ("this morning i couldnt feel the left side of my face for maybe ten min", "emergency"),
    ("my lips are going a bit bluey and I cant finish a sentence without stopping for air", "emergency"),
    ("my lip twitch doesn't go up to my eye", None),
    ("i can't get through a sentence without him interrupting", None),
])
def test_what_sets_9_to_11_showed_is_read_at_its_level(detector, text, expected):
    assert level(detector, text) == expected
