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
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from . import corpus, severity
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
            ref_grade = severity.grade_numbers(ref)
            our_grade = severity.grade_numbers(ours)
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

    teddy_val, teddy_pred = pick("board", lambda e: e.id.startswith("teddy-val-"))
    _, teddy_val_topic = pick("topic", lambda e: e.id.startswith("teddy-val-"))
    teddy_all, teddy_all_pred = pick("board", lambda e: e.source == "teddy")
    cec, cec_pred = pick("incident", lambda e: e.source == "cec")
    thuc, thuc_pred = pick(
        "topic",
        lambda e: (
            e.source == "thucnews"
            and e.original in corpus.THUC_IRRELEVANT + ("realty", "education")
        ),
    )
    relevant_mix, mix_pred = pick(
        "topic",
        lambda e: (
            e.source == "teddy" or (e.source == "thucnews" and e.original in corpus.THUC_IRRELEVANT)
        ),
    )

    report = {
        "model_version": clf.model.version,
        "n_test": len(test),
        "board_teddy_val": _head_report(
            [e.original for e in teddy_val], teddy_pred, list(corpus.TEDDY_CLASSES)
        ),
        "board_teddy_all": _head_report(
            [e.original for e in teddy_all], teddy_all_pred, list(corpus.TEDDY_CLASSES)
        ),
        "topic": _head_report([e.topic for e in test], topic, list(tax.topics)),
        # what an outside evaluation of the JSON lines sees on Teddy Cup messages:
        # the topic field against the documented mapping of their classes
        "topic_teddy_val": _head_report(
            [e.topic for e in teddy_val], teddy_val_topic, list(tax.topics), truth_only=True
        ),
        "incident_all": _head_report([e.incident for e in test], incident, list(tax.incidents)),
        "incident_cec": _head_report([e.incident for e in cec], cec_pred, list(tax.incidents)),
        "relevance_thucnews": _relevance(
            thuc_pred, [e.original in corpus.THUC_IRRELEVANT for e in thuc], tax.irrelevant_topic
        ),
        "relevance_teddy_vs_sports_game_ent": _relevance(
            mix_pred, [e.source == "thucnews" for e in relevant_mix], tax.irrelevant_topic
        ),
        "severity_cec_all": severity_agreement(root),
        "severity_cec_test": severity_agreement(root, "test"),
    }
    if write_files:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        for key in ("board_teddy_val", "topic", "incident_cec"):
            plot_confusion(report[key], out / f"confusion_{key}.png", title=key)
    return report


def headline(report: dict) -> dict:
    """The quality-bar figures, as stored in metadata.json."""
    return {
        "teddy_val_test_macro_f1": round(report["board_teddy_val"]["macro_f1"], 4),
        "teddy_val_test_n": report["board_teddy_val"]["n"],
        "topic_test_macro_f1": round(report["topic"]["macro_f1"], 4),
        "teddy_val_test_topic_macro_f1_mapped": round(report["topic_teddy_val"]["macro_f1"], 4),
        "thucnews_relevant_precision": round(report["relevance_thucnews"]["precision_relevant"], 4),
        "thucnews_sports_game_ent_caught_as_irrelevant": round(
            report["relevance_thucnews"]["irrelevant_caught"], 4
        ),
        "teddy_vs_sports_game_ent_relevant_precision": round(
            report["relevance_teddy_vs_sports_game_ent"]["precision_relevant"], 4
        ),
        "cec_incident_test_accuracy": round(report["incident_cec"]["accuracy"], 4),
        "cec_incident_test_n": report["incident_cec"]["n"],
        "cec_severity_agreement_all": round(report["severity_cec_all"]["agreement"], 4),
        "cec_severity_agreement_all_n": report["severity_cec_all"]["n"],
        "cec_severity_agreement_test": round(report["severity_cec_test"]["agreement"], 4),
    }


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
    print(f"model {report['model_version']}, {report['n_test']} held-out test rows")
    _print_head(
        "message-board class, Teddy Cup messages_val.tsv test split (7 classes)",
        report["board_teddy_val"],
    )
    _print_head("message-board class, all Teddy test rows", report["board_teddy_all"])
    _print_head("topic, all test rows", report["topic"])
    _print_head(
        "topic, Teddy Cup messages_val.tsv test split, against the mapped labels",
        report["topic_teddy_val"],
    )
    _print_head("incident type, CEC test split", report["incident_cec"])
    _print_head("incident type, all test rows", report["incident_all"])
    for key in ("relevance_thucnews", "relevance_teddy_vs_sports_game_ent"):
        r = report[key]
        print(
            f"\n== {key}: n={r['n']} (无关 {r['n_irrelevant']}); precision of government-relevant "
            f"{r['precision_relevant']:.4f}, recall {r['recall_relevant']:.4f}; "
            f"无关 titles caught {r['irrelevant_caught']:.4f}"
        )
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
