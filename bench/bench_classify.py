"""Throughput of classifiers.classify() beside the tokenisers alone, and model load time.

    .venv/bin/python bench/bench_classify.py [--items 400] [--repeat 3]

Texts are cut from the Teddy Cup messages when ../shared/data is there, else
from the synthetic file, at 200 and 1,500 characters. Baselines: jieba.lcut
with jieba's default dictionary (the earlier tokeniser), and our own tokeniser
alone (rjieba with the domain dictionary, as classify() uses it). Targets:
classify() at ≥ 4,200 texts/s of 200 characters (4× the 1,050/s of the jieba
version), its ratio to our tokeniser alone printed beside it, and model load
< 1 s in a fresh process. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def source_text() -> str:
    from classifiers import corpus

    teddy = corpus.SHARED_DATA / "tipdm2020" / "messages_val.tsv"
    if teddy.exists():
        rows = teddy.read_text(encoding="utf-8").splitlines()[1:]
        return "".join(r.split("\t", 1)[1] for r in rows if "\t" in r)
    rows = corpus.SYNTHETIC_PATH.read_text(encoding="utf-8").splitlines()
    return "".join(json.loads(r)["text"] for r in rows) * 20


def cut(text: str, size: int, n: int) -> list[str]:
    step = max(1, (len(text) - size) // n)
    return [text[i * step : i * step + size] for i in range(n)]


def rates(fns: dict, texts: list[str], repeat: int) -> dict[str, float]:
    """Items/s of each function, best of `repeat` rounds. The functions take
    turns within a round, so a busy spell on the machine hits them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(texts)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(texts) / t for name, t in best.items()}


def load_time() -> float:
    # A fresh interpreter, so nothing is warm.
    code = (
        "import time; t=time.perf_counter(); import classifiers; classifiers.load_default(); "
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    import jieba

    from classifiers import load_default, tokenize

    loads = [load_time() for _ in range(2)]
    clf = load_default()
    jieba.initialize()
    text = source_text()
    print(f"model load (fresh process): {min(loads):.2f} s (target < 1 s)")
    print(
        f"{'texts':<18}{'jieba.lcut/s':>14}{'our tokens/s':>14}{'classify/s':>12}{'vs lcut':>9}{'vs ours':>9}"
        f"{'unseen/s':>10}"
    )
    for size in (200, 1500):
        texts = cut(text, size, args.items)
        clf.classify(texts[:20])  # warm
        clf.classify(cut(text[211:], size, args.items))  # one-time costs (cn2an's import …)
        # "unseen": each round classifies texts it has not seen before, so the encoder's
        # memo meets new tokens, as in a stream; the other rounds repeat the same texts.
        unseen = (cut(text[97 + 17 * i :], size, args.items) for i in range(args.repeat))
        r = rates(
            {
                "lcut": lambda ts: [jieba.lcut(t) for t in ts],
                "ours": lambda ts: [tokenize.raw_tokens(t) for t in ts],
                "full": clf.classify,
                "unseen": lambda ts, sets=unseen: clf.classify(next(sets)),
            },
            texts,
            args.repeat,
        )
        lcut, ours, full = r["lcut"], r["ours"], r["full"]
        print(
            f"{f'{size} chars x{len(texts)}':<18}{lcut:>14.0f}{ours:>14.0f}{full:>12.0f}{full / lcut:>9.0%}{full / ours:>9.0%}"
            f"{r['unseen']:>10.0f}"
        )


if __name__ == "__main__":
    main()
