"""The trained model loaded for prediction only (liptwitch.rasa_patches: no training step at load, about 20 s less
start-up and 450 MB less memory) understands every message exactly as Rasa's own load does."""

from __future__ import annotations

import asyncio
import re

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

import liptwitch.rasa_components  # noqa: F401  (applies the patches, as loading the model does)
from tests.helpers import REPO

pytestmark = pytest.mark.rasa

MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"


def nlu_test_set_messages() -> list[str]:
    annotated = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
    data = yaml.safe_load((REPO / "tests" / "nlu" / "test_nlu.yml").read_text())
    return [annotated.sub(lambda m: m.group(1) or m.group(2), line.strip()[2:])
            for block in data["nlu"] for line in block["examples"].splitlines() if line.strip()]


def understood(agent: Agent, messages: list[str]) -> list[dict]:
    async def parse_all() -> list[dict]:
        return [await agent.parse_message(message) for message in messages]
    return asyncio.run(parse_all())


def test_the_model_loaded_for_prediction_understands_exactly_as_rasas_own_load(monkeypatch):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (or `make test`, which trains first)")
    messages = nlu_test_set_messages()
    assert len(messages) > 150
    ours = understood(Agent.load(str(MODEL)), messages)
    assert getattr(RasaModel.load.__func__, "_for_prediction", False)  # the patched load was used
    monkeypatch.setattr(RasaModel, "load", classmethod(RasaModel.load.__func__.rasas))
    rasas = understood(Agent.load(str(MODEL)), messages)
    for mine, theirs in zip(ours, rasas, strict=True):
        assert mine == theirs  # intents, confidences, rankings, entities: all the same
