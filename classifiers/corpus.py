"""The labelled corpus: real data from ../shared/data plus the synthetic file.

Every source row becomes an `Example` with our labels, by the explicit
mappings below (documented in README.md). Splits are by a hash of the first
SPLIT_PREFIX characters of the text (whitespace removed), so they are
deterministic, stable when rows are added, and reposts — identical, or the
same message with an edited body (the message board has both) — always fall
on the same side.

Splits: test = hash bucket 0-19 (20 %), dev = 20-29 (10 %), train = the rest.
Model selection looks at dev only; `evaluate` reports on test only; the
shipped model is trained on train + dev.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .taxonomy import DATA_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SYNTHETIC_PATH = DATA_DIR / "synthetic_topics.jsonl"

SPLIT_PREFIX = 30
TEST_BUCKETS = range(0, 20)
DEV_BUCKETS = range(20, 30)

# Teddy Cup message-board first-level classes -> our topics. Only the first
# level is labelled, so a class maps whole: 城乡建设 (planning, property
# management, utilities), 交通运输 and 商贸旅游 (prices, tourism, shops) are
# government matters outside the 13 topics, hence 其他政务.
TEDDY_TOPIC = {
    "劳动和社会保障": "社会保障",
    "教育文体": "教育改革",
    "环境保护": "生态环境",
    "卫生计生": "卫生健康",
    "城乡建设": "其他政务",
    "交通运输": "其他政务",
    "商贸旅游": "其他政务",
}
TEDDY_CLASSES = tuple(TEDDY_TOPIC)

# THUCNews title classes -> our topics. finance, society and politics are
# left out: they mix government matters with market chatter, odd news and
# foreign politics, and no single label of ours is honest for them.
THUC_TOPIC = {
    "sports": "无关",
    "game": "无关",
    "entertainment": "无关",
    "stocks": "无关",
    "science": "无关",
    "realty": "房地产市场",
    "education": "教育改革",
}
THUC_IRRELEVANT = ("sports", "game", "entertainment")

# CEC emergency types -> (incident type, topic). Food poisoning is a public
# health event in the national plan and a food-safety topic; a terrorist
# attack is a social-safety event and a public-order topic.
CEC_MAP = {
    "地震": ("自然灾害", "其他政务"),
    "火灾": ("事故灾难", "其他政务"),
    "交通事故": ("事故灾难", "其他政务"),
    "食物中毒": ("公共卫生事件", "食品药品"),
    "恐怖袭击": ("社会安全事件", "社会治安"),
}

# The board anonymised places as "A市", "A3区", "D12市"; the model must not
# learn that such codes mean "government message".
_TEDDY_CODES = re.compile(r"[A-Z]\d{0,3}(?:市|区|县)|[A-Z]\d{5,}")


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    topic: str
    incident: str
    source: str  # teddy | thucnews | cec | synthetic
    original: str  # the source's own label, for per-source evaluation
    synthetic: bool = False

    @property
    def split(self) -> str:
        return split_of(self.text)


def normalized_key(text: str) -> str:
    return re.sub(r"\s+", "", text)


def text_hash(text: str) -> str:
    return hashlib.sha1(normalized_key(text).encode("utf-8")).hexdigest()


def split_key(text: str) -> str:
    return normalized_key(text)[:SPLIT_PREFIX]


def split_of(text: str) -> str:
    digest = hashlib.sha1(split_key(text).encode("utf-8")).hexdigest()
    bucket = int(digest[:8], 16) % 100
    if bucket in TEST_BUCKETS:
        return "test"
    if bucket in DEV_BUCKETS:
        return "dev"
    return "train"


def _teddy_clean(text: str) -> str:
    return _TEDDY_CODES.sub("", text).strip()


def _read_tsv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def load_teddy(root: Path = SHARED_DATA) -> Iterator[Example]:
    base = root / "tipdm2020"
    for i, row in enumerate(_read_tsv(base / "messages_val.tsv")):
        label = row["label"].strip()
        yield Example(
            f"teddy-val-{i}", _teddy_clean(row["text"]), TEDDY_TOPIC[label], "无", "teddy", label
        )
    for row in _read_tsv(base / "messages_sample.tsv"):
        label = row["一级分类"].strip()
        text = _teddy_clean(row["留言主题"] + row["留言详情"])
        yield Example(
            f"teddy-sample-{row['留言编号']}", text, TEDDY_TOPIC[label], "无", "teddy", label
        )


def load_thucnews(root: Path = SHARED_DATA) -> Iterator[Example]:
    base = root / "thucnews-titles"
    names = (base / "class.txt").read_text(encoding="utf-8").split()
    for i, line in enumerate((base / "dev.txt").read_text(encoding="utf-8").splitlines()):
        title, _, cid = line.rpartition("\t")
        name = names[int(cid)]
        if name in THUC_TOPIC:
            yield Example(f"thuc-{i}", title, THUC_TOPIC[name], "无", "thucnews", name)


def cec_document(path: Path) -> tuple[str, ET.Element]:
    """Title + body text of one CEC file, and its parsed XML root.

    The XML is indented between annotation tags, so whitespace inside a
    paragraph is layout, not text: it is removed (Chinese needs no spaces).
    """
    root = ET.parse(path).getroot()
    title = re.sub(r"\s+", "", root.findtext("Title") or "")
    paragraphs = [re.sub(r"\s+", "", "".join(p.itertext())) for p in root.iter("Paragraph")]
    body = "\n".join(p for p in paragraphs if p)
    return f"{title}\n{body}", root


def load_cec(root: Path = SHARED_DATA) -> Iterator[Example]:
    base = root / "cec" / "CEC"
    for kind, (incident, topic) in CEC_MAP.items():
        for path in sorted((base / kind).glob("*.xml")):
            text, _ = cec_document(path)
            yield Example(f"cec-{kind}-{path.stem}", text, topic, incident, "cec", kind)


def load_synthetic(path: Path = SYNTHETIC_PATH) -> Iterator[Example]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            yield Example(
                r["id"], r["text"], r["topic"], r["incident"], "synthetic", r["topic"], True
            )


def shared_data_available(root: Path = SHARED_DATA) -> bool:
    return all((root / p).exists() for p in ("tipdm2020", "thucnews-titles", "cec"))


def load_all(root: Path = SHARED_DATA, with_synthetic: bool = True) -> list[Example]:
    sources: list[Iterable[Example]] = [load_teddy(root), load_thucnews(root), load_cec(root)]
    if with_synthetic:
        sources.append(load_synthetic())
    seen: set[str] = set()
    out: list[Example] = []
    for src in sources:
        for ex in src:
            key = normalized_key(ex.text)
            if not key or key in seen:  # exact reposts: keep the first only
                continue
            seen.add(key)
            out.append(ex)
    return out


def split(examples: Iterable[Example]) -> dict[str, list[Example]]:
    parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for ex in examples:
        parts[ex.split].append(ex)
    return parts
