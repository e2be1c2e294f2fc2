"""A conversation's applied events and past states for Rasa, built once and extended as events are added.

Every policy asks the tracker for its past states (one state before each action, and the current
one), and Rasa 3.6 builds them each time by replaying the whole session: after 200 turns that is
most of a turn's time, and it grows with every turn (bench/RESULTS.md). The states before the last
action never change while events are only appended, so `PastStates` keeps them, with the replayed
tracker they came from, and replays only the events added since.

Rasa also works out the applied events (the events less those undone) from the whole session several times
a turn, and copies the tracker by replaying every event before each action; both are kept or copied here.

The states follow Rasa's `Domain.states_for_tracker_history` step by step. When an added event can change
what came before it (a restart, a new session, a reverted action or utterance, a loop starting or
a loop action that may undo its earlier run), it builds everything again exactly as Rasa does.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

# Events that make Rasa's `applied_events` drop or undo earlier events.
REWRITES_HISTORY = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted, ActiveLoop)


# Rasa's own, for building from scratch (kept on the patched method when this module is imported after patching).
RASAS_APPLIED_EVENTS = getattr(DialogueStateTracker.applied_events, "rasas", DialogueStateTracker.applied_events)


@dataclass(frozen=True)
class EventPosition:
    """How far into a tracker's events something was built, to tell whether the events since only append."""

    count: int
    first: Event | None
    last: Event | None
    loop_names: frozenset[str]

    @classmethod
    def at_end_of(cls, events: Any, loop_names: frozenset[str] | None = None) -> EventPosition:
        if loop_names is None:
            loop_names = frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)
        return cls(len(events), events[0] if events else None, events[-1] if events else None, loop_names)

    def appended_since(self, events: Any) -> list[Event] | None:
        """The events added since, or None when the events changed otherwise or an added one rewrites history."""
        if len(events) < self.count:
            return None
        if self.count and (events[0] is not self.first or events[self.count - 1] is not self.last):
            return None
        added = [events[index] for index in range(self.count, len(events))]
        for event in added:
            if isinstance(event, REWRITES_HISTORY) or (
                    isinstance(event, ActionExecuted) and event.action_name in self.loop_names):
                return None
        return added


def applied_events(tracker: DialogueStateTracker) -> list[Event]:
    """What `DialogueStateTracker.applied_events` returns, working out only the events added since the last call."""
    events = tracker.events
    remembered = tracker.__dict__.get("_liptwitch_applied_events")
    added = remembered[0].appended_since(events) if remembered is not None else None
    if added is None:
        applied = RASAS_APPLIED_EVENTS(tracker)
        position = EventPosition.at_end_of(events)
    else:
        applied = remembered[1]
        applied.extend(added)
        position = EventPosition.at_end_of(events, remembered[0].loop_names)
    tracker.__dict__["_liptwitch_applied_events"] = (position, applied)
    return list(applied)


def copy_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """What `DialogueStateTracker.copy` returns, by copying the tracker's state instead of replaying every event."""
    copied = tracker.init_copy()
    copied.events.extend(tracker.events)
    for name, value in tracker.__dict__.items():
        if name in ("events", "slots") or name.startswith("_liptwitch"):
            continue
        if name == "active_loop" and value is not None:
            value = dataclasses.replace(value)
        elif name == "latest_action" and value is not None:
            value = dict(value)
        copied.__dict__[name] = value
    for name, slot in tracker.slots.items():
        copied.slots[name] = copy.copy(slot)
    return copied


@dataclass
class PastStates:
    """The states of one tracker for one set of arguments, as far as its events were replayed."""

    domain: Domain
    omit_unset_slots: bool
    ignore_rule_only_turns: bool
    rule_only_data: dict[str, Any] | None
    replay: DialogueStateTracker
    position: EventPosition = EventPosition(0, None, None, frozenset())
    states: list[State] = field(default_factory=list)
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False

    @classmethod
    def built_from_scratch(cls, tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool,
                           ignore_rule_only_turns: bool, rule_only_data: dict[str, Any] | None) -> PastStates:
        past = cls(domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data, tracker.init_copy())
        past._replay(tracker.applied_events())
        past.position = EventPosition.at_end_of(tracker.events)
        return past

    def extended_to(self, tracker: DialogueStateTracker) -> bool:
        """Replays the events added since, if they only append (and says whether they did)."""
        added = self.position.appended_since(tracker.events)
        if added is None:
            return False
        self._replay(added)
        self.position = EventPosition.at_end_of(tracker.events, self.position.loop_names)
        return True

    def all_states(self, last: int | None = None) -> list[State]:
        """The states before each action and the current one (the `last` ones only, if given), as copies: the
        featurizers edit them."""
        # The current state is worked out without keeping what it changes: the next event may change it.
        current = self._state(self.replay, False, self.states, self.last_ml_action_sub_state,
                              self.turn_was_hidden)[0]
        states = self.states + current
        if last:
            states = states[-last:]
        # A state is {"user": {...}, "prev_action": {...}, ...} whose innermost values are strings and tuples. Rasa
        # edits a handed-out state only in place of its "user" part (the featurizers delete its text, intent or
        # entities), so a copy of the state and of that part is enough.
        return [{**state, USER: dict(state[USER])} if USER in state else dict(state) for state in states]

    def _replay(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, ActionExecuted):
                added, self.last_ml_action_sub_state, self.turn_was_hidden = self._state(
                    self.replay, event.hide_rule_turn, self.states, self.last_ml_action_sub_state,
                    self.turn_was_hidden)
                self.states.extend(added)
            self.replay.update(event)

    def _state(self, tr: DialogueStateTracker, hide_rule_turn: bool, states: list[State],
               last_ml_action_sub_state: Any, turn_was_hidden: bool) -> tuple[list[State], Any, bool]:
        """One step of Rasa's `states_for_tracker_history` loop: the state to add (if any) and its loop variables."""
        domain = self.domain
        if self.ignore_rule_only_turns:
            # remember previous ml action based on the last non hidden turn
            if not turn_was_hidden:
                last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
            # a followup action or a loop's happy path does not change whether the turn is hidden
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                return [], last_ml_action_sub_state, turn_was_hidden

        state = domain.get_active_state(tr, omit_unset_slots=self.omit_unset_slots)
        if self.ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state
        return [domain._clean_state(state)], last_ml_action_sub_state, turn_was_hidden


def past_states(tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: dict[str, Any] | None = None,
                last: int | None = None) -> list[State]:
    """What `DialogueStateTracker.past_states` returns (its `last` states only, if given), replaying only the events
    added since the last call."""
    key = (id(domain), omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    remembered: dict[tuple, PastStates] = tracker.__dict__.setdefault("_liptwitch_past_states", {})
    past = remembered.get(key)
    if past is None or past.domain is not domain or not past.extended_to(tracker):
        past = remembered[key] = PastStates.built_from_scratch(tracker, domain, omit_unset_slots,
                                                               ignore_rule_only_turns, rule_only_data)
    return past.all_states(last)
