"""The labelled corpus: real data from ../shared/data plus the synthetic file.

Topics come from **reading** (data/labels/, see LABELING.md): every Teddy Cup message and
2,000 news titles were read into the office's 15 topics. The sources' own classes are kept as
`original` (the message board's class feeds the board head) and no longer decide a topic —
except as weak labels for the training split only: THUCNews sports, game and entertainment
titles nobody read are 无关. CEC gives the incident types; its topic follows the labelling
guide (accidents and disasters 其他政务, food poisoning 食品药品, attacks 社会治安).

Splits are by **near-duplicate cluster**: texts whose character 3-gram MinHash says they
are the same message (the board holds many near-copies: one complaint posted again with an
edited body) form one cluster, and a cluster falls wholly in one split, by a hash of its
first member. test = hash bucket 0-19 (20 %), dev = 20-29 (10 %), train = the rest. Model
selection looks at dev only; `evaluate` reports on test only, and only on texts whose label
was read; the shipped model is trained on train + dev.
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
from functools import cache
from pathlib import Path

from . import labels
from .labels import Label
from .taxonomy import DATA_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SYNTHETIC_PATH = DATA_DIR / "synthetic_topics.jsonl"

SPLIT_PREFIX = 30
TEST_BUCKETS = range(0, 20)
DEV_BUCKETS = range(20, 30)

# The message board's own first-level classes: the board head learns them (for routing);
# they do not decide a topic (see LABELING.md).
TEDDY_CLASSES = ("劳动和社会保障", "教育文体", "环境保护", "卫生计生", "城乡建设", "交通运输",
                 "商贸旅游")

# THUCNews classes whose titles are 无关 for an office even unread (by reading 2,000 titles:
# sports, game and entertainment 98–100 %, stocks 98 %); weak labels, training split only.
THUC_IRRELEVANT = ("sports", "game", "entertainment", "stocks")

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
    read: bool = False  # the topic was decided by reading (data/labels), not by a mapping
    form: str = ""  # written items: headline, news, message, notice or post


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


@cache
def _read_labels() -> dict[tuple[str, int], Label]:
    """The first reading of every labelled text, read once per process."""
    first, _ = labels.first_and_second()
    return first


def _labelled(source: str, line: int, raw: str, read: dict) -> Label | None:
    """The reading of this row, if its text is still the text that was read."""
    label = read.get((source, line))
    if label is not None and label.sha1 != labels.text_sha1(raw):
        raise ValueError(f"{source}:{line}: the text changed since it was labelled")
    return label


def load_teddy(root: Path = SHARED_DATA) -> Iterator[Example]:
    """Every message that was read, with the topic it was read as (all of them, today)."""
    read = _read_labels()
    for source, line, raw, text, board in _teddy_rows(root / "tipdm2020"):
        if (example := _teddy(source, line, raw, text, board, read)) is not None:
            yield example


def _teddy_rows(base: Path) -> Iterator[tuple[str, int, str, str, str]]:
    """(source, line, text as hashed, text, board class) of every message."""
    for n, row in enumerate(_read_tsv(base / "messages_val.tsv"), start=1):
        yield "tipdm2020/messages_val.tsv", n, row["text"], row["text"], row["label"].strip()
    for name in ("messages_sample.tsv", "messages_with_replies.tsv", "messages_with_votes.tsv"):
        with (base / name).open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh, delimiter="\t"), start=1):
                raw = row["留言主题"] + "\n" + row["留言详情"]
                yield (f"tipdm2020/{name}", n, raw, raw.replace("\n", ""),
                       row.get("一级分类", "").strip())


def _teddy(source: str, line: int, raw: str, text: str, board: str,
           read: dict) -> Example | None:
    """A message with the topic it was read as; None for one nobody has read yet."""
    label = _labelled(source, line, raw, read)
    if label is None:
        return None
    return Example(f"teddy:{source.rsplit('/', 1)[1]}:{line}", _teddy_clean(text), label.label,
                   "无", "teddy", board, read=True)


def load_thucnews(root: Path = SHARED_DATA) -> Iterator[Example]:
    """Titles that were read, in our topics; of the rest only sports, game and entertainment
    titles, as 无关 (weak labels: training split only)."""
    read = _read_labels()
    base = root / "thucnews-titles"
    names = (base / "class.txt").read_text(encoding="utf-8").split()
    for n, line in enumerate((base / "dev.txt").read_text(encoding="utf-8").splitlines(), 1):
        title, _, cid = line.rpartition("\t")
        name = names[int(cid)]
        label = _labelled("thucnews-titles/dev.txt", n, title, read)
        if label is not None:
            yield Example(f"thuc-{n}", title, label.label, "无", "thucnews", name, read=True)
        elif name in THUC_IRRELEVANT:
            yield Example(f"thuc-{n}", title, "无关", "无", "thucnews", name)


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
                r["id"], r["text"], r["topic"], r["incident"], "synthetic", r["topic"], True,
                form=r.get("form", ""),
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
    """train / dev / test by near-duplicate cluster (see the module docstring)."""
    examples = list(examples)
    parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for ex, first in zip(examples, near_duplicate_firsts(examples), strict=True):
        parts[split_of(first)].append(ex)
    return parts


NEAR_DUPLICATE = 0.5  # Jaccard of character 3-grams: the same message, edited
_SHINGLE_CHARS = 400


def near_duplicate_firsts(examples: list[Example]) -> list[str]:
    """For each example, the text of the first member of its near-duplicate cluster."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=NEAR_DUPLICATE, num_perm=64)
    parent = list(range(len(examples)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, ex in enumerate(examples):
        signature = _minhash(ex.text, MinHash)
        for j in lsh.query(signature):
            a, b = root(i), root(int(j))
            parent[max(a, b)] = min(a, b)
        lsh.insert(str(i), signature)
    return [examples[root(i)].text for i in range(len(examples))]


def _minhash(text: str, minhash_type):
    key = normalized_key(text)[:_SHINGLE_CHARS]
    signature = minhash_type(num_perm=64, seed=1)
    signature.update_batch([key[i:i + 3].encode("utf-8") for i in range(max(1, len(key) - 2))])
    return signature
