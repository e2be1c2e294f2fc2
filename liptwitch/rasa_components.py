"""Rasa NLU components of the project: thin adapters around the pure-Python modules."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, ENTITY_ATTRIBUTE_VALUE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from liptwitch.answers import TOPIC_ENTITY
from liptwitch.knowledge_base import DEFAULT_DIRECTORY, load_knowledge_base
from liptwitch.text import PhraseMatcher

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class KnowledgeBaseEntityResolver(GraphComponent):
    """Turns each extracted `topic` into a knowledge-base id ("coffe" -> caffeine), typos and all.

    Takes the place of Rasa's EntitySynonymMapper: the synonyms come straight from the knowledge
    base, so there is no second list to keep. A topic that names nothing in the knowledge base is
    dropped rather than passed on as a value the actions cannot use.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"knowledge_base": None, "entity": TOPIC_ENTITY}

    def __init__(self, config: dict[str, Any]) -> None:
        directory = config.get("knowledge_base") or DEFAULT_DIRECTORY
        self.entity = config.get("entity") or TOPIC_ENTITY
        self.matcher = PhraseMatcher(load_knowledge_base(directory).synonym_index())

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> KnowledgeBaseEntityResolver:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

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
