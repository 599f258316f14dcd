"""The trained model: TF-IDF features feeding calibrated linear heads.

Texts are tokenised once; the same sparse features feed every head (topic,
incident, and the message-board class). Each head is a LinearSVC wrapped in
CalibratedClassifierCV (sigmoid), so its probabilities mean something.
Explanations are per-item term contributions: tf-idf value times the SVM
weight of the predicted class.

scikit-learn trains; it is not needed to serve. The artifact keeps only what was learnt,
as plain arrays in one NumPy `.npz` (loaded with `allow_pickle=False`, so it can hold no
code): the vocabulary and idf (`Features` applies them like the TfidfVectorizer they came
from), and per head the SVM weights and intercepts with each class's sigmoid calibration
(`Head.proba` computes what CalibratedClassifierCV.predict_proba does; a test checks it).
Loading skops pulled in all of scikit-learn and SciPy's statistics: 2.5 s before the
first item; the arrays load in a fraction of that. The file's SHA-256 must match
metadata.json, so a swapped file is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from . import tokenize
from .encode import Encoder, Rows

MODELS_DIR = Path(__file__).resolve().parent / "models"
ARTIFACT_NAME = "classifier.npz"
METADATA_NAME = "metadata.json"
HEAD_ARRAYS = ("classes", "coefs", "intercepts", "cal_a", "cal_b")


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
    heads: tuple[str, ...] = ("topic", "incident", "board", "title")
    # False: one SVM on all rows, calibrated on cross-validated scores; a third
    # of the size of an ensemble of per-fold SVMs, for about the same quality.
    ensemble: bool = False
    class_weight: str | None = "balanced"
    subwords: bool = True  # see tokenize.features; chosen by `--select`
    opening: int = 60  # character n-grams of the opening (tokenize.features); by `--select`
    opening_grams: tuple[int, ...] = (1, 2, 3)  # their sizes; by `--select`
    foreign: int = 3  # the abroad marker's count per foreign place word (tokenize); by folds
    # The topic head calls a text 无关 only when P(无关) reaches a threshold, set on
    # validation folds of train+dev so that this share of the relevant news titles is kept
    # (recall); None: plain argmax.
    relevance_recall: float | None = 0.80
    # The "title" head: 无关 or not, learnt from short texts only (headlines; messages are long),
    # so the relevance of a headline is not learnt mostly from how citizens' messages read.
    # For a text of at most `title_chars` characters, P(无关) is the mix of the topic head's
    # and the title head's (`title_mix` of the latter); longer texts keep the topic head's.
    # Chosen on validation folds of train+dev.
    title_chars: int = 60
    title_mix: float = 0.3
    # The title head's own regularisation and class weights (None: the shared C and
    # class_weight); tried by `--select`.
    title_C: float | None = None
    title_class_weight: str | None = "same"
    # "svm": calibrated LinearSVC like every head; "lr": a logistic regression, whose own
    # probabilities need no calibration (stored as a sigmoid with a = -1, b = 0).
    title_model: str = "svm"
    # The title head learns on features scaled by how unevenly they fall on 无关 and relevant
    # short texts (naive Bayes log-count ratio with this smoothing, NBSVM); None: plain
    # TF-IDF. Chosen on validation folds (precision of "relevant" at 0.80 recall).
    title_nb: float | None = 1.0
    linear_model: str = "svm"  # set per head by train._head_config
    nb_alpha: float | None = None  # set per head by train._head_config


@dataclass(frozen=True)
class Scores:
    proba: dict[str, np.ndarray]  # head -> (rows, classes)
    gathered: np.ndarray  # (nnz, all heads' columns): each feature's weights, in row order


@dataclass
class Head:
    """One calibrated linear head as arrays: for each calibrated classifier m (one unless
    trained as an ensemble), decision d = X·coef[m]ᵀ + intercept[m], calibrated per class as
    1 / (1 + exp(a·d + b)), normalised across classes (binary: the positive class's column)."""

    name: str
    classes: np.ndarray  # (k,) labels
    coefs: np.ndarray  # (m, k', n) float32; k' = 1 for a binary head
    intercepts: np.ndarray  # (m, k')
    cal_a: np.ndarray  # (m, k')
    cal_b: np.ndarray  # (m, k')

    @cached_property
    def coef(self) -> np.ndarray:
        """(k, n) weights for explanations: the mean over m, a binary head's row as two."""
        coef = self.coefs.mean(axis=0)
        return np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef

    @property
    def width(self) -> int:
        """Columns of decision values: k' per calibrated classifier."""
        return self.coefs.shape[0] * self.coefs.shape[1]

    def weights_t(self) -> np.ndarray:
        """(n, width): every calibrated classifier's weights as columns, side by side."""
        return np.concatenate([c.T for c in self.coefs], axis=1)

    def proba(self, X) -> np.ndarray:
        """X: encode.Rows or a SciPy CSR matrix."""
        rows = X if isinstance(X, Rows) else Rows(X.data, X.indices, X.indptr, X.shape)
        return self.proba_of_decisions(rows.dot(self.weights_t()))

    def proba_of_decisions(self, raw: np.ndarray) -> np.ndarray:
        """Probabilities from X·weights_t() (intercepts not yet added)."""
        k = self.coefs.shape[1]
        return np.mean([self._one(raw[:, m * k : (m + 1) * k], m)
                        for m in range(len(self.coefs))], axis=0)

    def predict(self, X) -> np.ndarray:
        return self.classes[np.argmax(self.proba(X), axis=1)]

    def _one(self, raw: np.ndarray, m: int) -> np.ndarray:
        d = raw + self.intercepts[m]
        p = 1.0 / (1.0 + np.exp(self.cal_a[m] * d + self.cal_b[m]))
        if len(self.classes) == 2:
            return np.column_stack([1.0 - p[:, 0], p[:, 0]])
        total = p.sum(axis=1, keepdims=True)
        uniform = np.full_like(p, 1.0 / len(self.classes))
        return np.divide(p, total, out=uniform, where=total != 0)

    @classmethod
    def from_calibrated(cls, name: str, clf) -> Head:
        """The arrays of a fitted CalibratedClassifierCV(LinearSVC, method="sigmoid")."""
        parts = clf.calibrated_classifiers_
        return cls(name, np.asarray(clf.classes_).astype(str),
                   np.stack([c.estimator.coef_ for c in parts]).astype(np.float32),
                   np.stack([c.estimator.intercept_ for c in parts]),
                   np.stack([[k.a_ for k in c.calibrators] for c in parts]),
                   np.stack([[k.b_ for k in c.calibrators] for c in parts]))


def fit_head(name: str, X, y: list[str], cfg: TrainConfig) -> Head:
    if cfg.nb_alpha is not None:
        return _fit_nb_scaled(name, X, y, cfg)
    return _fit_linear(name, X, y, cfg)


def nb_ratio(X, positive: np.ndarray, alpha: float) -> np.ndarray:
    """Per feature, |log| of the ratio of its share among the positive rows' present features
    to its share among the others' (naive Bayes log-count ratio, presence counted, smoothed by
    alpha): near 0 for a feature both classes use alike."""
    present = (X > 0).astype(np.float64)
    p = alpha + np.asarray(present[positive].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
    return np.abs(np.log(p / p.sum()) - np.log(q / q.sum()))


def _fit_nb_scaled(name: str, X, y: list[str], cfg: TrainConfig) -> Head:
    """A binary head learnt on X scaled feature by feature by nb_ratio (NBSVM). The scaling
    is folded into the stored weights (w·(r ⊙ x) = (w ⊙ r)·x), so serving is unchanged."""
    from scipy import sparse

    labels = np.asarray(y)
    if len(set(y)) != 2:
        raise ValueError(f"head {name}: NB scaling is for a binary head; got {len(set(y))}")
    r = nb_ratio(X, labels == sorted(set(y))[0], cfg.nb_alpha)
    head = _fit_linear(name, (X @ sparse.diags(r.astype(np.float32))).tocsr(), y, cfg)
    head.coefs = (head.coefs * r.astype(np.float32)).astype(np.float32)
    return head


def _fit_linear(name: str, X, y: list[str], cfg: TrainConfig) -> Head:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    if cfg.linear_model == "lr":
        return _fit_logistic(name, X, y, cfg)

    svm = LinearSVC(C=cfg.C, class_weight=cfg.class_weight, random_state=cfg.seed)
    clf = CalibratedClassifierCV(
        svm, method="sigmoid", cv=cfg.calibration_folds, ensemble=cfg.ensemble
    )
    clf.fit(X, y)
    return Head.from_calibrated(name, clf)


def _fit_logistic(name: str, X, y: list[str], cfg: TrainConfig) -> Head:
    """A binary logistic regression as a Head: its decision through the sigmoid is its
    probability, i.e. calibration a = -1, b = 0."""
    from sklearn.linear_model import LogisticRegression

    if len(set(y)) != 2:
        raise ValueError(f"head {name}: a logistic head is binary; got {len(set(y))} classes")

    lr = LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=2000,
                            solver="liblinear", random_state=cfg.seed)
    lr.fit(X, y)
    return Head(name, np.asarray(lr.classes_).astype(str), lr.coef_[None].astype(np.float32),
                lr.intercept_[None], -np.ones((1, 1)), np.zeros((1, 1)))


def make_vectorizer(cfg: TrainConfig):
    from sklearn.feature_extraction.text import TfidfVectorizer

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

    def __init__(self, terms: list[str], idf: np.ndarray) -> None:
        self.terms = list(terms)
        self.idf = idf.astype(np.float32)
        self.vocab = dict(zip(self.terms, range(len(self.terms)), strict=True))

    @classmethod
    def from_vectorizer(cls, vec) -> Features:
        return cls(vec.get_feature_names_out().astype(str).tolist(), vec.idf_)

    def transform(self, docs: list[list[str]]):
        """A SciPy CSR matrix of feature lists (training and tests; serving uses encode)."""
        from scipy import sparse

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
        self, features: Features, heads: dict[str, Head], version: str, subwords: bool = False,
        opening: int = 0, opening_grams: tuple[int, ...] = (2,),
        relevance: tuple[str, float] | None = None, foreign: int = 0,
        title: tuple[int, float] | None = None,
    ) -> None:
        self.features = features
        self.heads = heads
        self.version = version
        self.subwords = subwords  # featurisation must match training
        self.opening = opening
        self.opening_grams = tuple(opening_grams)
        self.foreign = foreign
        # (most characters, mix) of the title head's say in P(无关); None: no title head
        self.title = title if "title" in heads else None
        # (the irrelevant topic, threshold): the topic head decides that class only when its
        # probability reaches the threshold; None: the most probable class
        self.relevance = relevance
        self.encoder = Encoder(features.vocab, features.idf, subwords, opening, opening_grams,
                               foreign)

    @cached_property
    def terms(self) -> np.ndarray:
        """Readable forms for explanations: "a_b" bigram -> "a b", "#xy" subword and "%xy"
        opening bigram -> "…xy…". Built on first use (50,000 strings: not at load)."""
        return np.array(
            [f"…{t[1:]}…" if t[:1] in "#%" else t.replace("_", " ")
             for t in self.features.terms],
            dtype=object,
        )

    @cached_property
    def is_subword(self) -> np.ndarray:
        first = np.array([t[:1] for t in self.features.terms])
        return (first == "#") | (first == "%")

    def featurize(self, raw: list[list[str]]) -> list[list[str]]:
        """Feature lists of raw token lists, as the model was trained."""
        return [tokenize.features(r, self.subwords, self.opening, self.opening_grams,
                                  self.foreign) for r in raw]

    def transform(self, docs: list[list[str]]):
        """SciPy CSR rows of feature lists (training, evaluation and tests)."""
        return self.features.transform(docs)

    def encode(self, raw: list[list[str]]) -> Rows:
        """The same rows as transform(featurize(raw)), for serving (see encode.py)."""
        return self.encoder.encode(raw)

    def proba(self, head: str, X, lengths: list[int] | None = None) -> np.ndarray:
        """A head's probabilities; the topic head's with the title head's say in P(无关) for
        the short texts when their `lengths` (characters) are given."""
        p = self.heads[head].proba(X)
        if head == "topic" and lengths is not None and self.title is not None:
            return self.blend_title(p, self.heads["title"].proba(X), lengths)
        return p

    def blend_title(self, topic: np.ndarray, title: np.ndarray,
                    lengths: list[int]) -> np.ndarray:
        """The topic head's probabilities with P(无关) of texts of at most title[0] characters
        mixed with the title head's (title[1] of it); the other topics share the rest in the
        topic head's proportions."""
        assert self.title is not None
        chars, mix = self.title
        topics = self.heads["topic"].classes
        name = next(c for c in self.heads["title"].classes if c in topics)  # 无关
        j = int(np.flatnonzero(topics == name)[0])
        k = int(np.flatnonzero(self.heads["title"].classes == name)[0])
        short = np.asarray(lengths) <= chars
        irrelevant = np.where(short, (1 - mix) * topic[:, j] + mix * title[:, k], topic[:, j])
        rest = topic.copy()
        rest[:, j] = 0.0
        total = rest.sum(axis=1, keepdims=True)
        rest *= np.divide(1.0 - irrelevant[:, None], total, out=np.zeros_like(total),
                          where=total > 0)
        rest[:, j] = irrelevant
        return rest

    def ranked(self, head: str, p: np.ndarray) -> np.ndarray:
        """Per row, class indices from the decided label down: the most probable, except that
        the topic head decides 无关 only when P(无关) reaches the relevance threshold (below
        it, the most probable other topic; at or above it, 无关 even when not the most
        probable)."""
        order = np.argsort(-p, axis=1, kind="stable")
        classes = self.heads[head].classes
        if head != "topic" or self.relevance is None or self.relevance[0] not in classes:
            return order
        name, threshold = self.relevance
        j = int(np.flatnonzero(classes == name)[0])
        others = order[order != j].reshape(len(p), -1)
        irrelevant = (p[:, j] >= threshold)[:, None]
        # relevant: the best other topic first, then every class by probability (无关 too)
        best = others[:, :1]
        after_best = order[order != best].reshape(len(p), -1)
        return np.where(irrelevant, np.hstack([np.full_like(best, j), others]),
                        np.hstack([best, after_best]))

    def predict(self, head: str, X, lengths: list[int] | None = None) -> np.ndarray:
        """The decided label of each row."""
        p = self.proba(head, X, lengths)
        return self.heads[head].classes[self.ranked(head, p)[:, 0]]

    @cached_property
    def _all_weights_t(self) -> np.ndarray:
        """Every head's weights side by side: one gather per feature serves all heads."""
        return np.ascontiguousarray(
            np.concatenate([h.weights_t() for h in self.heads.values()], axis=1))

    @cached_property
    def _columns(self) -> dict[str, int]:
        """Where each head's decision columns start in _all_weights_t."""
        out, at = {}, 0
        for name, head in self.heads.items():
            out[name] = at
            at += head.width
        return out

    def scores(self, X: Rows, lengths: list[int] | None = None) -> Scores:
        """Each head's probabilities, from one gather of all heads' weights for the batch's
        features; the gathered weights also serve the explanations. The title head only
        informs the topic head's P(无关) (texts' `lengths` given) and is not returned."""
        gathered = np.take(self._all_weights_t, X.indices, axis=0)  # (nnz, all columns)
        raw = X.row_sums(gathered)
        proba = {name: head.proba_of_decisions(
                     raw[:, self._columns[name] : self._columns[name] + head.width])
                 for name, head in self.heads.items()}
        title = proba.pop("title", None)
        if title is not None and lengths is not None and self.title is not None:
            proba["topic"] = self.blend_title(proba["topic"], title, lengths)
        return Scores(proba, gathered)

    def proba_all(self, X: Rows, lengths: list[int] | None = None) -> dict[str, np.ndarray]:
        return self.scores(X, lengths).proba

    def explain_batch(
        self, head: str, X, classes: np.ndarray, k: int = 4, gathered: np.ndarray | None = None
    ) -> list[tuple[tuple[str, float], ...]]:
        """The terms that pushed each row towards its class in `classes`: one gather and one
        sort per batch, instead of a handful of numpy calls per item. `gathered`: the
        weights scores() gathered for X, read instead of gathering again."""
        n = X.shape[0]
        lengths = np.diff(X.indptr)
        rows = np.repeat(np.arange(n), lengths)
        h = self.heads[head]
        if gathered is not None and h.coefs.shape[0] == 1 and h.coefs.shape[1] > 1:
            # one classifier, a column per class: the explanation weights are the decision's
            column = self._columns[head] + np.repeat(classes, lengths)
            flat = np.arange(len(column)) * gathered.shape[1] + column
            contrib = X.data * np.take(gathered, flat)
        else:
            coef = h.coef
            flat = np.repeat(classes, lengths) * coef.shape[1] + X.indices  # take: 5× [i, j]
            contrib = X.data * np.take(coef, flat)
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
        arrays = {"terms_utf8": _pack(self.features.terms), "idf": self.features.idf,
                  "heads": np.array(list(self.heads), dtype=str)}
        for name, head in self.heads.items():
            for part in HEAD_ARRAYS:
                arrays[f"{name}.{part}"] = getattr(head, part)
        np.savez(path, **arrays)
        metadata = dict(
            metadata, version=self.version, artifact=ARTIFACT_NAME, sha256=sha256_of(path)
        )
        metadata["size_bytes"] = path.stat().st_size
        (directory / METADATA_NAME).write_text(
            json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return metadata


def _pack(terms: list[str]) -> np.ndarray:
    """The vocabulary as one UTF-8 text, a term a line: a tenth of the bytes of a fixed-width
    string array (100,000 terms padded to the longest, 4 bytes a character), read in
    milliseconds."""
    if any("\n" in t for t in terms):
        raise ValueError("a feature holds a line break; the vocabulary cannot be stored")
    return np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)


