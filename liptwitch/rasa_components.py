"""Rasa NLU components of the project: thin adapters around the pure-Python modules."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    METADATA,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from liptwitch import rasa_patches
from liptwitch.answers import ASK_WARNING_SIGNS, RED_FLAG_INTENT_PREFIX, TOPIC_ENTITY
from liptwitch.knowledge_base import DEFAULT_DIRECTORY, load_knowledge_base
from liptwitch.text import PhraseMatcher, country_code

logger = logging.getLogger(__name__)


rasa_patches.apply()  # see liptwitch/rasa_patches.py: loaded with the pipeline, in the Rasa server


class _RulesComponent(GraphComponent):
    """A component that learns nothing: it is built from its configuration (and the knowledge base)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> _RulesComponent:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class CountryFromMetadata(_RulesComponent):
    """Reads the country a channel tells in the message metadata ("country": "GB") as an entity.

    It fills the `country` slot, which picks the emergency numbers of that country in the red-flag
    replies; without it the replies give the UK, EU and US numbers.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            metadata = message.get(METADATA) or {}
            code = country_code(metadata.get("country")) if isinstance(metadata, dict) else None
            if code:
                entities = [e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) != "country"]
                entities.append({ENTITY_ATTRIBUTE_TYPE: "country", ENTITY_ATTRIBUTE_VALUE: code, "start": 0, "end": 0,
                                 "extractor": self.__class__.__name__})
                message.set(ENTITIES, entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class KnowledgeBaseEntityResolver(_RulesComponent):
    """Turns each extracted `topic` into a knowledge-base id ("coffe" -> caffeine), typos and all.

    Takes the place of Rasa's EntitySynonymMapper: the synonyms come straight from the knowledge
    base, so there is no second list to keep. A topic that names nothing in the knowledge base is
    dropped rather than passed on as a value the actions cannot use.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"knowledge_base": None, "entity": TOPIC_ENTITY}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        directory = config.get("knowledge_base") or DEFAULT_DIRECTORY
        self.entity = config.get("entity") or TOPIC_ENTITY
        self.matcher = PhraseMatcher(load_knowledge_base(directory).synonym_index())

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES, [])
            if entities:
                message.set(ENTITIES, self._resolve(entities, message.get(TEXT) or ""), add_to_output=True)
        return messages

    def _resolve(self, entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
        resolved = []
        for entity in entities:
            if entity.get(ENTITY_ATTRIBUTE_TYPE) != self.entity:
                resolved.append(entity)
                continue
            said = text[entity["start"]:entity["end"]] if "start" in entity else str(entity.get("value"))
            item_id = self.matcher.resolve(said)
            if item_id is None:
                logger.debug("Dropped a %s entity that names nothing in the knowledge base.", self.entity)
                continue
            resolved.append({**entity, ENTITY_ATTRIBUTE_VALUE: item_id})
        return resolved


@cache
def _red_flag_detector(directory: str) -> Any:
    """One detector per knowledge base, shared by the components below (spaCy and medspaCy load once)."""
    from liptwitch.red_flags import RedFlagDetector

    return RedFlagDetector(load_knowledge_base(directory))


FULL_TEXT_ASSESSMENT = "red_flag_assessment_of_full_text"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LongMessageCap(_RulesComponent):
    """Caps how much of a long message the NLU pipeline reads, after the red-flag detector read all of it.

    First in the pipeline. A long message costs every component time (a flood of them, a whole server),
    so the rest of the pipeline reads only its first `max_characters`, cut at a word. But a warning sign
    at the end of a long, worried message must still be heard: the detector reads the whole message
    first, and RedFlagClassifier uses that reading. nginx caps the request itself (deploy/).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_characters": 1000, "knowledge_base": None}

    def process(self, messages: list[Message]) -> list[Message]:
        limit = int(self.config.get("max_characters") or 1000)
        for message in messages:
            text = message.get(TEXT) or ""
            if len(text) <= limit:
                continue
            detector = _red_flag_detector(str(self.config.get("knowledge_base") or DEFAULT_DIRECTORY))
            message.set(FULL_TEXT_ASSESSMENT, detector.assess(text))
            message.set(TEXT, cap_text(text, limit), add_to_output=True)
            message.set("text_capped_from", len(text), add_to_output=True)
        return messages


def cap_text(text: str, limit: int) -> str:
    """The first `limit` characters of `text`, cut after a whole word where there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space].rstrip() if space > limit // 2 else cut


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagClassifier(_RulesComponent):
    """Runs the red-flag detector on every message; an affirmed red flag outranks any other intent.

    Placed last in the pipeline, after the fallback classifier, so that neither a low confidence
    nor anything the model thought can hide an emergency. The message then carries the intent
    `red_flag_<level>`, one `red_flag` entity per red-flag id (they fill the `red_flags` slot), and
    the full assessment under `red_flag_assessment`. The model's own red_flag_* guesses are
    demoted when the detector does not confirm them: the detector decides, not the classifier.
    """

    INTENT_PREFIX = RED_FLAG_INTENT_PREFIX
    ENTITY = "red_flag"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"knowledge_base": None}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.detector = _red_flag_detector(str(config.get("knowledge_base") or DEFAULT_DIRECTORY))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._classify(message)
        return messages

    def _classify(self, message: Message) -> None:
        # A message LongMessageCap shortened was assessed whole, before it was cut.
        assessment = message.get(FULL_TEXT_ASSESSMENT) or self.detector.assess(message.get(TEXT) or "")
        message.set("red_flag_assessment", {
            "level": assessment.level, "red_flags": list(assessment.red_flags),
            "informational": assessment.informational}, add_to_output=True)
        # The model's own red_flag_* guesses never count: only the detector decides those.
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                   if not str(r.get(INTENT_NAME_KEY, "")).startswith(self.INTENT_PREFIX)]
        model_intent = message.get(INTENT) or {}
        if str(model_intent.get(INTENT_NAME_KEY, "")).startswith(self.INTENT_PREFIX):
            model_intent = ranking[0] if ranking else {INTENT_NAME_KEY: "nlu_fallback", PREDICTED_CONFIDENCE_KEY: 1.0}
        # Kept so that a routine escalation can still answer the question that came with it.
        message.set("model_intent", model_intent, add_to_output=True)
        if assessment.level or assessment.informational:
            # A question about a red flag ("what does facial droop mean?") gets the warning signs.
            name = f"{self.INTENT_PREFIX}{assessment.level}" if assessment.level else ASK_WARNING_SIGNS
            intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
            entities = [e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) != self.ENTITY]
            entities += [{ENTITY_ATTRIBUTE_TYPE: self.ENTITY, ENTITY_ATTRIBUTE_VALUE: red_flag, "start": 0,
                          "end": 0, "extractor": self.__class__.__name__} for red_flag in assessment.red_flags]
            message.set(ENTITIES, entities, add_to_output=True)
        else:
            message.set(INTENT, model_intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
