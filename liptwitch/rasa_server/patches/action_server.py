"""Calls to the action server: the response checked with one validator, the request's earlier turns compact and
the latest ones only, connections kept open between requests.

Each patch has unit tests that compare it with Rasa's own result (tests/rasa_server/).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import ujson
from rasa.shared.core.events import UserUttered


def validate_action_responses_with_one_validator() -> None:
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    is_valid = response_checker(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if is_valid(result):
            return True
        return original(self, result)  # Rasa's own check raises its own ValidationError and message

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def response_checker(schema: dict[str, Any]) -> Any:
    """A quick `is_valid` for Rasa's action response schema, built once.

    Each event must match exactly one of the schema's event alternatives ("oneOf"), and each alternative fixes the
    event's name ({"const": ...}): so an event is valid exactly when it is valid for its own name's alternative, and
    only that one is checked (jsonschema would try all 23 for every event). A schema of another shape is checked
    whole, with one validator.
    """
    from jsonschema.validators import validator_for

    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    whole = validator_class(schema)
    try:
        events = schema["properties"]["events"]
        event_schema = events["items"]
        alternatives = event_schema["oneOf"]
        by_name = {alternative["properties"]["event"]["const"]: alternative for alternative in alternatives}
    except (KeyError, TypeError):
        return whole.is_valid
    if len(by_name) != len(alternatives) or set(events) != {"type", "items"}:
        return whole.is_valid
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    event_validators = {name: validator_class({"allOf": [common, alternative]})
                        for name, alternative in by_name.items()}
    without_events = validator_class({**schema, "properties": {key: value for key, value in
                                                               schema["properties"].items() if key != "events"}})

    def is_valid(result: Any) -> bool:
        if not without_events.is_valid(result):
            return False
        if not isinstance(result, dict) or "events" not in result:
            return True
        events = result["events"]
        if not isinstance(events, list):
            return False
        for event in events:
            validator = event_validators.get(event.get("event")) if isinstance(event, dict) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True

    return is_valid


# What rasa_sdk's Tracker and the project's actions read of an event from an earlier turn (beside its type and
# time): user texts and channels (and a little of their understanding, `earlier_parse_data`), action, loop and
# follow-up names, slot values. An event type not listed here is sent whole.
EARLIER_TURN_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("text", "input_channel"),
    "user_featurization": (),
    "bot": (),
    "action": ("name",),
    "slot": ("name", "value"),
    "active_loop": ("name",),
    "followup": ("name",),
}


class EncodedJSON:
    """JSON text that ujson (the action server session's encoder, patch 12) writes into a request as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __json__(self) -> str:
        return self.text


# The latest events of a session the action server is sent (30 to 60 turns): what its actions read (this turn, the
# safety-net question before it, recent messages for a hand-off summary). A request no longer grows with the
# conversation, so every turn took longer to build and read than the one before.
EVENTS_FOR_THE_ACTION_SERVER = 300


def events_for_the_action_server(events: Any) -> EncodedJSON:
    """A session's latest events (EVENTS_FOR_THE_ACTION_SERVER) as sent to the action server, encoded: the current
    turn (from the latest user message) whole, earlier ones with only what is read of them. Their parse data, bot
    texts and policy details are most of a long session's request, which Rasa would encode and the action server
    decode on every call. An earlier event's encoding is made once and kept on it: encoding them all again took 0.7
    ms a call after 200 turns."""
    events = list(events)[-EVENTS_FOR_THE_ACTION_SERVER:]
    latest_user = next((index for index in range(len(events) - 1, -1, -1) if isinstance(events[index], UserUttered)),
                       0)
    encoded = [_compact_json(event) for event in events[:latest_user]]
    encoded += [ujson.dumps(event.as_dict()) for event in events[latest_user:]]
    return EncodedJSON("[" + ",".join(encoded) + "]")


def _compact_json(event: Any) -> str:
    # An event of an earlier turn no longer changes: its compact encoding is made once and kept on it.
    encoded = event.__dict__.get("_compact_json_for_action_server")
    if encoded is None:
        whole = event.as_dict()
        fields = EARLIER_TURN_FIELDS.get(whole.get("event"))
        compact = whole if fields is None else {"event": whole["event"], "timestamp": whole.get("timestamp"),
                                                 **{name: whole[name] for name in fields if name in whole}}
        if whole.get("event") == "user":
            compact["parse_data"] = earlier_parse_data(whole.get("parse_data") or {})
        elif whole.get("event") == "bot" and ((whole.get("data") or {}).get("custom") or {}).get("kb_ids"):
            compact["data"] = {"custom": earlier_answer(whole["data"]["custom"])}
        encoded = event.__dict__["_compact_json_for_action_server"] = ujson.dumps(compact)
    return encoded


def earlier_parse_data(parse_data: dict[str, Any]) -> dict[str, Any]:
    """What the actions read of an earlier message's understanding: after "none of these", the question that
    the safety-net question interrupted (its intent, the model's intent and its topics)."""
    def name_of(key: str) -> dict[str, Any]:
        return {"name": (parse_data.get(key) or {}).get("name")}

    return {"intent": name_of("intent"), "model_intent": name_of("model_intent"),
            "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parse_data.get("entities") or []
                         if isinstance(e, dict)]}