def _unpack(blob: np.ndarray) -> list[str]:
    return blob.tobytes().decode("utf-8").split("\n") if len(blob) else []


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
    with np.load(path, allow_pickle=False) as arrays:  # data only: no code can ride along
        heads = {str(n): Head(str(n), *(arrays[f"{n}.{part}"] for part in HEAD_ARRAYS))
                 for n in arrays["heads"]}
        terms = (_unpack(arrays["terms_utf8"]) if "terms_utf8" in arrays.files
                 else arrays["terms"].tolist())
        features = Features(terms, arrays["idf"])
    return Model(
        features,
        heads,
        meta["version"],
        subwords=bool(meta.get("config", {}).get("subwords", False)),
        opening=int(meta.get("config", {}).get("opening", 0)),
        opening_grams=tuple(meta.get("config", {}).get("opening_grams", (2,))),
        relevance=_relevance(meta),
        foreign=int(meta.get("config", {}).get("foreign", 0)),
        title=_title(meta),
    )


def _title(meta: dict) -> tuple[int, float] | None:
    config = meta.get("config", {})
    if "title_chars" not in config:
        return None
    return int(config["title_chars"]), float(config["title_mix"])


def _relevance(meta: dict) -> tuple[str, float] | None:
    rel = meta.get("relevance")
    return (rel["class"], float(rel["threshold"])) if rel else None
