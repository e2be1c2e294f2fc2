"""The project's Rasa NLU components on Rasa's own Message objects (no trained model needed)."""

from __future__ import annotations

import pytest
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from liptwitch.core.limits import MAX_MESSAGE_CHARACTERS
from liptwitch.rasa_server.components import (
    CountryFromMetadata,
    KnowledgeBaseEntityResolver,
    LongMessageCap,
    RedFlagClassifier,
)


def message(text: str, intent: str = "ask_cause", ranking: tuple[str, ...] = (), **data) -> Message:
    names = [intent, *ranking]
    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.4},
                         "intent_ranking": [{"name": n, "confidence": 0.4 - i / 10} for i, n in enumerate(names)],
                         **data})


@pytest.fixture(scope="module")
def classifier():
    return RedFlagClassifier.create(RedFlagClassifier.get_default_config(), None, None, None)


def test_an_affirmed_red_flag_overrides_the_intent_even_a_fallback(classifier):
    (parsed,) = classifier.process([message("no idea why my face is drooping", intent="nlu_fallback")])
    assert parsed.get("intent") == {"name": "red_flag_emergency", "confidence": 1.0}
    assert [e["value"] for e in parsed.get("entities") if e["entity"] == "red_flag"] == ["RF01"]
    assert parsed.get("model_intent")["name"] == "nlu_fallback"


def test_the_models_own_red_flag_guess_is_demoted(classifier):
    (parsed,) = classifier.process([message("is it gonna rain", intent="red_flag_routine", ranking=("out_of_scope",))])
    assert parsed.get("intent")["name"] == "out_of_scope"
    assert all(not r["name"].startswith("red_flag_") for r in parsed.get("intent_ranking"))


def test_a_question_about_a_red_flag_gets_the_warning_signs(classifier):
    (parsed,) = classifier.process([message("what does facial droop mean?", intent="ask_definition")])
    assert parsed.get("intent")["name"] == "ask_warning_signs"


def test_an_ordinary_question_keeps_its_intent(classifier):
    (parsed,) = classifier.process([message("can coffee make my lip twitch", intent="ask_cause")])
    assert parsed.get("intent")["name"] == "ask_cause"
    assert parsed.get("red_flag_assessment") == {"level": None, "red_flags": [], "question": None, "source": None,
                                                  "informational": False}


@pytest.fixture(scope="module")
def with_net(small_safety_net):
    return RedFlagClassifier(RedFlagClassifier.get_default_config(), None, None, net=small_safety_net)


def test_the_safety_net_escalates_words_no_term_names(with_net):
    (parsed,) = with_net.process([message("my mouth went slack on the left side", intent="goodbye")])
    assert parsed.get("intent") == {"name": "red_flag_emergency", "confidence": 1.0}
    assert [e["value"] for e in parsed.get("entities") if e["entity"] == "red_flag"] == ["RF01"]
    assert parsed.get("red_flag_assessment")["source"] == "net"
    assert parsed.get("model_intent")["name"] == "goodbye"


def test_a_vague_change_gets_the_safety_net_question_first(classifier):
    (parsed,) = classifier.process([message("hi, my tongue feels thick and strange", intent="greet")])
    assert parsed.get("intent")["name"] == "unclear_symptom"
    assert [e["value"] for e in parsed.get("entities") if e["entity"] == "safety_question"] == ["breathing"]


def test_small_talk_never_answers_a_symptom(with_net):
    for intent in ("greet", "goodbye", "thank", "bot_challenge", "stop", "nlu_fallback"):
        (parsed,) = with_net.process([message("ok thanks. her mouth has gone all different", intent=intent)])
        assert parsed.get("intent")["name"] in ("red_flag_emergency", "unclear_symptom"), intent


def test_ordinary_small_talk_keeps_its_intent(with_net):
    for text, intent in (("thanks, that helps", "thank"), ("bye for now", "goodbye"), ("hello there", "greet")):
        (parsed,) = with_net.process([message(text, intent=intent)])
        assert parsed.get("intent")["name"] == intent


@pytest.mark.parametrize("said, code", [("GB", "GB"), ("uk", "GB"), ("Germany", "EU"), ("usa", "US"), ("Mars", None)])
def test_the_country_comes_from_the_channel_metadata(said, code):
    component = CountryFromMetadata.create({}, None, None, None)
    (parsed,) = component.process([message("hi", metadata={"country": said})])
    countries = [e["value"] for e in parsed.get("entities", []) if e["entity"] == "country"]
    assert countries == ([code] if code else [])


