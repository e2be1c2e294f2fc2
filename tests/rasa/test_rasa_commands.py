"""Rasa's own checks on the data and the trained model: validation, test stories, NLU test set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, report

pytestmark = pytest.mark.rasa

# Rasa's command line through the project's entry point, which applies its patches first, as `make` does.
RASA = [sys.executable, "-m", "liptwitch.rasa_server"]
MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"
TRAINING_DATA = ["data/nlu", "data/rules", "data/stories", "build/nlu/knowledge_base.yml"]
INTENT_ACCURACY_TARGET = 0.95
ENTITY_F1_TARGET = 0.90


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([*RASA, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
    return result


@pytest.fixture(scope="module")
def model():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (or `make test`, which trains first)")
    return str(MODEL)


def test_training_data_is_valid_without_warnings():
    result = rasa("data", "validate", "--data", *TRAINING_DATA, "--domain", "domain.yml",
                  "--config", "config.yml", "--fail-on-warnings")
    assert result.returncode == 0, "rasa data validate found problems (see the output above)"


def test_test_stories_are_followed_without_prediction_errors(model, tmp_path):
    result = rasa("test", "core", "--model", model, "--stories", "tests/stories",
                  "--out", str(tmp_path), "--fail-on-prediction-errors")
    assert result.returncode == 0, "a test story was not followed (see the output above)"


def test_nlu_test_set_meets_accuracy_targets(model):
    out = REPO / "results" / "nlu"
    result = rasa("test", "nlu", "--model", model, "--nlu", "tests/nlu/test_nlu.yml", "--out", str(out))
    assert result.returncode == 0
    intents = json.loads((out / "intent_report.json").read_text())
    entities = json.loads((out / "DIETClassifier_report.json").read_text())
    accuracy = intents["accuracy"]
    entity_f1 = entities["weighted avg"]["f1-score"]
    examples = intents["weighted avg"]["support"]
    report(f"NLU test set ({examples} phrasings not in the training data): intent accuracy "
           f"{accuracy:.3f} (target {INTENT_ACCURACY_TARGET}), entity F1 {entity_f1:.3f} "
           f"(target {ENTITY_F1_TARGET}); details in results/nlu/")
    assert examples >= 150
    assert accuracy >= INTENT_ACCURACY_TARGET, f"intent accuracy {accuracy:.3f}; see results/nlu/intent_errors.json"
    assert entity_f1 >= ENTITY_F1_TARGET, f"entity F1 {entity_f1:.3f}; see results/nlu/DIETClassifier_errors.json"
