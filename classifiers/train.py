"""Train the classifier artifact: `python -m classifiers.train` (or `monitor train`).

Default: fit on train + dev (see corpus.py for the declared split), write
models/classifier.npz, metadata.json (version, data hashes, label counts,
held-out test metrics) and train_hashes.txt (hashes of every training text,
so a test can prove no evaluation text was trained on).
`--select` instead scores a few configurations by cross-validation over
train + dev: that is the only place hyperparameters are chosen; test is never
looked at for it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from tqdm import tqdm

from . import corpus, gazetteer, labels, taxonomy, tokenize
from .corpus import Example
from .model import MODELS_DIR, Features, Model, TrainConfig, fit_head, make_vectorizer

TRAIN_HASHES_NAME = "train_hashes.txt"
HASH_CHARS = 16


def featurize(
    texts: list[str], progress: bool = True, desc: str = "tokenise", subwords: bool = False,
    opening: int = 0, opening_grams: tuple[int, ...] = (2,), foreign: int = 0,
) -> list[list[str]]:
    tokenize.get_tokenizer()
    it = tqdm(texts, desc=desc, unit="doc", disable=not progress, mininterval=0.5)
    return [tokenize.features(tokenize.raw_tokens(t), subwords, opening, opening_grams, foreign)
            for t in it]


RELEVANT = "相关"  # the title head's other class


def _labels(head: str, examples: list[Example],
            cfg: TrainConfig | None = None) -> tuple[list[int], list[str]]:
    """Row indices and labels of the examples a head learns from."""
    if head == "board":  # the message board's own classes: Teddy rows only
        rows = [i for i, e in enumerate(examples) if e.original in corpus.TEDDY_CLASSES]
        return rows, [examples[i].original for i in rows]
    if head == "title":  # 无关 or not, among short texts only
        irrelevant = taxonomy.default().irrelevant_topic
        chars = (cfg or TrainConfig()).title_chars
        rows = [i for i, e in enumerate(examples) if len(e.text) <= chars]
        return rows, [irrelevant if examples[i].topic == irrelevant else RELEVANT
                      for i in rows]
    attr = "topic" if head == "topic" else "incident"
    return list(range(len(examples))), [getattr(e, attr) for e in examples]


def fit(
    examples: list[Example],
    cfg: TrainConfig,
    version: str,
    progress: bool = True,
    docs: list[list[str]] | None = None,
) -> Model:
    docs = (
        docs
        if docs is not None
        else featurize([e.text for e in examples], progress, subwords=cfg.subwords,
                       opening=cfg.opening, opening_grams=cfg.opening_grams,
                       foreign=cfg.foreign)
    )
    vec = make_vectorizer(cfg)
    X = vec.fit_transform(docs).tocsr()
    heads = {}
    for head in tqdm(cfg.heads, desc="fit heads", disable=not progress):
        rows, y = _labels(head, examples, cfg)
        if len(set(y)) < 2:
            continue
        heads[head] = fit_head(head, X[rows], y, _head_config(head, cfg))
    return Model(Features.from_vectorizer(vec), heads, version, subwords=cfg.subwords,
                 opening=cfg.opening, opening_grams=cfg.opening_grams, foreign=cfg.foreign,
                 title=(cfg.title_chars, cfg.title_mix))


def _head_config(head: str, cfg: TrainConfig) -> TrainConfig:
    """The configuration a head is fitted with: the title head may have its own C, class
    weights, model and NB scaling."""
    if head != "title":
        return cfg
    return replace(cfg, C=cfg.title_C if cfg.title_C is not None else cfg.C,
                   class_weight=(cfg.class_weight if cfg.title_class_weight == "same"
                                 else cfg.title_class_weight),
                   linear_model=cfg.title_model, nb_alpha=cfg.title_nb)


def cluster_folds(examples: list[Example], folds: int) -> list[int]:
    """Fold of each example, by near-duplicate cluster like the split, so an edited repost
    never validates its twin."""
    firsts = corpus.near_duplicate_firsts(examples)
    return [int(corpus.text_hash(first)[8:16], 16) % folds for first in firsts]


def relevance_threshold(
    examples: list[Example], docs: list[list[str]], cfg: TrainConfig, irrelevant: str,
    folds: int = 4, progress: bool = True,
) -> dict:
    """The P(无关) at or above which the topic head says 无关, set on validation folds of the
    training rows (never test): each fold's read news titles are scored by the topic and title
    heads fitted on the other folds, and the threshold is the lowest that still keeps
    `relevance_recall` of the relevant titles, so precision is the best the recall bar
    allows."""
    fold_of = cluster_folds(examples, folds)
    titles = [i for i, e in enumerate(examples) if e.source == "thucnews" and e.read]
    score = dict.fromkeys(titles, 0.0)
    fold_cfg = replace(cfg, heads=tuple(h for h in cfg.heads if h in ("topic", "title")))
    for k in tqdm(range(folds), desc="relevance folds", disable=not progress):
        train_rows = [i for i in range(len(examples)) if fold_of[i] != k]
        held = [i for i in titles if fold_of[i] == k]
        m = fit([examples[i] for i in train_rows], fold_cfg, "fold", progress=False,
                docs=[docs[i] for i in train_rows])
        p = m.proba("topic", m.transform([docs[i] for i in held]),
                    [len(examples[i].text) for i in held])
        column = list(m.heads["topic"].classes).index(irrelevant)
        score.update(zip(held, p[:, column].tolist(), strict=True))
    s = np.array([score[i] for i in titles])
    relevant = np.array([examples[i].topic != irrelevant for i in titles])
    threshold = threshold_for_recall(s, relevant, cfg.relevance_recall)
    called = s < threshold
    tp = int((called & relevant).sum())
    return {
        "class": irrelevant,
        "threshold": round(threshold, 6),
        "recall_target": cfg.relevance_recall,
        "validation": {
            "titles": len(titles),
            "precision_relevant": round(tp / max(1, int(called.sum())), 4),
            "recall_relevant": round(tp / max(1, int(relevant.sum())), 4),
            "folds": folds,
        },
    }


def threshold_for_recall(p_irrelevant: np.ndarray, relevant: np.ndarray, recall: float) -> float:
    """The lowest t such that calling "relevant" every item with p_irrelevant < t keeps
    `recall` of the relevant ones: halfway between the last relevant item it must keep and
    the next score above it."""
    keep = int(np.ceil(recall * relevant.sum()))
    if keep == 0:
        return 0.0
    edge = np.sort(p_irrelevant[relevant])[keep - 1]
    above = p_irrelevant[p_irrelevant > edge]
    return float((edge + above.min()) / 2) if len(above) else float(np.nextafter(edge, 2.0))


def file_hashes(root: Path) -> dict[str, str]:
    files = [
        root / "tipdm2020" / "messages_val.tsv",
        root / "tipdm2020" / "messages_sample.tsv",
        root / "thucnews-titles" / "dev.txt",
    ]
    out = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    cec = hashlib.sha256()
    for p in sorted((root / "cec" / "CEC").rglob("*.xml")):
        cec.update(p.name.encode() + p.read_bytes())
    out["cec/CEC/*.xml"] = cec.hexdigest()
    # What shapes the features counts as data too: the same corpus through a
    # different dictionary or stop-word list is a different model.
    own = [
        *sorted(labels.LABELS_DIR.glob("*.tsv")),  # the topics as read
        corpus.SYNTHETIC_PATH,
        tokenize.USERDICT_PATH,
        tokenize.STOPWORDS_PATH,
        tokenize.FOREIGN_PATH,
        gazetteer.DEFAULT_PATH,
        Path(tokenize.__file__),
    ]
    for p in own:
        out[str(p.relative_to(corpus.REPO_ROOT))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def label_counts(examples: list[Example]) -> dict:
    return {
        "topic": dict(Counter(e.topic for e in examples).most_common()),
        "incident": dict(Counter(e.incident for e in examples).most_common()),
        "source": dict(Counter(e.source for e in examples).most_common()),
        "synthetic": sum(e.synthetic for e in examples),
    }


def _macro(model: Model, head: str, examples: list[Example], docs: list[list[str]]) -> float:
    rows, y = _labels(head, examples)
    if not rows:
        return float("nan")
    X = model.transform([docs[i] for i in rows])
    pred = model.heads[head].predict(X)
    return float(f1_score(y, pred, average="macro"))


GRID = [
    TrainConfig(),
    TrainConfig(C=0.5),
    TrainConfig(C=2.0),
    TrainConfig(class_weight=None),
    TrainConfig(opening=0),
    TrainConfig(opening=30, opening_grams=(2,)),
    TrainConfig(opening=40),
    TrainConfig(subwords=False),
    TrainConfig(subwords=False, class_weight=None),
    TrainConfig(foreign=0),
    TrainConfig(title_mix=0.0),
    TrainConfig(title_mix=0.5),
    TrainConfig(title_C=0.3),
    TrainConfig(title_class_weight=None),
    TrainConfig(title_model="lr", title_C=10.0),
    TrainConfig(title_nb=None),
]


def _dev_extra(model: Model, dev: list[Example], docs: list[list[str]]) -> list[float]:
    """Dev figures behind the quality bars: topic macro-F1 on read messages, precision and
    recall of "government-relevant" on read titles, CEC incident accuracy."""
    def predict(head: str, rows: list[int]):
        X = model.transform([docs[i] for i in rows])
        if head == "topic":  # with the title head's say, as served
            return model.predict(head, X, [len(dev[i].text) for i in rows])
        return model.heads[head].predict(X)

    messages = [i for i, e in enumerate(dev) if e.source == "teddy" and e.read]
    msg_f1 = f1_score([dev[i].topic for i in messages], predict("topic", messages),
                      average="macro")
    titles = [i for i, e in enumerate(dev) if e.source == "thucnews" and e.read]
    rel = [(p != "无关", dev[i].topic != "无关")
           for p, i in zip(predict("topic", titles), titles, strict=True)]
    tp = sum(p and t for p, t in rel)
    cec = [i for i, e in enumerate(dev) if e.source == "cec"]
    cec_acc = sum(p == dev[i].incident for p, i in zip(predict("incident", cec), cec,
                                                        strict=True)) / max(1, len(cec))
    return [float(msg_f1), tp / max(1, sum(p for p, _ in rel)),
            tp / max(1, sum(t for _, t in rel)),
            _precision_at_recall(*_title_scores(model, dev, docs, titles)), float(cec_acc)]


def _title_scores(model: Model, dev: list[Example], docs: list[list[str]],
                  titles: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """P(无关) of the read titles (as served), and which of them are relevant."""
    p = model.proba("topic", model.transform([docs[i] for i in titles]),
                    [len(dev[i].text) for i in titles])
    score = p[:, list(model.heads["topic"].classes).index("无关")]
    return score, np.array([dev[i].topic != "无关" for i in titles])


def _precision_at_recall(score: np.ndarray, relevant: np.ndarray,
                         recall: float = 0.80) -> float:
    """Precision of "relevant" at the P(无关) threshold that keeps `recall` of the relevant
    titles: what the relevance threshold can make of the ranking."""
    called = score < threshold_for_recall(score, relevant, recall)
    return float((called & relevant).sum() / max(1, called.sum()))


def select(root: Path, progress: bool = True, folds: int = 4,
           only: list[int] | None = None) -> None:
    """Score GRID (or its rows `only`) by k-fold cross-validation over train + dev (never
    test): more rows than dev alone, so less noise in the choice."""
    parts = corpus.split(corpus.load_all(root))
    pool = parts["train"] + parts["dev"]
    # folds by near-duplicate cluster too, so an edited repost never validates its twin
    fold_of = cluster_folds(pool, folds)
    cache: dict[tuple[bool, int, tuple[int, ...], int], list[list[str]]] = {}
    print(
        f"{f'config (mean of {folds} folds over train+dev)':<76} "
        f"{'topic':>6} {'incid':>6} {'board':>6} {'msgF1':>6} {'relP':>6} {'relR':>6} "
        f"{'P@R.8':>6} {'cecAcc':>6} {'pooled':>6}"
    )
    for cfg in [GRID[i] for i in only] if only else GRID:
        key = (cfg.subwords, cfg.opening, cfg.opening_grams, cfg.foreign)
        if key not in cache:
            cache[key] = featurize([e.text for e in pool], progress, "tokenise", *key)
        docs = cache[key]
        scores, pooled = [], []
        for k in range(folds):
            tr = [i for i in range(len(pool)) if fold_of[i] != k]
            va = [i for i in range(len(pool)) if fold_of[i] == k]
            m = fit(
                [pool[i] for i in tr], cfg, "select", progress=False, docs=[docs[i] for i in tr]
            )
            held, held_docs = [pool[i] for i in va], [docs[i] for i in va]
            row = [_macro(m, h, held, held_docs) for h in ("topic", "incident", "board")]
            scores.append(row + _dev_extra(m, held, held_docs))
            titles = [i for i, e in enumerate(held) if e.source == "thucnews" and e.read]
            pooled.append(_title_scores(m, held, held_docs, titles))
        mean = [sum(col) / len(col) for col in zip(*scores, strict=True)]
        # one threshold over all folds' titles, as the shipped threshold is set
        mean.append(_precision_at_recall(*(np.concatenate(a) for a in zip(*pooled, strict=True))))
        desc = (
            f"C={cfg.C} min_df={cfg.min_df} ens={cfg.ensemble} "
            f"cw={cfg.class_weight} sub={cfg.subwords} open={cfg.opening}"
            f"/{''.join(map(str, cfg.opening_grams))} abroad={cfg.foreign} title={cfg.title_mix}"
            + f" nb={cfg.title_nb}"
            + (f" {cfg.title_model} C={cfg.title_C} cw={cfg.title_class_weight}"
               if (cfg.title_model, cfg.title_C, cfg.title_class_weight) != ("svm", None, "same")
               else "")
        )
        print(f"{desc:<76} " + " ".join(f"{s:>6.3f}" for s in mean), flush=True)


def train(
    root: Path,
    out: Path,
    cfg: TrainConfig | None = None,
    progress: bool = True,
    evaluate_after: bool = True,
) -> dict:
    cfg = cfg or TrainConfig()
    started = time.perf_counter()
    parts = corpus.split(corpus.load_all(root))
    examples = parts["train"] + parts["dev"]
    hashes = file_hashes(root)
    split_desc = {
        "test_buckets": f"{corpus.TEST_BUCKETS.start}-{corpus.TEST_BUCKETS.stop - 1}",
        "dev_buckets": f"{corpus.DEV_BUCKETS.start}-{corpus.DEV_BUCKETS.stop - 1}",
        "trained_on": "train+dev",
        "hash": f"near-duplicate clusters (char 3-gram MinHash, Jaccard ≥ "
                f"{corpus.NEAR_DUPLICATE}); sha1(first {corpus.SPLIT_PREFIX} characters of the "
                "cluster's first text, whitespace removed) % 100",
    }
    mapping = [corpus.THUC_IRRELEVANT, corpus.CEC_MAP]
    # The version names what the model learnt from: data, mapping, split, config.
    fingerprint = hashlib.sha256(
        json.dumps(
            [hashes, asdict(cfg), split_desc, mapping], sort_keys=True, ensure_ascii=False
        ).encode()
    ).hexdigest()
    version = f"clf-{fingerprint[:10]}"
    docs = featurize([e.text for e in examples], progress, subwords=cfg.subwords,
                     opening=cfg.opening, opening_grams=cfg.opening_grams, foreign=cfg.foreign)
    model = fit(examples, cfg, version, progress, docs=docs)
    relevance = None
    if cfg.relevance_recall is not None and "topic" in model.heads:
        relevance = relevance_threshold(examples, docs, cfg, taxonomy.default().irrelevant_topic,
                                        progress=progress)
        model.relevance = (relevance["class"], relevance["threshold"])
    out.mkdir(parents=True, exist_ok=True)
    train_hashes = sorted({corpus.text_hash(e.text)[:HASH_CHARS] for e in examples})
    (out / TRAIN_HASHES_NAME).write_text("\n".join(train_hashes) + "\n", encoding="utf-8")
    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": asdict(cfg),
        "split": split_desc,
        "data_hashes": hashes,
        "label_counts": {"train": label_counts(examples), "test": label_counts(parts["test"])},
        "relevance": relevance,
        "n_features": len(model.features.terms),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    meta = model.save(out, meta)
    if evaluate_after:
        from . import evaluate  # late: evaluate imports the API, which loads models

        report = evaluate.run(root, out, write_files=False, progress=progress)
        meta["metrics"] = evaluate.headline(report)
        meta = model.save(out, meta)
    return meta


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(
        prog="classifiers.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=corpus.SHARED_DATA,
        help="the shared data folder (default ../shared/data)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=MODELS_DIR,
        help="where to write the artifact (default classifiers/models)",
    )
    parser.add_argument(
        "--select",
        action="store_true",
        help="score candidate configurations by cross-validation on train+dev; write nothing",
    )
    parser.add_argument("--only", type=str, default=None,
                        help="with --select: the grid rows to score, e.g. 0,9,10 (default all)")
    parser.add_argument("--C", type=float, default=None, help="override the SVM regularisation")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def run_cli(args: argparse.Namespace) -> int:
    if not corpus.shared_data_available(args.data_root):
        print(f"training data not found under {args.data_root}", file=sys.stderr)
        return 2
    if args.select:
        only = [int(i) for i in args.only.split(",")] if args.only else None
        select(args.data_root, progress=not args.quiet, only=only)
        return 0
    cfg = TrainConfig() if args.C is None else replace(TrainConfig(), C=args.C)
    meta = train(args.data_root, args.out, cfg, progress=not args.quiet)
    print(
        f"wrote {args.out / meta['artifact']} ({meta['size_bytes'] / 1e6:.1f} MB), "
        f"version {meta['version']}"
    )
    for key, value in meta.get("metrics", {}).items():
        print(f"  {key}: {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