def test_topics_are_resolved_to_knowledge_base_ids_and_unknown_ones_dropped():
    resolver = KnowledgeBaseEntityResolver.create(KnowledgeBaseEntityResolver.get_default_config(), None, None, None)
    text = "can coffe or my bicycle cause it"
    entities = [{"entity": "topic", "value": "coffe", "start": 4, "end": 9},
                {"entity": "topic", "value": "my bicycle", "start": 13, "end": 23}]
    (parsed,) = resolver.process([Message(data={"text": text, "entities": entities})])
    assert [e["value"] for e in parsed.get("entities")] == ["caffeine"]


@pytest.mark.parametrize("text, reaches_nlu", [
    ("/ask_cause", False), ('/ask_treatment{"topic": "caffeine"}', False), ("/check_my_twitching", False),
    ("/greet", False),  # the chat page's first message
    ("/goodbye my face is drooping", True), ('/ask_cause{"topic": "caffeine"} my arm is weak', True),
    ("/goodbye@1\nmy face has dropped on one side", True), ('/ask_cause{"topic": "x"}', True),
    ('/red_flag_emergency{"red_flag": ["RF01", "<b>x</b>"]}', True), ("/unclear_symptom", True), ("/goodbye", True),
    ("/restart", True), ("/session_start", True), ("/back", True), ("/{", True), ('/deny_signs{"a": 1}', True),
])
def test_only_the_assistants_own_buttons_are_read_as_commands_anything_else_as_text(text, reaches_nlu):
    from rasa.shared.core.domain import Domain

    from tests.helpers import REPO
    unpacked = YAMLStoryReader.unpack_regex_message(Message(data={"text": text}),
                                                    domain=Domain.load(str(REPO / "domain.yml")))
    assert (unpacked.get("intent") is None) is reaches_nlu


WORRY = "I have been worried about my lip for weeks and I keep reading about it at night. "


def test_the_pipeline_reads_at_most_the_channels_limit_its_beginning_and_its_end_cut_at_whole_words():
    cap = LongMessageCap.create(LongMessageCap.get_default_config(), None, None, None)
    (capped,) = cap.process([message(WORRY * 60)])
    assert len(capped.get("text")) <= MAX_MESSAGE_CHARACTERS
    head, tail = capped.get("text").split("\n...\n")
    assert (WORRY * 60).startswith(head) and (WORRY * 60)[len(head)] == " "  # cut between two words
    assert (WORRY * 60).rstrip().endswith(tail.rstrip())
    assert capped.get("text_capped_from") == len(WORRY * 60)
    (short,) = cap.process([message("short")])
    assert short.get("text") == "short"


def test_the_detector_reads_at_most_the_limit_its_beginning_and_its_end_so_its_time_is_bounded(classifier):
    middle = WORRY * 100 + "Now the left side of my face is drooping. " + WORRY * 100
    assert "RF01" not in classifier.detector.assess(middle).red_flags  # not read (the channel told the person so)
    assert classifier.detector.assess("Now the left side of my face is drooping. " + WORRY * 200).level == "emergency"
    assert classifier.detector.assess(WORRY * 200 + "Now the left side of my face is drooping.").level == "emergency"


def test_action_server_responses_are_checked_against_rasas_schema_without_rechecking_the_schema(monkeypatch):
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_answer_question", None)
    monkeypatch.setattr(jsonschema, "validate", lambda *args, **kwargs: pytest.fail("the slow path was taken"))
    valid = {"events": [{"event": "slot", "name": "context_kind", "value": "cause"}],
             "responses": [{"text": "Caffeine can do it."}]}
    assert action._validate_action_result(valid) is True
    monkeypatch.undo()  # a refused response goes through Rasa's own check, error message and all
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "no_such_event"}], "responses": []})


