"""The trained rule policy, given only the latest states its rules can match
(liptwitch/rasa_server/patches/policies.py), predicts exactly what it predicts with the whole conversation's states,
Rasa's way: the same action, confidences, events and hidden rule turns, after every event of long conversations
made of the project's stories, rules and test stories one after the other."""

from __future__ import annotations

import random

import pytest
from rasa.core.agent import Agent
from rasa.core.policies.rule_policy import RULES, RulePolicy
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from liptwitch.rasa_server.patches import policies
from tests.helpers import REPO, generated_conversations

pytestmark = pytest.mark.rasa

MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"


def long_conversations(domain, joined: int) -> list[list]:
    """Every generated conversation once, in a shuffled order, `joined` of them one after the other in each."""
    conversations = generated_conversations(domain)
    random.Random(3).shuffle(conversations)
    return [[event for events in conversations[start:start + joined] for event in events]
            for start in range(0, len(conversations), joined)]


def test_the_rule_policy_predicts_from_the_latest_states_as_from_all_of_them(monkeypatch):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (or `make test`, which trains first)")
    agent = Agent.load(str(MODEL))
    policy = next(node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                  if type(node._component) is RulePolicy)
    domain = agent.domain
    cut = policies.rule_policy_states_cut(policy)
    compared = longer_than_the_cut = 0
    for events in long_conversations(domain, joined=8):
        tracker = DialogueStateTracker("long", domain.slots)
        for event in events:
            tracker.update(event)
            if not isinstance(event, ActionExecuted | UserUttered):
                continue
            ours = policy.predict_action_probabilities(tracker, domain)
            with monkeypatch.context() as rasas:
                rasas.setattr(RulePolicy, "_prediction_states", RulePolicy._prediction_states.rasas)
                rasas.setattr(RulePolicy, "_get_possible_keys", RulePolicy._get_possible_keys.rasas)
                theirs = policy.predict_action_probabilities(tracker, domain)
                all_states = len(policy._prediction_states(tracker, domain))
            assert ours == theirs, (len(tracker.events), event)
            compared += 1
            longer_than_the_cut += all_states > cut
    assert 3 <= cut < 20
    # Each rule of the model at the end of a longer history, whole and with its first state changed: the latest
    # `cut` states find the rules all the states find.
    rules = policy.lookup[RULES]
    history_start = policy._rule_key_to_state(next(iter(rules)))
    for key in rules:
        rule_states = [dict(state) for state in policy._rule_key_to_state(key)]
        near_miss = [{"prev_action": {"action_name": "utter_greet"}}, *rule_states[1:]]
        for ending in (rule_states, near_miss):
            states = [*history_start, *history_start, *ending]
            assert (RulePolicy._get_possible_keys.rasas(policy, rules, states[-cut:])
                    == RulePolicy._get_possible_keys.rasas(policy, rules, states))
    assert compared > 350 and longer_than_the_cut > 0.8 * compared  # most predictions were made on cut states


def test_the_memoization_policy_predicts_from_the_states_it_can_match_as_from_all_of_them(monkeypatch):
    """Built from only as many of the latest states as its longest memorized history (and one more), its answer
    is the one it gives built from all of them, after every event of long conversations."""
    from rasa.core.policies.memoization import MemoizationPolicy

    agent = Agent.load(str(MODEL))
    policy = next(node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                  if type(node._component) is MemoizationPolicy)
    domain = agent.domain
    most = policies.most_states_memorized(policy)
    compared = longer = 0
    for events in long_conversations(domain, joined=8)[:6]:
        tracker = DialogueStateTracker("long", domain.slots)
        for event in events:
            tracker.update(event)
            if not isinstance(event, ActionExecuted | UserUttered):
                continue
            ours = policy.predict_action_probabilities(tracker, domain)
            with monkeypatch.context() as rasas:
                rasas.setattr(MemoizationPolicy, "_prediction_states", MemoizationPolicy._prediction_states.rasas)
                theirs = policy.predict_action_probabilities(tracker, domain)
                longer += len(policy._prediction_states(tracker, domain)) > most + 1
            assert ours == theirs, (len(tracker.events), event)
            compared += 1
    assert compared > 100 and longer > 50  # many were built from the cut states
