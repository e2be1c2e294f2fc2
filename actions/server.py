"""What every action shares with the action server: its token check, and the guard that keeps a failing action
from leaving the person without an answer or writing their words to a log."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic
from sanic import response as sanic_response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from liptwitch import settings
from liptwitch.core.answers import APOLOGY

logger = logging.getLogger(__name__)

ACTION_TOKEN_VARIABLE, ACTION_TOKEN_HEADER = settings.ACTION_TOKEN.name, "X-Action-Token"


def require_the_action_token(environment: Mapping[str, str] | None = None) -> bool:
    """With LIPTWITCH_ACTION_TOKEN set, the action server runs actions only for requests that bear it.

    Rasa's action server has no such setting, and anyone who reaches it could otherwise run action_hand_off
    for a made-up conversation. rasa-sdk creates its Sanic app before it imports the actions, so the check
    is added to that app here. (In the cluster nginx checks the token too.)
    """
    token = settings.ACTION_TOKEN.read(environment)
    try:
        app = Sanic.get_app("rasa_sdk")
    except SanicException:
        return False  # imported outside the action server (the tests)
    if not token:
        return False

    @app.on_request
    async def check_the_token(request: Request) -> HTTPResponse | None:
        if request.path == "/health":
            return None
        if hmac.compare_digest(request.headers.get(ACTION_TOKEN_HEADER, "").encode(), token.encode()):
            return None
        return sanic_response.json({"error": f"this action server needs the {ACTION_TOKEN_HEADER} header"}, status=403)

    return True


def never_fails(run: Callable[..., Awaitable[list[EventType]]]) -> Callable[..., Awaitable[list[EventType]]]:
    """An action that fails sends the apology and changes nothing, so the conversation goes on as it was.

    Rasa-sdk would answer the Rasa server with an error that carries the request, conversation and all, which
    Rasa writes to its log, and the person would get nothing. The log here names the action and the kind of
    error only, never what the person wrote.
    """

    @functools.wraps(run)
    async def guarded(self: Action, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> list[EventType]:
        try:
            return await run(self, dispatcher, tracker, domain)
        except Exception as error:  # noqa: BLE001 - whatever it was, the person gets an answer
            logger.error("%s failed (%s); the person was sent the apology.", self.name(), type(error).__name__)
            dispatcher.messages.clear()
            dispatcher.utter_message(text=APOLOGY)
            return []

    return guarded