RESPONSES = [
    ({"events": [{"event": "slot", "name": "context_kind", "value": "cause"}], "responses": [{"text": "Caffeine."}]},
     True),
    ({"events": [{"event": "slot", "value": "cause"}]}, False),  # a slot event needs its name
    ({"events": [{"event": "user", "text": 3}]}, False),
    ({"events": [{"event": "bot", "text": "Hello", "timestamp": None, "metadata": {}}]}, True),
    ({"events": [{"event": "bot", "timestamp": "now"}]}, False),
    ({"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "utter_greet"}]}, True),
    ({"events": [{"event": "no_such_event"}]}, False),
    ({"events": [{"name": "no event key"}]}, False),
    ({"events": "not a list"}, False),
    ({"events": [], "responses": "not a list"}, False),
    ({"events": [], "responses": [{"text": 1}]}, True),  # Rasa's schema does not type a response's properties
    ({}, True),
]


@pytest.mark.parametrize("response, valid", RESPONSES)
def test_the_quick_response_check_agrees_with_rasas_schema(response, valid):
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    from liptwitch.rasa_server.patches.action_server import response_checker

    schema = RemoteAction.action_response_format_spec()
    assert jsonschema.Draft202012Validator(schema).is_valid(response) is valid
    assert response_checker(schema)(response) is valid


def test_earlier_turns_go_to_the_action_server_compact_and_read_the_same():
    import json

    import ujson
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_sdk import Tracker

    from actions.feedback import answer_rated
    from actions.tracker_helpers import after_immediate_advice, is_first_reply, session_user_messages
    from liptwitch.rasa_server.patches.action_server import events_for_the_action_server
    from tests.helpers import REPO

    domain = Domain.load(str(REPO / "domain.yml"))
    parse = {"name": "ask_about", "confidence": 0.9}
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for turn in range(3):
        events += [UserUttered(f"what about stress {turn}?", parse, [{"entity": "topic", "value": "stress"}],
                               input_channel="rest"),
                   ActionExecuted("action_answer_question", policy="RulePolicy", confidence=1.0),
                   BotUttered("Stress can make muscles twitch. " * 20, {"buttons": [{"title": "More"}], "custom": {
                       "kb_ids": ["stress"], "intent": "ask_about", "source": "Source: a long line " * 5}}),
                   SlotSet("context_topics", ["stress"]), ActionExecuted("action_listen")]
    events += [UserUttered("and coffee?", parse, [{"entity": "topic", "value": "caffeine"}], input_channel="rest")]
    tracker = DialogueStateTracker.from_events("compact", events, slots=domain.slots)
    whole = [event.as_dict() for event in tracker.events]
    encoded = events_for_the_action_server(tracker.events)
    sent = json.loads(encoded.text)
    # In a request, the encoded events go in as they are (ujson is the action endpoint's encoder).
    assert ujson.loads(ujson.dumps({"tracker": {"events": encoded}})) == {"tracker": {"events": sent}}
    assert events_for_the_action_server(tracker.events).text == encoded.text  # the same again, from what was kept

    assert len(sent) == len(whole)
    assert sent[-1] == whole[-1]  # the current turn whole, parse data and all
    earlier_user = [event for event in sent[:-1] if event["event"] == "user"]
    # Of an earlier message's understanding, only its intent and topics (for "none of these" after a safety question).
    assert earlier_user and all(event["parse_data"] == {"intent": {"name": "ask_about"}, "model_intent": {"name": None},
                                                        "entities": [{"entity": "topic", "value": "stress"}]}
                                for event in earlier_user)
    assert all("text" not in event for event in sent if event["event"] == "bot")
    assert len(str(sent)) < len(str(whole)) / 2

    state = tracker.current_state()
    full_tracker, compact_tracker = Tracker.from_dict({**state, "events": whole}), Tracker.from_dict(
        {**state, "events": sent})
    for read in (is_first_reply, session_user_messages, answer_rated, after_immediate_advice,
                 Tracker.get_latest_input_channel, Tracker.slots_to_validate,
                 lambda t: [(e["event"], e.get("name")) for e in t.applied_events()],
                 lambda t: t.get_last_event_for("action", exclude=["action_listen"])["name"],
                 lambda t: t.last_executed_action_has("action_listen")):
        assert read(compact_tracker) == read(full_tracker)
    assert session_user_messages(compact_tracker) == [f"what about stress {turn}?" for turn in range(3)] + [
        "and coffee?"]
    assert is_first_reply(compact_tracker) is False
    assert answer_rated(compact_tracker)["kb_ids"] == ["stress"]  # what a 👍 or 👎 is about, from an earlier turn


def test_debug_log_arguments_are_built_only_when_debug_logs_are_written():
    import logging

    import structlog
    from rasa.core.policies import memoization, rule_policy

    states = [{"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}]
    configuration = structlog.get_config()
    try:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
        assert memoization.copy.deepcopy(states) is None
        assert rule_policy.RulePolicy.format_tracker_states(states) == ""
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))  # rasa run --debug
        assert memoization.copy.deepcopy(states) == states and memoization.copy.deepcopy(states) is not states
        assert "user intent: greet" in rule_policy.RulePolicy.format_tracker_states(states)
    finally:
        structlog.configure(**configuration)


def test_memoization_looks_up_only_histories_as_short_as_the_memorized_ones(tmp_path, monkeypatch):
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    def policy(kind):
        return kind.create({**kind.get_default_config()}, LocalModelStorage(tmp_path), Resource(kind.__name__),
                           ExecutionContext(GraphSchema({}), "test"))

    def history(turns):
        listen = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "ask_about"}}
        return [{}] + [dict(listen) for _ in range(turns)]

    memo = policy(MemoizationPolicy)
    memo.lookup = {memo._create_feature_key(history(turns)): "action_answer_question" for turns in (1, 3)}
    assert memo._recall_states(history(3)) == "action_answer_question"
    assert memo._recall_states(history(2)) is None
    monkeypatch.setattr(MemoizationPolicy, "_create_feature_key",
                        lambda *args: pytest.fail("a history longer than any memorized one was encoded"))
    assert memo._recall_states(history(40)) is None
    rules = policy(RulePolicy)  # its lookup is of another shape: no bound, nothing skipped
    rules.lookup = {"rules": {"some key": "action_listen"}}
    from liptwitch.rasa_server.patches.policies import most_states_memorized
    assert most_states_memorized(rules) == float("inf")
    assert 4 <= most_states_memorized(memo) < 40