def earlier_answer(custom: dict[str, Any]) -> dict[str, Any]:
    """What the actions read of an earlier answer: the knowledge-base ids a 👍 or 👎 is about, and its intent."""
    return {"kb_ids": custom.get("kb_ids"), "intent": custom.get("intent")}


def send_earlier_turns_compact_to_the_action_server() -> None:
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity
    from rasa.utils.endpoints import EndpointConfig


    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
        # Rasa's own request (rasa/core/actions/action.py), with the events of earlier turns compact.
        tracker_state = tracker.current_state(EventVerbosity.NONE)
        events = events_for_the_action_server(tracker.events)
        # Already encoded for ujson, the endpoints' encoder once patch 12 is in; decoded again otherwise.
        kept_session = getattr(EndpointConfig.session, "patched", False)
        tracker_state["events"] = events if kept_session else json.loads(events.text)
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": tracker_state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]


# Seconds a connection to an action server stays open unused: below Sanic's keep-alive time-out (5 s), so that the
# action server never closes a connection just as a request goes out on it.
KEEP_CONNECTIONS_S = 2.0


_KEPT_CONNECTORS: dict[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = {}


def call_endpoints_over_kept_connections() -> None:
    from rasa.utils import endpoints


    def session(self: endpoints.EndpointConfig) -> aiohttp.ClientSession:
        # Rasa's session (headers, authentication, time-out), over the event loop's kept connections, and encoding
        # JSON with ujson, which encodes a long conversation's request several times faster than the standard library.
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        return aiohttp.ClientSession(headers=self.headers, auth=auth,
                                     timeout=aiohttp.ClientTimeout(total=endpoints.DEFAULT_REQUEST_TIMEOUT),
                                     connector=kept_connector(), connector_owner=False, json_serialize=ujson.dumps)

    session.patched = True  # type: ignore[attr-defined]
    session.rasas = endpoints.EndpointConfig.session  # type: ignore[attr-defined]
    endpoints.EndpointConfig.session = session  # type: ignore[method-assign]


def kept_connector() -> aiohttp.TCPConnector:
    """The running event loop's connections to endpoints, kept open between requests. Rasa opens and closes one for
    every request to the action server, on both sides."""
    loop = asyncio.get_running_loop()
    connector = _KEPT_CONNECTORS.get(loop)
    if connector is None or connector.closed:
        for ended in [other for other in _KEPT_CONNECTORS if other.is_closed()]:
            del _KEPT_CONNECTORS[ended]
        # No limit on connections at once, as with Rasa's session per request.
        connector = _KEPT_CONNECTORS[loop] = aiohttp.TCPConnector(keepalive_timeout=KEEP_CONNECTIONS_S, limit=0)
    return connector


async def close_kept_connections() -> None:
    """Close the running event loop's kept connections (when the server stops)."""
    connector = _KEPT_CONNECTORS.pop(asyncio.get_running_loop(), None)
    if connector is not None:
        await connector.close()
