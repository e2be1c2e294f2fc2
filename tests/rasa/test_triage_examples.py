"""Every red-flag example in the clinical specification (shared/clinical/TRIAGE.md), given to the trained
assistant's NLU pipeline as it runs in the Rasa server (with the speed patches), is taken as a red flag at its row's
level: the intent `red_flag_<level>`, which the rules answer with that level's advice, and the row's id."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.agent import Agent

from tests.helpers import REPO, triage_rows

pytestmark = pytest.mark.rasa

MODEL = REPO / "models" / "lip-twitch-guide.tar.gz"


def test_every_triage_example_escalates_at_its_level_through_the_trained_pipeline():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (or `make test`, which trains first)")
    agent = Agent.load(str(MODEL))
    examples = [(flag_id, level, example) for flag_id, level, row_examples in triage_rows()
                for example in row_examples]

    async def parse_all() -> list[dict]:
        return [await agent.parse_message(example) for _flag_id, _level, example in examples]

    wrong = []
    for (flag_id, level, example), parsed in zip(examples, asyncio.run(parse_all()), strict=True):
        found = [entity["value"] for entity in parsed["entities"] if entity["entity"] == "red_flag"]
        if parsed["intent"]["name"] != f"red_flag_{level}" or flag_id not in found:
            wrong.append((flag_id, level, example, parsed["intent"]["name"], found))
    assert len({flag_id for flag_id, _level, _example in examples}) == 22 and len(examples) >= 43
    assert not wrong
