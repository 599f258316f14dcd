"""CLI: `monitor classify | train | evaluate` (wired by monitor/cli.py via register()).

    monitor classify "红河州个旧市一煤矿发生透水事故，造成3人死亡"
    monitor classify --jsonl in.jsonl --out out.jsonl
    monitor train [--select]
    monitor evaluate [--out var/eval]

Also runnable alone: python -m classifiers.cli classify "…".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from . import evaluate, train
from .result import Classification

JSONL_BATCH = 256


def _fmt_terms(terms) -> str:
    return "、".join(t for t, _ in terms) or "（无明显特征词）"


def render(text: str, c: Classification) -> str:
    """A verdict a duty officer can read, with the evidence behind it."""
    lines = [f"文本：{text[:80]}{'…' if len(text) > 80 else ''}"]
    for name, p in (("主题", c.topic), ("事件类型", c.incident)):
        flag = "（置信度低，仅供参考）" if p.low_confidence else ""
        lines.append(
            f"{name}：{p.label}  p={p.p:.2f}{flag}；"
            f"次选 {p.runner_up} p={p.runner_up_p:.2f}；依据词：{_fmt_terms(p.terms)}"
        )
    s = c.severity
    if s.grade is None:
        sev = "不适用（非突发事件）"
    elif s.inferred:  # 未知: no figure settles it
        sev = f"{s.grade}（待人工定级：{s.basis}）"
    else:
        sev = f"{s.grade}（{s.basis}）"
    lines.append(f"严重程度：{sev}")
    if s.evidence:
        lines.append("数字依据：" + "，".join(f"{k}={v:g}" for k, v in s.evidence.items()))
    if s.explicit:
        lines.append(f"文中等级表述：{s.explicit}")
    if c.region:
        where = c.region.prefecture + (f" / {c.region.county}" if c.region.county else "")
        lines.append(f"地区：{where}（匹配：{'、'.join(c.region.matched)}）")
    else:
        lines.append("地区：未识别")
    if c.board and c.topic.label != "无关":  # the board's classes mean nothing for 无关
        lines.append(f"留言板分类：{c.board.label} p={c.board.p:.2f}")
    lines.append(f"模型版本：{c.model_version}")
    return "\n".join(lines)


def _read_jsonl(fh: IO[str]) -> Iterator[tuple[int, dict | None, str | None]]:
    for lineno, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, None, f"line {lineno}: not JSON ({exc.msg})"
            continue
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            yield lineno, None, f'line {lineno}: needs an object with a string "text"'
            continue
        yield lineno, row, None


def classify_jsonl(src: IO[str], dst: IO[str], classifier=None) -> tuple[int, int]:
    """Read {"id", "text"} lines, write one contract line per good input.
    Returns (written, skipped); bad lines are reported on stderr, not fatal."""
    from .api import load_default

    clf = classifier or load_default()
    written = skipped = 0
    batch: list[dict] = []

    def flush() -> None:
        nonlocal written
        for row, c in zip(batch, clf.classify([r["text"] for r in batch]), strict=True):
            dst.write(json.dumps(c.to_json(row.get("id")), ensure_ascii=False) + "\n")
            written += 1
        batch.clear()

    for _, row, error in _read_jsonl(src):
        if error:
            print(error, file=sys.stderr)
            skipped += 1
            continue
        batch.append(row)
        if len(batch) >= JSONL_BATCH:
            flush()
    flush()
    return written, skipped


def cmd_classify(args: argparse.Namespace) -> int:
    from .api import load_default
    from .model import ArtifactError

    try:
        clf = load_default()
    except ArtifactError as exc:
        print(f"cannot load the model: {exc}", file=sys.stderr)
        return 2
    if args.jsonl:
        src = sys.stdin if str(args.jsonl) == "-" else open(args.jsonl, encoding="utf-8")
        dst = (
            sys.stdout
            if args.out is None or str(args.out) == "-"
            else open(args.out, "w", encoding="utf-8")
        )
        with src, dst:
            written, skipped = classify_jsonl(src, dst, clf)
        print(f"classified {written} items, skipped {skipped}", file=sys.stderr)
        return 0 if skipped == 0 else 1
    if not args.text:
        print("give a text, or --jsonl FILE", file=sys.stderr)
        return 2
    # Each argument is one text: `monitor classify "a" "b"` classifies two.
    results = clf.classify(list(args.text))
    for n, (text, c) in enumerate(zip(args.text, results, strict=True)):
        if args.json:  # one JSON line per input, in the order given
            print(json.dumps({"text": text, **c.to_dict()}, ensure_ascii=False))
        else:
            print(("\n" if n else "") + render(text, c))
    return 0


def register(subparsers) -> None:
    """Add classify, train and evaluate to an argparse subparsers object."""
    p = subparsers.add_parser(
        "classify", help="tag texts with topic, incident, severity and region"
    )
    p.add_argument("text", nargs="*", help="texts to classify, each argument one text")
    p.add_argument(
        "--jsonl", type=Path, help='read JSON lines {"id", "text"} from this file ("-" for stdin)'
    )
    p.add_argument("--out", type=Path, help="write JSON lines here (default stdout)")
    p.add_argument(
        "--json", action="store_true",
        help="print one JSON line per input (the full result) instead of prose"
    )
    p.set_defaults(func=cmd_classify)

    p = subparsers.add_parser(
        "train", help="train the classifier artifact into classifiers/models/"
    )
    train.build_parser(p)
    p.set_defaults(func=train.run_cli)

    p = subparsers.add_parser(
        "evaluate", help="score the model on the held-out split; write metrics and PNGs"
    )
    evaluate.build_parser(p)
    p.set_defaults(func=evaluate.run_cli)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="classifiers")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