def test_a_prediction_graph_runs_each_node_once_and_gives_what_dask_gives():
    import dask

    from liptwitch.rasa_server.patches.graph import run_graph

    calls = []

    def node(name):
        def run(*inputs):
            calls.append(name)
            return name, [name, *[value for _, value in inputs]]
        return run

    graph = {"__message__": ("__message__", "hello"),
             "tokens": (node("tokens"), "__message__"),
             "words": (node("words"), "tokens"), "letters": (node("letters"), "tokens"),
             "intent": (node("intent"), "words", "letters"), "unused": (node("unused"), "tokens")}
    ours = run_graph(graph, ["intent"])
    assert sorted(calls) == ["intent", "letters", "tokens", "words"]  # each once, nothing not needed
    calls.clear()
    (dasks,) = dask.get(graph, ["intent"])
    assert ours["intent"] == dasks
    assert ours["__message__"] == ("__message__", "hello")


def coo(rows: int, columns: int, dtype: str, entries: int, seed: int):
    import numpy as np
    import scipy.sparse

    generator = np.random.default_rng(seed)
    return scipy.sparse.coo_matrix((generator.integers(1, 5, entries).astype(dtype),
                                    (generator.integers(0, rows, entries), generator.integers(0, columns, entries))),
                                   shape=(rows, columns))


@pytest.mark.parametrize("left, right", [
    (coo(6, 300, "float64", 10, 1), coo(6, 1200, "int64", 30, 2)),  # word counts beside character counts
    (coo(1, 300, "float64", 3, 3), coo(1, 1200, "float64", 0, 4)),  # a sentence, nothing in the second
    (coo(4, 50, "int64", 0, 5), coo(4, 70, "float32", 9, 6)),
    (coo(3, 10, "bool", 4, 7), coo(3, 10, "int8", 4, 8)),
])
def test_sparse_features_are_joined_into_the_matrix_scipy_builds(left, right):
    import numpy as np
    import scipy.sparse

    from liptwitch.rasa_server.patches.graph import hstack_coo

    ours, scipys = hstack_coo(left, right), scipy.sparse.hstack([left, right])
    assert type(ours) is type(scipys) and ours.shape == scipys.shape and ours.dtype == scipys.dtype
    for part in ("row", "col", "data"):
        assert getattr(ours, part).dtype == getattr(scipys, part).dtype
        assert np.array_equal(getattr(ours, part), getattr(scipys, part))
    assert hstack_coo(left.tocsr(), right) is None  # other formats are left to scipy
    assert hstack_coo(left, coo(left.shape[0] + 1, 5, "float64", 1, 9)) is None  # as are rows that differ


