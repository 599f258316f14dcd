"""The label sets and grading thresholds, read from data/taxonomy.yaml.

Kept as data so a deployment can change labels or thresholds without touching
code; everything else in the package asks this module instead of hard-coding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PATH = DATA_DIR / "taxonomy.yaml"
# libyaml's safe loader when PyYAML was built with it: the pure-Python one took 0.2 s of
# the model's load for the gazetteer and this file.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CRITERIA = ("deaths", "serious_injuries", "direct_loss_wan")


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[str, ...]
    incidents: tuple[str, ...]
    severities: tuple[str, ...]  # most severe first
    no_incident: str
    irrelevant_topic: str
    # grade -> criterion -> lower bound; grades absent here (一般) are the floor
    thresholds: dict[str, dict[str, float]]
    # plan -> figure -> grade -> lower bound (the earthquake and food-safety plans)
    earthquake: dict[str, dict[str, float]]
    food_safety: dict[str, dict[str, float]]
    low_confidence: dict[str, float]

    @property
    def floor_grade(self) -> str:
        return self.severities[-1]

    def rank(self, grade: str) -> int:
        """0 for the most severe grade; larger is milder."""
        return self.severities.index(grade)


def _check(raw: dict, path: Path) -> None:
    for key in (
        "topics",
        "incidents",
        "severities",
        "severity_thresholds",
        "earthquake",
        "food_safety",
    ):
        if key not in raw:
            raise ValueError(f"{path}: missing key {key!r}")
    if raw["no_incident"] not in raw["incidents"]:
        raise ValueError(f"{path}: no_incident must be one of incidents")
    if raw["irrelevant_topic"] not in raw["topics"]:
        raise ValueError(f"{path}: irrelevant_topic must be one of topics")
    for grade, crit in raw["severity_thresholds"].items():
        if grade not in raw["severities"]:
            raise ValueError(f"{path}: unknown grade {grade!r} in severity_thresholds")
        unknown = set(crit) - set(CRITERIA)
        if unknown:
            raise ValueError(f"{path}: unknown criteria {sorted(unknown)} for {grade}")


def _bounds(plan: dict) -> dict[str, dict[str, float]]:
    return {figure: {g: float(v) for g, v in rows.items()} for figure, rows in plan.items()}


def load(path: Path | str = DEFAULT_PATH) -> Taxonomy:
    path = Path(path)
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    _check(raw, path)
    return Taxonomy(
        topics=tuple(raw["topics"]),
        incidents=tuple(raw["incidents"]),
        severities=tuple(raw["severities"]),
        no_incident=raw["no_incident"],
        irrelevant_topic=raw["irrelevant_topic"],
        thresholds={
            g: {k: float(v) for k, v in c.items()} for g, c in raw["severity_thresholds"].items()
        },
        earthquake=_bounds(raw.get("earthquake", {})),
        food_safety=_bounds(raw.get("food_safety", {})),
        low_confidence={k: float(v) for k, v in raw.get("low_confidence", {}).items()},
    )


@lru_cache(maxsize=1)
def default() -> Taxonomy:
    return load(DEFAULT_PATH)
