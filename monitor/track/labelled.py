"""Labelled multi-source data for fitting and evaluating the grouping: items and their true
events, split by whole cluster (a cluster's reports never straddle the fit/held-out line).

* `samples/clusters/*.jsonl` — event clusters written as outlets write them (3–6 reports,
  official notices, messages, look-alike distractors), each line a replay item with its
  `cluster` and `split`.
* CEC — 332 real emergency reports, each split into two views of one matter (headline with
  the lead; the rest, a follow-up without the headline). Fit or held out by a hash of the
  document name, so the halves never change between runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from monitor.models import Item
from monitor.track.replay import ReplayItem

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
CLUSTERS = Path(__file__).with_name("samples") / "clusters"
T = datetime.fromisoformat("2026-11-16T10:00:00+08:00")

Split = Literal["fit", "heldout"]


@dataclass
class LabelledSet:
    name: str
    items: list[Item] = field(default_factory=list)
    truth: dict[str, str] = field(default_factory=dict)  # item id → true cluster


# Written without sight of the grouping code and used only to report figures: never fitted
# on, whatever split its rows say.
BLIND = "blind"


def cluster_sets(split: Split) -> list[LabelledSet]:
    paths = sorted(CLUSTERS.glob("*.jsonl"))
    return [_cluster_set(path, split) for path in paths
            if split == "heldout" or path.stem != BLIND]


def _cluster_set(path: Path, split: Split) -> LabelledSet:
    result = LabelledSet(f"{path.stem} ({split})")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        if raw["split"] != split:
            continue
        item = ReplayItem.model_validate(raw).to_item()
        result.items.append(item)
        result.truth[item.id] = raw["cluster"]
    return result


def cec_set(split: Split) -> LabelledSet:
    """CEC reports of one split, all at one instant: content, place and type must tell five
    hundred accidents, fires and earthquakes apart while pairing each report's two views."""
    result = LabelledSet(f"cec ({split})")
    folder = DATA / "cec" / "raw corpus" / "allSourceText"
    for n, path in enumerate(sorted(folder.glob("*.txt"))):
        if _split_of(path.stem) != split:
            continue
        head, rest = _halves(_body(path))
        if not rest:
            continue
        for view, (title, summary) in enumerate(((path.stem, head), (rest[:40], rest))):
            item = make_item(f"cec{n}:{view}", title, summary, T + timedelta(seconds=n))
            result.items.append(item)
            result.truth[item.id] = f"cec{n}"
    return result


def _split_of(name: str) -> Split:
    digest = hashlib.blake2b(name.encode(), digest_size=2).digest()
    return "fit" if digest[0] % 2 == 0 else "heldout"


def _body(path: Path) -> str:
    body = path.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in body.splitlines() if line.strip()]
    return "\n".join(lines[1:]) if lines and re.match(r"^\d{4}年", lines[0]) else body


def _halves(text: str) -> tuple[str, str]:
    paragraphs = [p.strip() for p in re.split(r"\n+", text) if p.strip()]
    sentences = re.split(r"(?<=[。！？])", "".join(paragraphs))
    sentences = [s for s in sentences if s.strip()]
    cut = max(1, min(2, len(sentences) // 2))
    return "".join(sentences[:cut]), "".join(sentences[cut:])


def make_item(doc_id: str, title: str, text: str, at: datetime) -> Item:
    return Item(id=doc_id, source_id="eval", source_name="eval", title=title, summary=text,
                link=None, published=at, fetched=at, official=False, channel="news")
