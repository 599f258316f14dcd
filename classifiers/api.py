"""classify(texts) -> list[Classification], batch-first.

Each text is tokenised once; its raw tokens give the region, its features feed
every model head in one sparse matrix, so the sklearn calls are made once per
batch, not once per item.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

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
        return self.classify_with_tokens(texts)[0]

    def classify_with_tokens(
        self, texts: Sequence[str]
    ) -> tuple[list[Classification], list[list[str]]]:
        """As classify(), also returning each text's raw jieba tokens, so a caller that
        needs them too (event grouping) does not tokenise a second time."""
        out: list[Classification] = []
        tokens: list[list[str]] = []
        for start in range(0, len(texts), BATCH):
            raw = [tokenize.raw_tokens(t) for t in texts[start : start + BATCH]]
            out.extend(self._batch(list(texts[start : start + BATCH]), raw))
            tokens.extend(raw)
        return out, tokens

    def _batch(self, texts: list[str], raw: list[list[str]]) -> list[Classification]:
        X = self.model.encode(raw)
        scores = self.model.scores(X, [len(t) for t in texts])
        heads = {name: self._predictions(name, X, p, scores.gathered)
                 for name, p in scores.proba.items()}
        no_incident = self.tax.no_incident
        results = []
        for i, text in enumerate(texts):
            incident = heads["incident"][i]
            results.append(
                Classification(
                    topic=heads["topic"][i],
                    incident=incident,
                    severity=severity.assess(
                        text, is_incident=incident.label != no_incident, tax=self.tax
                    ),
                    region=self.gazetteer.match_tokens(raw[i]),
                    board=heads["board"][i] if "board" in heads else None,
                    model_version=self.model.version,
                )
            )
        return results

    def _predictions(self, head: str, X, p: np.ndarray, gathered: np.ndarray) -> list[Prediction]:
        """One head's predictions for a whole batch from its probabilities p: one sort."""
        classes = self.model.heads[head].classes.tolist()
        order = self.model.ranked(head, p)[:, :2]
        top_p = np.take_along_axis(p, order, axis=1).tolist()
        threshold = self.tax.low_confidence.get(head, 0.5)
        # The board class is a routing hint; its terms are not shown anywhere,
        # so they are not computed (saves a tenth of the per-item overhead).
        explain = head != "board"
        # No known term at all: the probabilities are only the class priors.
        unknown = (np.diff(X.indptr) == 0).tolist()
        terms = (self.model.explain_batch(head, X, order[:, 0], gathered=gathered) if explain
                 else [()] * len(top_p))
        out = []
        for row, ((first, second), (p1, p2)) in enumerate(zip(order.tolist(), top_p, strict=True)):
            out.append(
                Prediction(
                    label=classes[first],
                    p=p1,
                    runner_up=classes[second],
                    runner_up_p=p2,
                    terms=terms[row],
                    low_confidence=p1 < threshold or unknown[row],
                )
            )
        return out


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
