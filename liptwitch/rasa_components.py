"""Rasa NLU components of the project: thin adapters around the pure-Python modules."""

from __future__ import annotations

import logging
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
        from liptwitch.red_flags import RedFlagDetector  # spaCy and medspaCy load here, once

        self.detector = RedFlagDetector(load_knowledge_base(config.get("knowledge_base") or DEFAULT_DIRECTORY))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._classify(message)
        return messages

    def _classify(self, message: Message) -> None:
        assessment = self.detector.assess(message.get(TEXT) or "")
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
