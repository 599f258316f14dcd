"""Evaluate the model on the held-out test split: `python -m classifiers.evaluate`.

Prints per-class precision/recall/F1, macro-F1 and confusion matrices for:
the message-board classes (Teddy Cup, 7 classes), the topic head, the
incident head on CEC, the 无关 precision figure on THUCNews titles, and the
agreement of the severity rules with CEC's own casualty annotations. Writes
metrics.json and one confusion-matrix PNG per head under --out (var/eval).
Only test-split rows are scored (corpus.py declares the split).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    roc_auc_score,
)

from . import corpus, severity, tokenize
from .api import Classifier, load
from .corpus import Example
from .model import MODELS_DIR

DEFAULT_OUT = corpus.REPO_ROOT / "var" / "eval"


def _head_report(
    y_true: list[str], y_pred: list[str], labels: list[str], truth_only: bool = False
) -> dict:
    """truth_only: average over the classes the data has (errors into other
    classes still count against recall), for sources that cover a few labels."""
    seen = set(y_true) if truth_only else set(y_true) | set(y_pred)
    present = [lab for lab in labels if lab in seen]
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        ),
        "per_class": classification_report(
            y_true, y_pred, labels=present, output_dict=True, zero_division=0
        ),
        "labels": present,
        "confusion": confusion_matrix(y_true, y_pred, labels=present).tolist(),
    }


def _relevance(preds: list[str], truth_irrelevant: list[bool], irrelevant: str) -> dict:
    pred_rel = np.array([p != irrelevant for p in preds])
    true_rel = ~np.array(truth_irrelevant)
    tp = int((pred_rel & true_rel).sum())
    fp = int((pred_rel & ~true_rel).sum())
    return {
        "n": len(preds),
        "n_irrelevant": int((~true_rel).sum()),
        "predicted_relevant": int(pred_rel.sum()),
        "precision_relevant": tp / (tp + fp) if tp + fp else float("nan"),
        "recall_relevant": tp / int(true_rel.sum()) if true_rel.any() else float("nan"),
        "irrelevant_caught": float((~pred_rel & ~true_rel).sum() / max(1, (~true_rel).sum())),
    }


def _relevance_of(clf: Classifier, titles: list[Example], preds: list[str],
                  irrelevant: str) -> dict:
    """The relevance figures of a subset of the titles, with its ranking."""
    return _relevance(preds, [e.topic == irrelevant for e in titles], irrelevant) | {
        "ranking": _ranking(clf, titles, irrelevant)}


# -- severity agreement with CEC annotations -----------------------------------
_ANN_KINDS = [
    ("missing", ("失踪",)),
    ("poisoned", ("中毒",)),
    ("serious_injuries", ("重伤",)),
    ("deaths", ("死亡", "遇难", "罹难", "丧生", "身亡", "殒命", "丧命", "死")),
    ("injured", ("受伤", "轻伤", "伤")),
]
_ANN_NUM = __import__("re").compile(rf"({severity.NUM})(?:余|多)?(?:人|名|位|个)")


def annotated_counts(root) -> dict[str, float]:
    """Casualty counts as CEC's annotators marked them: an Event whose Denoter
    is a casualty word, with a counted Participant/Object ("6人" + "死亡")."""
    found: dict[str, float] = {}
    for event in root.iter("Event"):
        denoter = (
            "".join(event.find("Denoter").itertext()) if event.find("Denoter") is not None else ""
        )
        kind = next((k for k, words in _ANN_KINDS if any(w in denoter for w in words)), None)
        if kind is None:
            continue
        for tag in ("Participant", "Object"):
            for el in event.iter(tag):
                m = _ANN_NUM.search("".join(el.itertext()))
                value = severity.parse_number(m.group(1)) if m else None
                if value is not None:
                    found[kind] = max(found.get(kind, 0), value)
    return found


_CASUALTY = ("deaths", "missing", "serious_injuries", "poisoned")


def severity_agreement(root: Path, split_name: str | None = None) -> dict:
    rows = []
    for kind in corpus.CEC_MAP:
        for path in sorted((root / "cec" / "CEC" / kind).glob("*.xml")):
            text, xml = corpus.cec_document(path)
            if split_name and corpus.split_of(text) != split_name:
                continue
            ref = {k: v for k, v in annotated_counts(xml).items() if k in _CASUALTY}
            if not ref:
                continue  # not a casualty-bearing report by its annotation
            ours = {k: v for k, v in severity.extract(text).items() if k in _CASUALTY}
            plan = severity.plan_of(text)  # the earthquake and food plans grade their own
            ref_grade = severity.grade_numbers(ref, plan=plan)
            our_grade = severity.grade_numbers(ours, plan=plan)
            rows.append(
                {
                    "title": text.split("\n", 1)[0][:40],
                    "annotated": ref,
                    "extracted": ours,
                    "grade_annotated": ref_grade[0] if ref_grade else None,
                    "grade_extracted": our_grade[0] if our_grade else None,
                }
            )
    agree = sum(r["grade_annotated"] == r["grade_extracted"] for r in rows)
    return {
        "n": len(rows),
        "agree": agree,
        "agreement": agree / len(rows) if rows else float("nan"),
        "rows": rows,
    }


def run(
    root: Path = corpus.SHARED_DATA,
    model_dir: Path = MODELS_DIR,
    out: Path = DEFAULT_OUT,
    write_files: bool = True,
    progress: bool = True,
) -> dict:
    clf: Classifier = load(model_dir)
    tax = clf.tax
    test = corpus.split(corpus.load_all(root))["test"]
    results = clf.classify([e.text for e in test])
    topic = [r.topic.label for r in results]
    incident = [r.incident.label for r in results]
    board = [r.board.label if r.board else "" for r in results]

    def pick(pred: str, cond) -> tuple[list[Example], list[str]]:
        idx = [i for i, e in enumerate(test) if cond(e)]
        values = {"topic": topic, "incident": incident, "board": board}[pred]
        return [test[i] for i in idx], [values[i] for i in idx]

    messages, messages_pred = pick("topic", lambda e: e.source == "teddy" and e.read)
    titles, titles_pred = pick("topic", lambda e: e.source == "thucnews" and e.read)
    written, written_pred = pick("topic", lambda e: e.synthetic)
    headlines, headlines_pred = pick("topic", lambda e: e.synthetic and e.form == "headline")
    boards, boards_pred = pick("board", lambda e: e.original in corpus.TEDDY_CLASSES)
    cec, cec_pred = pick("incident", lambda e: e.source == "cec")
    topics = list(tax.topics)
    report = {
        "model_version": clf.model.version,
        "n_test": len(test),
        # the office's taxonomy, against labels decided by reading
        "topic_messages": _head_report([e.topic for e in messages], messages_pred, topics),
        "topic_titles": _head_report([e.topic for e in titles], titles_pred, topics),
        "relevance_titles": _relevance(
            titles_pred, [e.topic == tax.irrelevant_topic for e in titles], tax.irrelevant_topic
        ) | {"leaks": _leaks(titles, titles_pred, tax.irrelevant_topic),
             "missed": _missed(titles, titles_pred, tax.irrelevant_topic),
             "decision": _decision(clf),
             "ranking": _ranking(clf, titles, tax.irrelevant_topic)},
        # the classes that carry government news, without the four (sports, game,
        # entertainment, stocks) almost wholly 无关: a feed's mix against the news sections'
        "relevance_titles_news_classes": _relevance_of(
            clf, [e for e in titles if e.original not in corpus.THUC_IRRELEVANT],
            [p for e, p in zip(titles, titles_pred, strict=True)
             if e.original not in corpus.THUC_IRRELEVANT], tax.irrelevant_topic),
        "topic_written": _head_report([e.topic for e in written], written_pred, topics,
                                      truth_only=True),
        "topic_written_headlines": _head_report([e.topic for e in headlines], headlines_pred,
                                                topics, truth_only=True),
        "board_teddy": _head_report(
            [e.original for e in boards], boards_pred, list(corpus.TEDDY_CLASSES)
        ),
        "calibration_topic": _calibration(
            [e.topic for e in messages + titles],
            [results[i].topic for i, e in enumerate(test)
             if e.read and e.source in ("teddy", "thucnews")]),
        "incident_all": _head_report([e.incident for e in test], incident, list(tax.incidents)),
        "incident_cec": _head_report([e.incident for e in cec], cec_pred, list(tax.incidents)),
        "severity_cec_all": severity_agreement(root),
        "severity_cec_test": severity_agreement(root, "test"),
    }
    if write_files:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        plot_reliability(report["calibration_topic"], out / "reliability_topic.png")
        for key in ("topic_messages", "topic_titles", "incident_cec"):
            plot_confusion(report[key], out / f"confusion_{key}.png", title=key)
    return report


def headline(report: dict) -> dict:
    """The quality-bar figures, as stored in metadata.json."""
    rel = report["relevance_titles"]
    news = report["relevance_titles_news_classes"]
    return {
        "topic_messages_macro_f1": round(report["topic_messages"]["macro_f1"], 4),
        "topic_messages_accuracy": round(report["topic_messages"]["accuracy"], 4),
        "topic_messages_n": report["topic_messages"]["n"],
        "topic_titles_macro_f1": round(report["topic_titles"]["macro_f1"], 4),
        "topic_titles_n": report["topic_titles"]["n"],
        "titles_relevant_precision": round(rel["precision_relevant"], 4),
        "titles_relevant_recall": round(rel["recall_relevant"], 4),
        "titles_relevant_precision_at_recall_0_80": round(
            rel["ranking"].get("precision_at_recall", float("nan")), 4),
        "titles_news_classes_relevant_precision": round(news["precision_relevant"], 4),
        "titles_news_classes_relevant_recall": round(news["recall_relevant"], 4),
        "titles_news_classes_precision_at_recall_0_80": round(
            news["ranking"].get("precision_at_recall", float("nan")), 4),
        "topic_written_macro_f1": round(report["topic_written"]["macro_f1"], 4),
        "topic_written_headlines_macro_f1": round(
            report["topic_written_headlines"]["macro_f1"], 4),
        "board_teddy_macro_f1": round(report["board_teddy"]["macro_f1"], 4),
        "topic_expected_calibration_error": round(report["calibration_topic"]["ece"], 4),
        "cec_incident_test_accuracy": round(report["incident_cec"]["accuracy"], 4),
        "cec_incident_test_n": report["incident_cec"]["n"],
        "cec_severity_agreement_all": round(report["severity_cec_all"]["agreement"], 4),
        "cec_severity_agreement_all_n": report["severity_cec_all"]["n"],
        "cec_severity_agreement_test": round(report["severity_cec_test"]["agreement"], 4),
    }


def _calibration(truth: list[str], predictions: list, bins: int = 10) -> dict:
    """Expected calibration error of the stated p, and the reliability table behind it:
    per band of p, how often the label was right."""
    rows = []
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        band = [(p.p, p.label == t) for t, p in zip(truth, predictions, strict=True)
                if low < p.p <= high or (k == 0 and p.p == 0)]
        if band:
            rows.append({"p_from": low, "p_to": high, "n": len(band),
                         "mean_p": sum(b[0] for b in band) / len(band),
                         "accuracy": sum(b[1] for b in band) / len(band)})
    n = sum(r["n"] for r in rows) or 1
    ece = sum(r["n"] / n * abs(r["mean_p"] - r["accuracy"]) for r in rows)
    return {"n": n, "ece": ece, "bins": rows}


def _missed(titles: list[Example], preds: list[str], irrelevant: str) -> dict[str, int]:
    """Relevant titles called 无关, by the topic they were read as."""
    missed = Counter(e.topic for e, p in zip(titles, preds, strict=True)
                     if p == irrelevant and e.topic != irrelevant)
    return dict(missed.most_common())


def _decision(clf: Classifier) -> str:
    if clf.model.relevance is None:
        return "the most probable topic"
    name, threshold = clf.model.relevance
    title = clf.model.title
    mixed = (f"; P({name}) of texts up to {title[0]} characters mixed {1 - title[1]:.1f}/"
             f"{title[1]:.1f} with the title head's" if title else "")
    return f"{name} when P({name}) ≥ {threshold:.3f} (set on validation folds of train+dev{mixed})"


RANKING_RECALL = 0.80  # the recall bar


def _ranking(clf: Classifier, titles: list[Example], irrelevant: str) -> dict:
    """How well P(无关) orders the test titles whatever the threshold: ROC AUC, and the
    precision of "relevant" at the lowest threshold keeping RANKING_RECALL of the relevant
    titles (the best that bar allows; the shipped threshold is set on validation folds)."""
    m = clf.model
    raw = [tokenize.raw_tokens(e.text) for e in titles]
    p = m.proba_all(m.encode(raw), [len(e.text) for e in titles])["topic"]
    score = p[:, list(m.heads["topic"].classes).index(irrelevant)]
    relevant = np.array([e.topic != irrelevant for e in titles])
    if relevant.all() or not relevant.any():
        return {}
    edge = np.sort(score[relevant])[int(np.ceil(RANKING_RECALL * relevant.sum())) - 1]
    called = score <= edge
    return {"auc": float(roc_auc_score(relevant, -score)), "recall": RANKING_RECALL,
            "precision_at_recall": float((called & relevant).sum() / called.sum())}


def _leaks(titles: list[Example], preds: list[str], irrelevant: str) -> dict[str, int]:
    """Which kinds of not-government titles were called relevant (by their source class)."""
    leaked = Counter(e.original for e, p in zip(titles, preds, strict=True)
                     if e.topic == irrelevant and p != irrelevant)
    return dict(leaked.most_common())


# English glosses for the PNG when no CJK font is installed (the default on
# servers): a readable chart beats a row of missing-glyph boxes.
GLOSS = {
    "减税降费": "tax/fee cuts",
    "金融安全": "financial security",
    "生态环境": "environment",
    "脱贫攻坚": "poverty alleviation",
    "教育改革": "education",
    "食品药品": "food & drugs",
    "卫生健康": "health",
    "养老服务": "elderly care",
    "公正监管": "fair regulation",
    "社会保障": "social security",
    "社会治安": "public order",
    "房地产市场": "housing market",
    "营商环境": "business environment",
    "其他政务": "other government",
    "无关": "irrelevant",
    "自然灾害": "natural disaster",
    "事故灾难": "accident",
    "公共卫生事件": "public health",
    "社会安全事件": "social safety",
    "无": "none",
    "劳动和社会保障": "labour & social security",
    "教育文体": "education/culture/sport",
    "环境保护": "environmental protection",
    "卫生计生": "health & family planning",
    "城乡建设": "urban-rural construction",
    "交通运输": "transport",
    "商贸旅游": "commerce & tourism",
}


def _cjk_font() -> str | None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for entry in font_manager.fontManager.ttflist:
        if "Last Resort" in entry.name:  # maps every character to a placeholder box
            continue
        try:
            if FT2Font(entry.fname).get_char_index(ord("中")):
                return entry.name
        except (OSError, RuntimeError):
            continue
    return None


def plot_reliability(calibration: dict, path: Path) -> None:
    """Stated p against how often the label was right, per band, with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = calibration["bins"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.plot([b["mean_p"] for b in bins], [b["accuracy"] for b in bins], marker="o")
    for b in bins:
        ax.annotate(str(b["n"]), (b["mean_p"], b["accuracy"]), fontsize=7,
                    textcoords="offset points", xytext=(4, -10))
    ax.set_xlabel("stated probability of the topic")
    ax.set_ylabel("share right")
    ax.set_title(f"topic reliability (ECE {calibration['ece']:.3f}, n={calibration['n']})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(head: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font] + plt.rcParams["font.sans-serif"]
    labels = (
        head["labels"]
        if font
        else [GLOSS.get(lab, f"class {i}") for i, lab in enumerate(head["labels"])]
    )
    cm = np.array(head["confusion"])
    size = 2.5 + 0.55 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for (i, j), v in np.ndenumerate(cm):
        ax.text(
            j,
            i,
            str(v),
            ha="center",
            va="center",
            color="white" if v > cm.max() / 2 else "black",
            fontsize=8,
        )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title} (n={head['n']}, macro-F1={head['macro_f1']:.3f})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _print_head(name: str, head: dict) -> None:
    print(
        f"\n== {name}: n={head['n']} accuracy={head['accuracy']:.4f} "
        f"macro-F1={head['macro_f1']:.4f}"
    )
    print(f"{'class':<14}{'precision':>10}{'recall':>9}{'f1':>8}{'support':>9}")
    for lab in head["labels"]:
        r = head["per_class"].get(lab)
        if r:
            print(
                f"{lab:<14}{r['precision']:>10.3f}{r['recall']:>9.3f}{r['f1-score']:>8.3f}{int(r['support']):>9}"
            )
    print("confusion (rows true, columns predicted):")
    width = max(4, max(len(str(v)) for row in head["confusion"] for v in row) + 1)
    print(" " * 14 + "".join(f"{i:>{width}}" for i in range(len(head["labels"]))))
    for i, (lab, row) in enumerate(zip(head["labels"], head["confusion"], strict=True)):
        print(f"{i:>2} {lab:<11}" + "".join(f"{v:>{width}}" for v in row))


def print_report(report: dict, examples: int = 12) -> None:
    print(f"model {report['model_version']}, {report['n_test']} held-out test rows "
          "(split by near-duplicate cluster; topics scored only where a reader decided them)")
    _print_head("topic, citizen messages (Teddy Cup), read labels", report["topic_messages"])
    _print_head("topic, news titles (THUCNews), read labels", report["topic_titles"])
    _print_head("topic, written items", report["topic_written"])
    _print_head("topic, written headline items", report["topic_written_headlines"])
    _print_head("message-board class (the board's own 7)", report["board_teddy"])
    _print_head("incident type, CEC documents never trained on", report["incident_cec"])
    c = report["calibration_topic"]
    print(f"\n== topic calibration (read messages and titles, n={c['n']}): expected "
          f"calibration error {c['ece']:.3f}")
    for b in c["bins"]:
        print(f"   p {b['p_from']:.1f}–{b['p_to']:.1f}: n={b['n']:4} stated {b['mean_p']:.2f}"
              f"  right {b['accuracy']:.2f}")
    r = report["relevance_titles"]
    print(f"\n== government-relevant news titles: n={r['n']} (无关 {r['n_irrelevant']}); "
          f"precision {r['precision_relevant']:.4f}, recall {r['recall_relevant']:.4f}; "
          f"无关 titles caught {r['irrelevant_caught']:.4f}; 无关 called relevant, by source "
          f"class: {r['leaks']}; relevant called 无关, by topic: {r['missed']}; decision: "
          f"{r['decision']}")
    if r.get("ranking"):
        k = r["ranking"]
        print(f"   P(无关) as a ranking of the titles: ROC AUC {k['auc']:.3f}; precision "
              f"{k['precision_at_recall']:.3f} at recall {k['recall']:.2f}")
    n = report["relevance_titles_news_classes"]
    print(f"   the six news classes only (without {', '.join(corpus.THUC_IRRELEVANT)}): "
          f"n={n['n']} (无关 {n['n_irrelevant']}); precision {n['precision_relevant']:.4f}, "
          f"recall {n['recall_relevant']:.4f}"
          + (f"; precision {n['ranking']['precision_at_recall']:.3f} at recall "
             f"{n['ranking']['recall']:.2f}" if n.get("ranking") else ""))
    for key in ("severity_cec_all", "severity_cec_test"):
        s = report[key]
        print(
            f"\n== {key}: casualty-bearing reports {s['n']}, grade agrees with the "
            f"annotation-derived grade {s['agree']}/{s['n']} = {s['agreement']:.4f}"
        )
    rows = report["severity_cec_all"]["rows"]
    shown = [r for r in rows if r["grade_annotated"] != r["grade_extracted"]] + [
        r for r in rows if r["grade_annotated"] == r["grade_extracted"]
    ]
    print(f"\n{'report':<42}{'annotated':<34}{'extracted':<34}{'grade(ann)':<10}{'grade(ext)':<10}")
    for r in shown[:examples]:
        fmt = lambda d: ",".join(f"{k}={v:g}" for k, v in d.items())  # noqa: E731
        print(
            f"{r['title']:<42}{fmt(r['annotated']):<34}{fmt(r['extracted']):<34}"
            f"{r['grade_annotated'] or '-':<10}{r['grade_extracted'] or '-':<10}"
        )


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(
        prog="classifiers.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data-root", type=Path, default=corpus.SHARED_DATA)
    parser.add_argument("--model-dir", type=Path, default=MODELS_DIR)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where metrics.json and the PNGs go (default var/eval)",
    )
    parser.add_argument(
        "--examples", type=int, default=12, help="rows of the severity example table"
    )
    return parser


def run_cli(args: argparse.Namespace) -> int:
    if not corpus.shared_data_available(args.data_root):
        print(f"evaluation data not found under {args.data_root}", file=sys.stderr)
        return 2
    report = run(args.data_root, args.model_dir, args.out)
    print_report(report, args.examples)
    print(f"\nwrote {args.out / 'metrics.json'} and confusion_*.png")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