def test_rules_are_matched_against_the_latest_states_only_as_rasa_matches_them_against_all(tmp_path):
    """Rules of one to four states, conversation starts among them; histories of up to 60 states drawn from the
    same pieces: the patched policy finds exactly the rules Rasa's own matching finds."""
    import random

    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.constants import SHOULD_NOT_BE_SET

    from liptwitch.rasa_server.patches.policies import longest_rule

    policy = RulePolicy.create(RulePolicy.get_default_config(), LocalModelStorage(tmp_path), Resource("rules"),
                               ExecutionContext(GraphSchema({}), "test"))
    pieces = random.Random(7)

    def state(start: bool = False) -> dict:
        made = {} if start else {"prev_action": {"action_name": pieces.choice(["action_listen", "utter_answer"])}}
        if pieces.random() < 0.7:
            made["user"] = {"intent": pieces.choice(["greet", "ask_cause", "ask_serious"])}
        if pieces.random() < 0.3:
            made["slots"] = {"topic": (1.0,)}
        if pieces.random() < 0.2:  # a rule's "this slot must not be set"
            made.setdefault("slots", {})["context_kind"] = pieces.choice([SHOULD_NOT_BE_SET, (1.0,)])
        if pieces.random() < 0.2:
            made["active_loop"] = {"name": pieces.choice(["twitch_check_form", SHOULD_NOT_BE_SET])}
        return made

    def history(length: int) -> list[dict]:
        return [state(start=index == 0 and pieces.random() < 0.5) for index in range(length)]

    lookup = {policy._create_feature_key(history(pieces.randint(1, 4))): "action_answer" for _ in range(40)}
    matched = 0
    for length in [*range(0, 8), *range(8, 61, 4)] * 20:
        states = history(length)
        ours = policy._get_possible_keys(lookup, states)
        assert ours == RulePolicy._get_possible_keys.rasas(policy, lookup, states)
        matched += bool(ours)
    assert longest_rule(policy, lookup) == 4 and matched > 20  # the cut mattered, and rules did match


def test_requests_to_the_action_server_share_a_kept_connection_and_carry_rasas_headers_and_body():
    """Two actions in a row over one connection, with Rasa's headers, basic authentication, token parameter and
    time-out, and a body that decodes to what was sent (non-ASCII text and slashes included, and events encoded
    beforehand)."""
    import asyncio
    import base64
    import json

    from aiohttp import web
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    from liptwitch.rasa_server.patches.action_server import _KEPT_CONNECTORS, EncodedJSON, close_kept_connections
    from tests.helpers import local_web_server

    body = {"next_action": "action_answer_question", "tracker": {"latest_message": {"text": "lèvre qui tremble 1/2"}},
            "numbers": [1, 2.5, None, True]}
    events = [{"event": "user", "text": "ça tremble"}, {"event": "action", "name": "action_listen"}]
    body_with_encoded_events = {**body, "events": EncodedJSON(json.dumps(events))}
    seen = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append({"connection": request.transport.get_extra_info("peername"),
                     "authorization": request.headers.get("Authorization"), "team": request.headers.get("X-Team"),
                     "token": request.query.get("token"), "body": await request.json()})
        return web.json_response({"events": [], "responses": []})

    async def two_actions() -> list:
        runner, url = await local_web_server("/webhook", webhook)
        endpoint = EndpointConfig(url, headers={"X-Team": "lips"},
                                  basic_auth={"username": "rasa", "password": "secret"}, token="t0k")
        try:
            async with endpoint.session() as session:
                assert session.timeout.total == DEFAULT_REQUEST_TIMEOUT
            return [await endpoint.request(json=sent, method="post") for sent in (body, body_with_encoded_events)]
        finally:
            await close_kept_connections()
            await runner.cleanup()

    answers = asyncio.run(two_actions())
    assert answers == [{"events": [], "responses": []}] * 2
    assert seen[0]["connection"] == seen[1]["connection"]  # the same client port: one connection, kept
    assert seen[0]["authorization"] == "Basic " + base64.b64encode(b"rasa:secret").decode()
    assert all(s["team"] == "lips" and s["token"] == "t0k" for s in seen)
    assert [s["body"] for s in seen] == [body, {**body, "events": events}]
    assert not _KEPT_CONNECTORS  # closed and forgotten with the loop's end
