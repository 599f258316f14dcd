"""Typed results of classify() and the JSON-lines contract.

The JSON line written per item is a stable contract (evaluation outside the
test suite reads it): id, topic, topic_p, incident, incident_p, severity,
severity_evidence, region. Nothing is renamed or removed without a version bump.
"""

from __future__ import annotations

from dataclasses import dataclass

from .gazetteer import RegionMatch
from .severity import SeverityVerdict

JSONL_KEYS = (
    "id",
    "topic",
    "topic_p",
    "incident",
    "incident_p",
    "severity",
    "severity_evidence",
    "region",
)


@dataclass(frozen=True)
class Prediction:
    label: str
    p: float  # calibrated probability of `label`
    runner_up: str
    runner_up_p: float
    terms: tuple[tuple[str, float], ...]  # the terms that pushed `label`, strongest first
    low_confidence: bool  # p under the taxonomy's threshold: read as a guess

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "p": round(self.p, 4),
            "runner_up": self.runner_up,
            "runner_up_p": round(self.runner_up_p, 4),
            "terms": [[t, round(w, 4)] for t, w in self.terms],
            "low_confidence": self.low_confidence,
        }


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else round(float(v), 4)


@dataclass(frozen=True)
class Classification:
    topic: Prediction
    incident: Prediction
    severity: SeverityVerdict
    region: RegionMatch | None
    board: Prediction | None  # message-board class (Teddy Cup 7), for routing
    model_version: str

    def to_json(self, id: str | int | None = None) -> dict:
        """One line of the JSON-lines contract (see module docstring)."""
        return {
            "id": id,
            "topic": self.topic.label,
            "topic_p": round(self.topic.p, 4),
            "incident": self.incident.label,
            "incident_p": round(self.incident.p, 4),
            "severity": self.severity.grade,
            "severity_evidence": {k: _number(v) for k, v in self.severity.evidence.items()},
            "region": self.region.to_json() if self.region else None,
        }

    def to_dict(self) -> dict:
        """Everything, for the readable CLI and debugging."""
        return {
            "topic": self.topic.to_json(),
            "incident": self.incident.to_json(),
            "severity": self.severity.to_json() | {"basis": self.severity.basis},
            "region": (self.region.to_json() | {"matched": list(self.region.matched)})
            if self.region
            else None,
            "board": self.board.to_json() if self.board else None,
            "model_version": self.model_version,
        }
