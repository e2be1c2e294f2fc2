"""The safety net: a learned classifier that recognises red-flag concepts in words no term list names.

The red-flag detector (liptwitch/core/red_flags.py) is precise on what its terms name, and reads context well
(denials, questions, third person, "gone now"). This net is the second, learned line: a linear model over
word and character n-grams, trained on the generated corpus (liptwitch/core/safety_corpus.py), which reads
"my mouth went slack" as a face sign although no term says "slack". It answers with the most likely
red-flag row, its level and how sure it is; liptwitch/core/triage.py decides what to do with that.

Pure Python with scikit-learn (which Rasa installs); the Rasa component that trains and loads it is
liptwitch.rasa_server.components.SafetyNetReader.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from liptwitch.core.knowledge_base import KnowledgeBase
from liptwitch.core.safety_corpus import HARMLESS, Example
from liptwitch.vocabulary import TRIAGE_LEVELS

LEVEL_ORDER = TRIAGE_LEVELS
_FILES = ("safety_net.json", "safety_net.npz")


@dataclass(frozen=True)
class NetReading:
    """What the net makes of a message: the likeliest red-flag row (None: harmless) and how sure it is."""

    red_flag: str | None
    level: str | None
    confidence: float  # the probability of `red_flag`'s level (all its rows together)
    harmless: float  # the probability that the message is harmless


def _prepare(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


WORD_PATTERN = r"[a-z0-9']+"
WORD_CACHE_SIZE = 50_000  # words whose character n-grams are kept (a bound, for a server that runs for months)
CHARACTER_NGRAMS = (2, 5)


def _vectorizer() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=WORD_PATTERN)),
        ("characters", TfidfVectorizer(analyzer="char_wb", ngram_range=CHARACTER_NGRAMS, min_df=3, sublinear_tf=True,
                                       max_features=120_000)),
    ])


class SafetyNet:
    """Reads messages with the trained model's vocabularies, weights and coefficients.

    Training uses scikit-learn; reading does the same arithmetic directly (n-grams looked up in the
    vocabularies, sublinear tf-idf, each part scaled to unit length, one product with the coefficients),
    which is many times faster for one short message than scikit-learn's vectorizers.
    """

    def __init__(self, vocabularies: dict[str, dict[str, int]], idf: dict[str, np.ndarray], labels: Sequence[str],
                 coefficients: np.ndarray, intercepts: np.ndarray, levels: dict[str, str]) -> None:
        self._vocabularies = vocabularies  # "words" / "characters": n-gram -> feature index within that part
        self._idf = idf
        self._offset = len(vocabularies["words"])  # character features come after the word features
        self.labels = tuple(labels)
        self._coefficients = coefficients  # (features, labels)
        self._intercepts = intercepts
        self.levels = levels  # red-flag id -> level
        self._word_cache: dict[str, Counter[int]] = {}

    # --- training ------------------------------------------------------------------------------

    @classmethod
    def train(cls, examples: Sequence[Example], kb: KnowledgeBase, regularisation: float = 4.0) -> SafetyNet:
        texts = [_prepare(example.text) for example in examples]
        vectorizer = _vectorizer()
        features = vectorizer.fit_transform(texts)
        labels = [example.label for example in examples]
        # Harmless messages weigh as much, all together, as every red flag together: the net should need
        # evidence of a sign, not merely the absence of ordinary words.
        harmless = sum(label == HARMLESS for label in labels)
        weight = (len(labels) - harmless) / max(harmless, 1)
        # saga reaches the same model as lbfgs here in half the time (bench/RESULTS.md, "Safety: two nets").
        model = LogisticRegression(C=regularisation, solver="saga", max_iter=100, tol=1e-3, random_state=0)
        model.fit(features, labels, sample_weight=[weight if label == HARMLESS else 1.0 for label in labels])
        parts = dict(vectorizer.transformer_list)
        return cls({name: {k: int(v) for k, v in part.vocabulary_.items()} for name, part in parts.items()},
                   {name: part.idf_.astype(np.float64) for name, part in parts.items()},
                   [str(label) for label in model.classes_], np.ascontiguousarray(model.coef_.T, dtype=np.float32),
                   model.intercept_.astype(np.float32), {flag.id: flag.level for flag in kb.red_flags.values()})

    # --- reading -------------------------------------------------------------------------------

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's feature indices and values, as the trained vectorizers would give them."""
        text = _prepare(text)
        indices: list[int] = []
        values: list[float] = []
        words = Counter(index for gram in _word_ngrams(text)
                        if (index := self._vocabularies["words"].get(gram)) is not None)
        characters: Counter[int] = Counter()
        for word in text.split():
            characters.update(self._character_counts(word))
        for name, counts, offset in (("words", words, 0), ("characters", characters, self._offset)):
            if not counts:
                continue
            part_indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
            part_values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))))
            part_values *= self._idf[name][part_indices]
            part_values /= np.sqrt(np.dot(part_values, part_values))
            indices.extend((part_indices + offset).tolist())
            values.extend(part_values.tolist())
        return np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=np.float32)

    def _character_counts(self, word: str) -> Counter[int]:
        """A word's character n-grams as feature counts, worked out once: a message's clauses, windows and
        whole text share their words."""
        counts = self._word_cache.get(word)
        if counts is None:
            vocabulary = self._vocabularies["characters"]
            counts = Counter(index for gram in _character_ngrams(word) if (index := vocabulary.get(gram)) is not None)
            if len(self._word_cache) < WORD_CACHE_SIZE:
                self._word_cache[word] = counts
        return counts

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text, the probability of each label."""
        results = []
        for text in texts:
            indices, values = self.features(text)
            scores = values @ self._coefficients[indices] + self._intercepts if len(indices) else self._intercepts * 1
            scores = np.exp(scores - scores.max())
            results.append(dict(zip(self.labels, (scores / scores.sum()).tolist(), strict=True)))
        return results

    def read(self, text: str) -> NetReading:
        return self.read_many([text])[0]

    def read_many(self, texts: Sequence[str]) -> list[NetReading]:
        return [self._reading(probabilities) for probabilities in self.probabilities(texts)]

    def _reading(self, probabilities: dict[str, float]) -> NetReading:
        by_level: dict[str, float] = {}
        for label, probability in probabilities.items():
            if label != HARMLESS:
                by_level[self.levels[label]] = by_level.get(self.levels[label], 0.0) + probability
        harmless = probabilities.get(HARMLESS, 0.0)
        level = max(by_level, key=lambda name: (by_level[name], -LEVEL_ORDER.index(name)))
        if by_level[level] <= harmless:
            return NetReading(red_flag=None, level=None, confidence=harmless, harmless=harmless)
        red_flag = max((label for label in probabilities if label != HARMLESS and self.levels[label] == level),
                       key=probabilities.__getitem__)
        return NetReading(red_flag=red_flag, level=level, confidence=by_level[level], harmless=harmless)

    # --- files ---------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"labels": list(self.labels), "levels": self.levels, "vocabularies": self._vocabularies}
        (directory / _FILES[0]).write_text(json.dumps(meta), encoding="utf-8")
        np.savez_compressed(directory / _FILES[1], coefficients=self._coefficients, intercepts=self._intercepts,
                            words_idf=self._idf["words"], characters_idf=self._idf["characters"])

    @classmethod
    def load(cls, directory: Path) -> SafetyNet:
        meta = json.loads((directory / _FILES[0]).read_text(encoding="utf-8"))
        arrays = np.load(directory / _FILES[1])
        return cls(meta["vocabularies"], {name: arrays[f"{name}_idf"] for name in ("words", "characters")},
                   meta["labels"], arrays["coefficients"], arrays["intercepts"], meta["levels"])


# The vectorizers' own analyzers, written out so that reading needs no vectorizer: scikit-learn's
# `token_pattern` words and their pairs, and `char_wb` n-grams of each word padded with a space.
_TOKEN = re.compile(WORD_PATTERN)


def _word_ngrams(text: str) -> list[str]:
    words = _TOKEN.findall(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]  # noqa: B905 - one shorter on purpose


def _character_ngrams(text: str) -> list[str]:
    grams = []
    for word in text.split():
        padded = f" {word} "
        for n in range(CHARACTER_NGRAMS[0], CHARACTER_NGRAMS[1] + 1):
            if len(padded) <= n:
                grams.append(padded)  # a word no longer than n counts once, as scikit-learn does
                break
            grams.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return grams
