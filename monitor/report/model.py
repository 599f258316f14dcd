"""The records of a report: what every format (XLSX, CSV, JSON, PNG) renders."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.domain.events import DeadlineState

FORMATS = ("xlsx", "csv", "json")  # what `monitor export` writes
OPEN_STATES = (DeadlineState.PENDING.value, DeadlineState.DUE_SOON.value)


@dataclass
class Outcomes:
    """Deadlines of one rule (in one group): how they ended, and how long answers took."""

    deadlines: int = 0
    events: int = 0
    met: int = 0
    met_late: int = 0
    missed: int = 0
    waived: int = 0
    open: int = 0
    on_time_rate: float | None = None  # met / (met + met late + missed)
    median_hours: float | None = None  # time to respond, met and met late
    p90_hours: float | None = None

    @classmethod
    def of(cls, rows: Iterable[dict]) -> Outcomes:
        rows = list(rows)
        out = cls(deadlines=len(rows), events=len({r["event_id"] for r in rows}))
        for r in rows:
            state = r["state"]
            if state in OPEN_STATES:
                out.open += 1
            elif state in ("met", "met_late", "missed", "waived"):
                setattr(out, state, getattr(out, state) + 1)
        decided = out.met + out.met_late + out.missed
        out.on_time_rate = round(out.met / decided, 4) if decided else None
        hours = sorted(r["seconds_to_respond"] / 3600 for r in rows
                       if r["state"] in ("met", "met_late") and r["seconds_to_respond"] is not None)
        if hours:
            out.median_hours = round(statistics.median(hours), 2)
            out.p90_hours = round(nearest_rank(hours, 0.9), 2)
        return out


def nearest_rank(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with `share` of them at or below."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class RuleLine:
    rule: str
    label: str
    outcomes: Outcomes
    group: str = ""  # the topic, grade, region or lead unit (breakdowns)


@dataclass
class MonthLine:
    month: str  # YYYY-MM
    outcomes: Outcomes  # all rules together
    by_rule: dict[str, float | None] = field(default_factory=dict)  # on-time rate per rule


@dataclass
class EventLine:
    id: str
    first_seen: str  # local time, Asia/Shanghai
    title: str
    topic: str
    severity: str
    region: str
    lead_unit: str
    status: str
    outcomes: str  # "rule: state (hours)" for each deadline
    responses: int
    first_response: str
    channels: str
    link: str


@dataclass
class OfficialLine:
    """A row of the 回应解读 section of the official statistics table."""

    label: str
    unit: str
    count: int
    event_ids: list[str]  # the events each figure comes from


@dataclass
class Report:
    period: str  # YYYY-MM, or YYYY for the year
    title: str
    note: str  # why the report is empty, when it is
    rules: list[RuleLine]
    breakdowns: dict[str, list[RuleLine]]  # dimension → lines
    months: list[MonthLine]
    events: list[EventLine]
    official: list[OfficialLine]
    durations_hours: dict[str, list[float]]  # rule → times to respond (for the picture)

    @property
    def empty(self) -> bool:
        return not self.events and not any(r.outcomes.deadlines for r in self.rules)
