"""Rasa's response generator, with one addition: a custom payload value that is exactly a slot
placeholder ("{red_flags}") gets the slot's value itself (a list stays a list), not its text."""

from __future__ import annotations

import copy
import re
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class SlotValueNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Configured in endpoints.yml as `nlg: {type: liptwitch.rasa_server.nlg.SlotValueNaturalLanguageGenerator}`."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    def _fill_response(self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None,
                       **kwargs: Any) -> dict[str, Any]:
        custom = response.get("custom")
        whole = {key: match.group(1) for key, value in (custom or {}).items()
                 if isinstance(value, str) and (match := _PLACEHOLDER.fullmatch(value))}
        filled = super()._fill_response(copy.deepcopy(response), filled_slots, **kwargs)
        values = {**(filled_slots or {}), **kwargs}
        for key, slot in whole.items():
            filled["custom"][key] = values.get(slot)
        return filled
