"""Rasa NLU components of the project: thin adapters around the pure-Python modules."""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path
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

from liptwitch import settings, vocabulary
from liptwitch.core import safety_corpus, safety_net, triage
from liptwitch.core.answers import ASK_WARNING_SIGNS, RED_FLAG_INTENT_PREFIX, TOPIC_ENTITY
from liptwitch.core.composer import Composer, intent_from_reading
from liptwitch.core.knowledge_base import DEFAULT_DIRECTORY, load_knowledge_base
from liptwitch.core.limits import MAX_MESSAGE_CHARACTERS, accepted_part
from liptwitch.core.message_reader import MessageReader
from liptwitch.core.safety_net import SafetyNet
from liptwitch.core.text import PhraseMatcher, country_code
from liptwitch.rasa_server.patches import require_patches

logger = logging.getLogger(__name__)


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
                entities = [e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) != vocabulary.COUNTRY]
                entities.append({ENTITY_ATTRIBUTE_TYPE: vocabulary.COUNTRY, ENTITY_ATTRIBUTE_VALUE: code,
                                 "start": 0, "end": 0, "extractor": self.__class__.__name__})
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
class MessageReaderRouter(_RulesComponent):
    """Reads the whole message (liptwitch/core/message_reader.py) and, when it is a post to answer as a whole
    (several questions, a fear, context, a topic the articles do not cover, a question the model could not place),
    sets the intent ask_questions; a message that only describes twitching is never small talk. The model's own
    intent stays in the ranking. Placed before RedFlagClassifier, which still reads every message and outranks it.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"knowledge_base": None}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        kb = load_knowledge_base(config.get("knowledge_base") or DEFAULT_DIRECTORY)
        self.reader = MessageReader(kb)
        self.composer = Composer(kb)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):  # a button's payload says its intent itself
                continue
            model_intent = message.get(INTENT) or {}
            name = intent_from_reading(self.reader.read(text), text, str(model_intent.get(INTENT_NAME_KEY, "")),
                                       self.composer)
            if name:
                intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent, *(message.get(INTENT_RANKING_KEY) or [])],
                            add_to_output=True)
        return messages


@cache
def _red_flag_detector(directory: str) -> Any:
    """One detector per knowledge base, shared by the components below (spaCy and medspaCy load once)."""
    from liptwitch.core.red_flags import RedFlagDetector

    return RedFlagDetector(load_knowledge_base(directory))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LongMessageCap(_RulesComponent):
    """Caps how much of a message the NLU pipeline reads: the channels' own limit, again, for any way in.

    First in the pipeline. A long message costs every component time (a flood of them, a whole server). The
    channels already cut a message to limits.MAX_MESSAGE_CHARACTERS and tell the person (liptwitch/channels/);
    this holds for anything that reaches the pipeline another way (Rasa's HTTP API, `rasa shell`).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_characters": MAX_MESSAGE_CHARACTERS}

    def process(self, messages: list[Message]) -> list[Message]:
        limit = int(self.config.get("max_characters") or MAX_MESSAGE_CHARACTERS)
        for message in messages:
            text = message.get(TEXT) or ""
            if len(text) > limit:
                message.set(TEXT, accepted_part(text, limit), add_to_output=True)
                message.set("text_capped_from", len(text), add_to_output=True)
        return messages


SAFETY_NET_FILES = (settings.SAFETY_NET_DIRECTORY,)
UNCLEAR_SYMPTOM = vocabulary.UNCLEAR_SYMPTOM
SAFETY_QUESTION_ENTITY = vocabulary.SAFETY_QUESTION
# Replies that would be a confident wrong answer to a message describing a symptom (issue 16): such a
# message gets the safety-net question instead.
NEVER_FOR_SYMPTOMS = (*vocabulary.SMALL_TALK_INTENTS, vocabulary.ASK_SUMMARY, "nlu_fallback")
SYMPTOM_CONTENT_AT = 0.3  # the net's confidence in a sign, below which a message holds no symptom content


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RedFlagClassifier(GraphComponent):
    """Decides what a message means for safety; an escalation outranks any other intent.

    Placed last in the pipeline, after the fallback classifier, so that neither a low confidence nor
    anything the model thought can hide an emergency. Two nets read every message (liptwitch/core/triage.py):
    the red-flag detector's terms, then, when they find nothing, the learned safety net trained here on the
    generated corpus (liptwitch/core/safety_corpus.py). The message then carries:

    - `red_flag_<level>` and one `red_flag` entity per red-flag id (they fill the `red_flags` slot) when
      either net is sure;
    - `unclear_symptom` and a `safety_question` entity when a change is described that neither can place,
      or when the model's intent would be small talk for a message with symptom content: the safety-net
      question comes first;
    - otherwise the model's intent (red_flag_* guesses demoted: the nets decide those).

    The full reading is kept under `red_flag_assessment`, and the model's intent under `model_intent`.
    """

    INTENT_PREFIX = RED_FLAG_INTENT_PREFIX
    ENTITY = vocabulary.RED_FLAG

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"knowledge_base": None, "corpus": None, "escalate_at": triage.ESCALATE_AT, "ask_at": triage.ASK_AT}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 net: SafetyNet | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.directory = str(self.config.get("knowledge_base") or DEFAULT_DIRECTORY)
        self.kb = load_knowledge_base(self.directory)
        self.detector = _red_flag_detector(self.directory)
        self.net = net

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> RedFlagClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The corpus is read from files, not from Rasa's training data: a change to them retrains the net."""
        digest = hashlib.sha256()
        directories = [Path(config.get("corpus") or SAFETY_NET_FILES[0]),
                       Path(config.get("knowledge_base") or DEFAULT_DIRECTORY)]
        sources = [Path(module.__file__) for module in (safety_corpus, safety_net)]
        for path in sorted(p for d in directories for p in d.glob("*.yml")) + sources:
            digest.update(path.name.encode() + path.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        spec = safety_corpus.load_spec(self.config.get("corpus") or SAFETY_NET_FILES[0], self.kb)
        # The NLU examples are questions and small talk: harmless, unless the detector says otherwise.
        harmless = [example.get(TEXT) for example in training_data.intent_examples
                    if not str(example.get(INTENT)).startswith(self.INTENT_PREFIX)
                    and not self.detector.assess(example.get(TEXT)).level]
        examples = safety_corpus.generate(spec, self.kb, harmless=harmless)
        self.net = SafetyNet.train(examples, self.kb)
        with self._model_storage.write_to(self._resource) as directory:
            self.net.save(Path(directory))
        logger.info("Safety net trained on %d examples.", len(examples))
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> RedFlagClassifier:
        # Loading a trained model is serving it: the patches that keep typed commands out of the red-flag checks
        # must be in place (training creates the component, it does not load it).
        require_patches()
        try:
            with model_storage.read_from(resource) as directory:
                net = SafetyNet.load(Path(directory))
        except ValueError:
            logger.warning("RedFlagClassifier: no trained safety net in the model; train it again. "
                           "Until then only the red-flag terms are read.")
            net = None
        return cls(config, model_storage, resource, net)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._classify(message)
        return messages

    def decide(self, text: str) -> tuple[Any, triage.Decision, float]:
        """The detector's assessment, the decision, and the net's strongest confidence in a sign."""
        assessment = self.detector.assess(text)
        readings = []
        if self.net is not None and assessment.level not in vocabulary.IMMEDIATE_LEVELS:
            clauses = triage.clauses_to_read(assessment)
            readings = list(zip(clauses, self.net.read_many([clause.text for clause in clauses]), strict=True))
        decision = triage.decide(assessment, readings, self.kb, float(self.config["escalate_at"]),
                                 float(self.config["ask_at"]))
        symptom = max((r.confidence for c, r in readings if r.red_flag and c.reporting), default=0.0)
        return assessment, decision, symptom

    def _classify(self, message: Message) -> None:
        assessment, decision, symptom = self.decide(message.get(TEXT) or "")
        message.set("red_flag_assessment", {
            "level": decision.level, "red_flags": list(decision.red_flags), "question": decision.question,
            "source": decision.source, "informational": decision.informational}, add_to_output=True)
        # The model's own red_flag_* guesses never count: only the nets decide those.
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                   if not str(r.get(INTENT_NAME_KEY, "")).startswith(self.INTENT_PREFIX)
                   and r.get(INTENT_NAME_KEY) != UNCLEAR_SYMPTOM]
        model_intent = message.get(INTENT) or {}
        model_name = str(model_intent.get(INTENT_NAME_KEY, ""))
        if model_name.startswith(self.INTENT_PREFIX) or model_name == UNCLEAR_SYMPTOM:
            model_intent = ranking[0] if ranking else {INTENT_NAME_KEY: "nlu_fallback", PREDICTED_CONFIDENCE_KEY: 1.0}
        # Kept so that a routine escalation can still answer the question that came with it.
        message.set("model_intent", model_intent, add_to_output=True)
        question = decision.question
        if question is None and decision.level is None and symptom >= SYMPTOM_CONTENT_AT \
                and model_intent.get(INTENT_NAME_KEY) in NEVER_FOR_SYMPTOMS:
            strongest = max(decision.red_flags or (), default=None)
            question = (self.kb.question_for(strongest).id if strongest and self.kb.question_for(strongest)
                        else "fast")
        if decision.level or question:
            name = f"{self.INTENT_PREFIX}{decision.level}" if decision.level else UNCLEAR_SYMPTOM
            entities = [e for e in message.get(ENTITIES, [])
                        if e.get(ENTITY_ATTRIBUTE_TYPE) not in (self.ENTITY, SAFETY_QUESTION_ENTITY)]
            if decision.level:
                entities += [self._entity(self.ENTITY, red_flag) for red_flag in decision.red_flags]
            else:
                entities.append(self._entity(SAFETY_QUESTION_ENTITY, question))
            self._set_intent(message, name, ranking, entities)
        elif decision.informational and model_intent.get(INTENT_NAME_KEY) != vocabulary.ASK_QUESTIONS:
            # A question about a red flag ("what does facial droop mean?") gets the warning signs; a post the
            # message reader answers as a whole says what it needs to about them.
            self._set_intent(message, ASK_WARNING_SIGNS, ranking, message.get(ENTITIES, []))
        else:
            message.set(INTENT, model_intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _entity(self, entity_type: str, value: str) -> dict[str, Any]:
        return {ENTITY_ATTRIBUTE_TYPE: entity_type, ENTITY_ATTRIBUTE_VALUE: value, "start": 0, "end": 0,
                "extractor": self.__class__.__name__}

    @staticmethod
    def _set_intent(message: Message, name: str, ranking: list[dict[str, Any]], entities: list[dict[str, Any]]) -> None:
        intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        message.set(ENTITIES, entities, add_to_output=True)
