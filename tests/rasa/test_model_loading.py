"""The trained model loaded for prediction only, called through its traced graph directly, its sparse features
joined directly (liptwitch/rasa_server/patches/graph.py: no training step at load, no signature matching and no
general block stacking at each message) understands every message exactly as Rasa's own load, prediction and joining
do."""

from __future__ import annotations

import asyncio
import re

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.features import Features
from rasa.utils.tensorflow.models import RasaModel

from liptwitch.rasa_server.patches import graph
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
    direct_calls = []
    traced_graph = graph.traced_graph
    monkeypatch.setattr(graph, "traced_graph", lambda traced: direct_calls.append(1) or traced_graph(traced))
    ours = understood(Agent.load(str(MODEL)), messages)
    assert getattr(RasaModel.load.__func__, "patched", False)  # the patched load was used
    assert len(direct_calls) >= len(messages)  # and every message went through the traced graph directly
    monkeypatch.setattr(RasaModel, "load", classmethod(RasaModel.load.__func__.rasas))
    monkeypatch.setattr(RasaModel, "_rasa_predict", RasaModel._rasa_predict.rasas)
    monkeypatch.setattr(Features, "_combine_sparse_features", Features._combine_sparse_features.rasas)
    rasas = understood(Agent.load(str(MODEL)), messages)
    for mine, theirs in zip(ours, rasas, strict=True):
        assert mine == theirs  # intents, confidences, rankings, entities: all the same
