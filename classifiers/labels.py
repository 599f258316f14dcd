"""Labels decided by reading (see LABELING.md), and how far two readers agree.

    python -m classifiers.labels     # counts per file and class; κ of the second reading

Each file in data/labels/ holds one row per text: where it is in ../shared/data (source,
line), a hash of the text as read, the label, who read it and a note. The texts stay in the
shared data; `read_texts` joins them back and refuses a row whose text changed.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .taxonomy import DATA_DIR

LABELS_DIR = DATA_DIR / "labels"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SECOND_READER = "double_"  # files of the blind second reading start with this


@dataclass(frozen=True)
class Label:
    source: str
    line: int
    sha1: str
    label: str
    labeller: str
    note: str

    @property
    def key(self) -> tuple[str, int]:
        return self.source, self.line


def read_labels(paths: list[Path] | None = None) -> list[Label]:
    rows = []
    for path in paths or sorted(LABELS_DIR.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                rows.append(Label(row["source"], int(row["line"]), row["sha1"], row["label"],
                                  row["labeller"], row.get("note") or ""))
    return rows


def first_and_second() -> tuple[dict, dict]:
    """The first reading of every text, and the blind second reading of a tenth of them."""
    first, second = {}, {}
    for path in sorted(LABELS_DIR.glob("*.tsv")):
        target = second if path.name.startswith(SECOND_READER) else first
        for label in read_labels([path]):
            target.setdefault(label.key, label)
    return first, second


def second_readers(paths: list[Path] | None = None) -> dict[str, dict]:
    """Each second reader's own readings, so overlapping files do not shadow each other."""
    readers: dict[str, dict] = {}
    for path in paths or sorted(LABELS_DIR.glob(f"{SECOND_READER}*.tsv")):
        for label in read_labels([path]):
            readers.setdefault(label.labeller, {})[label.key] = label
    return readers


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def agreement(first: dict, second: dict) -> tuple[float, float, int]:
    """Raw agreement and Cohen's κ over the texts both readers labelled."""
    from sklearn.metrics import cohen_kappa_score

    both = [k for k in second if k in first]
    a = [first[k].label for k in both]
    b = [second[k].label for k in both]
    same = sum(x == y for x, y in zip(a, b, strict=True)) / len(both) if both else 0.0
    return same, float(cohen_kappa_score(a, b)) if both else 0.0, len(both)


def main() -> int:
    first, second = first_and_second()
    by_source = Counter(label.source for label in first.values())
    for source, n in sorted(by_source.items()):
        print(f"{source:40} {n:5} texts")
    print(f"{'all':40} {len(first):5} texts")
    for name, n in Counter(label.label for label in first.values()).most_common():
        print(f"  {name:8} {n:5}")
    same, kappa, n = agreement(first, second)
    print(f"second reading: {n} texts, agreement {same:.3f}, Cohen's κ {kappa:.3f}")
    for part in ("tipdm2020", "thucnews-titles"):
        s, k, m = agreement({x: y for x, y in first.items() if x[0].startswith(part)}, second)
        print(f"  {part:16} {m:4} texts, agreement {s:.3f}, κ {k:.3f}")
    for labeller, readings in sorted(second_readers().items()):
        s, k, m = agreement(first, readings)
        print(f"  by {labeller:13} {m:4} texts, agreement {s:.3f}, κ {k:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
