"""The trained model: TF-IDF features feeding calibrated linear heads.

Texts are tokenised once; the same sparse features feed every head (topic,
incident, and the message-board class). Each head is a LinearSVC wrapped in
CalibratedClassifierCV (sigmoid), so its probabilities mean something.
Explanations are per-item term contributions: tf-idf value times the SVM
weight of the predicted class.

The vectoriser is fitted by scikit-learn's TfidfVectorizer; the artifact keeps
only what it learnt (the terms and their idf) as plain arrays, and `Features`
applies them. Storing the fitted vectoriser itself made skops rebuild a
50,000-entry dict node by node (2.5 s per load); arrays load in milliseconds.
A test checks `Features` against TfidfVectorizer.transform.

Stored with skops: only the types listed in TRUSTED are loaded, and the file's
SHA-256 must match metadata.json, so a swapped file is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import skops.io as sio
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from . import tokenize

MODELS_DIR = Path(__file__).resolve().parent / "models"
ARTIFACT_NAME = "classifier.skops"
METADATA_NAME = "metadata.json"

# The non-builtin types the artifact may contain; anything else is refused.
TRUSTED = [
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.model_selection._split.StratifiedKFold",
    "numpy.float64",
    "numpy.int64",
]


class ArtifactError(RuntimeError):
    """The model file is missing, altered, or does not match its metadata."""


@dataclass
class TrainConfig:
    C: float = 1.0  # chosen by `--select`
    min_df: int = 2
    max_df: float = 0.5
    max_features: int | None = 200_000
    calibration_folds: int = 3
    seed: int = 13
    heads: tuple[str, ...] = ("topic", "incident", "board")
    # False: one SVM on all rows, calibrated on cross-validated scores; a third
    # of the size of an ensemble of per-fold SVMs, for about the same quality.
    ensemble: bool = False
    class_weight: str | None = "balanced"
    subwords: bool = True  # see tokenize.features; chosen by `--select`


@dataclass
class Head:
    name: str
    clf: CalibratedClassifierCV
    classes: np.ndarray = field(init=False)
    coef: np.ndarray = field(init=False)  # (n_classes, n_features), for explanations

    def __post_init__(self) -> None:
        self.classes = self.clf.classes_
        coefs = [cc.estimator.coef_ for cc in self.clf.calibrated_classifiers_]
        coef = np.mean(coefs, axis=0)
        if coef.shape[0] == 1:  # binary heads keep one row; make it two
            coef = np.vstack([-coef[0], coef[0]])
        self.coef = coef


def fit_head(name: str, X: sparse.csr_matrix, y: list[str], cfg: TrainConfig) -> Head:
    svm = LinearSVC(C=cfg.C, class_weight=cfg.class_weight, random_state=cfg.seed)
    clf = CalibratedClassifierCV(
        svm, method="sigmoid", cv=cfg.calibration_folds, ensemble=cfg.ensemble
    )
    clf.fit(X, y)
    return Head(name, clf)


def make_vectorizer(cfg: TrainConfig) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=tokenize.passthrough,
        min_df=cfg.min_df,
        max_df=cfg.max_df,
        max_features=cfg.max_features,
        sublinear_tf=True,
        norm="l2",
        dtype=np.float32,
    )


class Features:
    """TF-IDF of feature lists with a fitted vocabulary: sublinear tf, idf, l2.

    Same numbers as the TfidfVectorizer it came from, without its per-feature
    try/except (most bigrams are out of vocabulary, and exceptions are slow).
    """

    def __init__(self, terms: np.ndarray, idf: np.ndarray) -> None:
        self.terms = terms
        self.idf = idf.astype(np.float32)
        self.vocab = {str(t): i for i, t in enumerate(terms)}

    @classmethod
    def from_vectorizer(cls, vec: TfidfVectorizer) -> Features:
        return cls(vec.get_feature_names_out().astype(str), vec.idf_)

    def transform(self, docs: list[list[str]]) -> sparse.csr_matrix:
        get = self.vocab.get
        indptr = [0]
        indices: list[int] = []
        counts: list[int] = []
        for doc in docs:
            c = Counter([i for i in map(get, doc) if i is not None])
            indices.extend(c.keys())
            counts.extend(c.values())
            indptr.append(len(indices))
        idx = np.asarray(indices, dtype=np.int32)
        data = (np.log(np.asarray(counts, dtype=np.float32)) + 1.0) * self.idf[idx]
        ptr = np.asarray(indptr, dtype=np.int32)
        lengths = np.diff(ptr)
        sq = np.zeros(len(docs), dtype=np.float32)
        full = lengths > 0
        if full.any():
            sq[full] = np.add.reduceat(data * data, ptr[:-1][full])
        norms = np.sqrt(sq)
        norms[norms == 0] = 1.0
        data /= np.repeat(norms, lengths)
        X = sparse.csr_matrix((data, idx, ptr), shape=(len(docs), len(self.terms)))
        X.sort_indices()
        return X


class Model:
    def __init__(
        self, features: Features, heads: dict[str, Head], version: str, subwords: bool = False
    ) -> None:
        self.features = features
        self.heads = heads
        self.version = version
        self.subwords = subwords  # featurisation must match training
        # readable forms for explanations: "a_b" bigram -> "a b", "#xy" subword -> "…xy…"
        self.terms = np.array(
            [
                t.replace("_", " ") if not t.startswith("#") else f"…{t[1:]}…"
                for t in features.terms
            ],
            dtype=object,
        )
        self.is_subword = np.char.startswith(features.terms.astype(str), "#")

    def transform(self, docs: list[list[str]]) -> sparse.csr_matrix:
        return self.features.transform(docs)

    def proba(self, head: str, X: sparse.csr_matrix) -> np.ndarray:
        return self.heads[head].clf.predict_proba(X)

    def explain(
        self, head: str, X: sparse.csr_matrix, row: int, cls: int, k: int = 4
    ) -> tuple[tuple[str, float], ...]:
        """The terms that pushed row `row` towards class index `cls`."""
        return self.explain_batch(head, X[row], np.array([cls]), k)[0]

    def explain_batch(
        self, head: str, X: sparse.csr_matrix, classes: np.ndarray, k: int = 4
    ) -> list[tuple[tuple[str, float], ...]]:
        """explain() for every row at once: one gather and one sort per batch,
        instead of a handful of numpy calls per item."""
        n = X.shape[0]
        lengths = np.diff(X.indptr)
        rows = np.repeat(np.arange(n), lengths)
        contrib = X.data * self.heads[head].coef[np.repeat(classes, lengths), X.indices]
        keep = contrib > 0
        rows, idx, contrib = rows[keep], X.indices[keep], contrib[keep]
        # One sort key: row, then whole words and bigrams before subwords ("…保部…"
        # is evidence too, but a duty officer reads 环保部门), then strongest first.
        # Contributions are tf-idf (≤ 1) times an SVM weight, far below 16.
        key = rows * 64.0 + self.is_subword[idx] * 32.0 - np.minimum(contrib, 16.0)
        order = np.argsort(key)
        starts = np.searchsorted(rows[order], np.arange(n + 1))
        # the first k of each row, gathered at once; only those become Python objects
        cand = starts[:-1, None] + np.arange(k)[None, :]
        valid = cand < starts[1:, None]
        picked = order[cand[valid]]
        terms = self.terms[idx[picked]].tolist()
        weights = contrib[picked].tolist()
        ends = np.cumsum(valid.sum(axis=1)).tolist()
        out, a = [], 0
        for b in ends:
            out.append(tuple(zip(terms[a:b], weights[a:b], strict=True)))
            a = b
        return out

    # -- persistence -----------------------------------------------------
    def save(self, directory: Path, metadata: dict) -> dict:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / ARTIFACT_NAME
        payload = {
            "terms": self.features.terms,
            "idf": self.features.idf,
            "heads": {n: h.clf for n, h in self.heads.items()},
        }
        sio.dump(payload, path, compression=8, compresslevel=9)  # 8 = ZIP_DEFLATED
        metadata = dict(
            metadata, version=self.version, artifact=ARTIFACT_NAME, sha256=sha256_of(path)
        )
        metadata["size_bytes"] = path.stat().st_size
        (directory / METADATA_NAME).write_text(
            json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return metadata


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_metadata(directory: Path = MODELS_DIR) -> dict:
    path = directory / METADATA_NAME
    if not path.exists():
        raise ArtifactError(f"no {METADATA_NAME} in {directory}: run `monitor train` first")
    return json.loads(path.read_text(encoding="utf-8"))


def load(directory: Path = MODELS_DIR) -> Model:
    meta = read_metadata(directory)
    path = directory / meta["artifact"]
    if not path.exists():
        raise ArtifactError(f"model file {path} is missing")
    digest = sha256_of(path)
    if digest != meta["sha256"]:
        raise ArtifactError(
            f"{path} has SHA-256 {digest[:12]}…, metadata says {meta['sha256'][:12]}…; "
            "refusing to load"
        )
    payload = sio.load(path, trusted=TRUSTED)
    heads = {name: Head(name, clf) for name, clf in payload["heads"].items()}
    features = Features(payload["terms"], payload["idf"])
    return Model(
        features,
        heads,
        meta["version"],
        subwords=bool(meta.get("config", {}).get("subwords", False)),
    )
