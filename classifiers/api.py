"""classify(texts) -> list[Classification], batch-first.

Each text is tokenised once; its raw tokens give the region, its features feed
every model head in one sparse matrix, so the sklearn calls are made once per
batch, not once per item.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from . import gazetteer as gaz
from . import model as model_mod
from . import severity, taxonomy, tokenize
from .result import Classification, Prediction

BATCH = 512


class Classifier:
    def __init__(
        self,
        model: model_mod.Model,
        tax: taxonomy.Taxonomy | None = None,
        gazetteer: gaz.Gazetteer | None = None,
    ) -> None:
        self.model = model
        self.tax = tax or taxonomy.default()
        self.gazetteer = gazetteer or gaz.default()

    def classify(self, texts: Sequence[str] | str) -> list[Classification]:
        if isinstance(texts, str):
            texts = [texts]
        out: list[Classification] = []
        for start in range(0, len(texts), BATCH):
            out.extend(self._batch(list(texts[start : start + BATCH])))
        return out

    def _batch(self, texts: list[str]) -> list[Classification]:
        raw = [tokenize.raw_tokens(t) for t in texts]
        X = self.model.transform([tokenize.features(r, self.model.subwords) for r in raw])
        probs = {name: self.model.proba(name, X) for name in self.model.heads}
        results = []
        for i, text in enumerate(texts):
            preds = {name: self._prediction(name, X, i, p[i]) for name, p in probs.items()}
            incident = preds["incident"]
            verdict = severity.assess(text, is_incident=incident.label != self.tax.no_incident, tax=self.tax)
            results.append(
                Classification(
                    topic=preds["topic"],
                    incident=incident,
                    severity=verdict,
                    region=self.gazetteer.match_tokens(raw[i]),
                    board=preds.get("board"),
                    model_version=self.model.version,
                )
            )
        return results

    def _prediction(self, head: str, X, row: int, p: np.ndarray) -> Prediction:
        classes = self.model.heads[head].classes
        first, second = np.argsort(-p)[:2]
        threshold = self.tax.low_confidence.get(head, 0.5)
        return Prediction(
            label=str(classes[first]),
            p=float(p[first]),
            runner_up=str(classes[second]),
            runner_up_p=float(p[second]),
            terms=self.model.explain(head, X, row, int(first)),
            low_confidence=bool(p[first] < threshold),
        )


_lock = threading.Lock()
_default: Classifier | None = None


def load(directory: Path = model_mod.MODELS_DIR) -> Classifier:
    return Classifier(model_mod.load(directory))


def load_default() -> Classifier:
    """The shipped model, loaded once per process."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                tokenize.get_tokenizer()
                _default = load()
    return _default


def classify(texts: Sequence[str] | str) -> list[Classification]:
    return load_default().classify(texts)
