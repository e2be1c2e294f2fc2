"""Builds the project's own English spaCy pipeline, with no model download.

Official spaCy models come from GitHub, which is out of reach here and on many production hosts.
The pipeline is a blank English tokenizer plus a lookup lemmatizer whose tables come from the
`spacy-lookups-data` package (installed from PyPI), so "twitching" and "twitches" share "twitch".

    python -m liptwitch.tools.spacy_pipeline build/spacy/en_liptwitch
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import spacy
from spacy.language import Language

from liptwitch import settings

DEFAULT_PATH = settings.SPACY_PIPELINE
# English words common enough never to be a typo (spacy-lookups-data's word probabilities): the red-flag
# detector never "corrects" them ("conscious" must not become "unconscious"). Rarer forms, where most typos
# are ("speach", "siezure"), may be corrected.
COMMON_WORD_LOG_PROBABILITY = -14.5


def build_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # reads the lookup tables from spacy-lookups-data
    nlp.meta["name"] = "liptwitch"
    nlp.meta["description"] = "Blank English tokenizer and lookup lemmatizer for the lip-twitching assistant"
    return nlp


def common_words() -> list[str]:
    import spacy_lookups_data

    table = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    with gzip.open(table, "rt", encoding="utf-8") as file:
        probabilities = json.load(file)
    return sorted(word for word, log_probability in probabilities.items()
                  if log_probability >= COMMON_WORD_LOG_PROBABILITY and word.isalpha() and word.islower())


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else DEFAULT_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    build_pipeline().to_disk(target)
    (target / settings.COMMON_WORDS_FILE).write_text("\n".join(common_words()) + "\n", encoding="utf-8")
    print(f"spaCy pipeline written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
