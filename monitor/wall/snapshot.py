"""The service's state as the wall counts it: pure functions of events, sources and `now`.

"This month" is the calendar month in China time, as officers and their monthly reports
count it. A deadline belongs to the month it is due in; one still owed counts whatever its
month, so a miss from last month that nobody answered stays on the wall.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from monitor.collect.normalize import CHINA_TZ
from monitor.domain.events import OWED_STATES, DeadlineState, Event, EventGlance
from monitor.wall.metrics import OTHER, UNGRADED

SETTLED = (DeadlineState.MET, DeadlineState.MET_LATE, DeadlineState.MISSED)
COUNTED = frozenset({*OWED_STATES, DeadlineState.MET, DeadlineState.MET_LATE})
WINDOWS = ((0, "overdue"), (3600, "1h"), (6 * 3600, "6h"), (24 * 3600, "24h"))


@dataclass
class EventCounts:
    open: Counter = field(default_factory=Counter)  # (grade, topic) → active events
    regions: Counter = field(default_factory=Counter)  # prefecture → active events
    deadlines: Counter = field(default_factory=Counter)  # (rule, state) → deadlines
    on_time: dict[str, float] = field(default_factory=dict)  # rule → met / settled
    awaiting: Counter = field(default_factory=Counter)  # (rule, window) → events
    next_due: float = 0.0  # unix seconds of the most urgent owed deadline, 0 when none


def month_start(now: datetime) -> datetime:
    local = now.astimezone(CHINA_TZ)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def count_events(events: Iterable[Event | EventGlance], now: datetime, labels: Labels
                 ) -> EventCounts:
    """`events`: every active event and every event first seen since a month before this
    month began (deadlines due this month can start that early)."""
    counts = EventCounts()
    start = month_start(now)
    for event in {e.id: e for e in events}.values():
        if event.active:
            counts.open[labels.grade(event.severity), labels.topic(event.topic)] += 1
            counts.regions[labels.region(event.region)] += 1
            _count_awaiting(event, now, labels, counts)
        _count_deadlines(event, start, labels, counts)
    counts.on_time = on_time_ratios(counts.deadlines, labels.rules)
    return counts


def _count_deadlines(event: Event | EventGlance, start: datetime, labels: Labels,
                     counts: EventCounts) -> None:
    for d in event.deadlines:
        if d.state not in COUNTED or d.due is None:
            continue
        owed = d.state in OWED_STATES and event.active
        if d.due < start and not owed:
            continue
        rule = labels.rule(d.rule)
        counts.deadlines[rule, d.state.value] += 1
        if d.provisional and owed:
            counts.deadlines[rule, "provisional"] += 1


def _count_awaiting(event: Event | EventGlance, now: datetime, labels: Labels,
                    counts: EventCounts) -> None:
    """The event's most urgent owed deadline, in the window its time left falls in."""
    owed = [d for d in event.deadlines if d.state in OWED_STATES and d.due is not None]
    if not owed:
        return
    first = min(owed, key=lambda d: d.due)
    counts.awaiting[labels.rule(first.rule), time_left_window(first.due, now)] += 1
    due = first.due.timestamp()
    counts.next_due = min(counts.next_due, due) if counts.next_due else due


def time_left_window(due: datetime, now: datetime) -> str:
    left = (due - now).total_seconds()
    for bound, name in WINDOWS:
        if left <= bound:
            return name
    return "later"


def on_time_ratios(deadlines: Mapping[tuple[str, str], int],
                   rules: Iterable[str]) -> dict[str, float]:
    """Met in time among met, met late and missed, per rule; 1.0 while none settled (nothing
    was late)."""
    ratios = {}
    for rule in rules:
        settled = sum(deadlines.get((rule, s.value), 0) for s in SETTLED)
        met = deadlines.get((rule, DeadlineState.MET.value), 0)
        ratios[rule] = met / settled if settled else 1.0
    return ratios


@dataclass(frozen=True)
class Labels:
    """Bounded label values: anything outside the configured sets counts as 其他."""

    rules: tuple[str, ...]
    grades: frozenset[str]
    topics: frozenset[str]
    regions: frozenset[str]

    def rule(self, key: str) -> str:
        rule = key.split("@", 1)[0]  # a per-message deadline counts under its rule
        return rule if rule in self.rules else OTHER

    def grade(self, grade: str | None) -> str:
        return grade if grade in self.grades else UNGRADED

    def topic(self, topic: str) -> str:
        return topic if topic in self.topics else OTHER

    def region(self, region: str | None) -> str:
        return region if region in self.regions else OTHER
