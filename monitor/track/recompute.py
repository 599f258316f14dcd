"""Provisional due times made right once a year's official calendar is known.

A working-day deadline that runs into a year with no known schedule is counted Monday–Friday
and marked provisional (`workdays.py`). When the year is entered under `calendar:` in
tracking.yaml, or a newer chinesecalendar knows it, every open event holding such a deadline
is re-run through the deadline clock — at start-up and by `monitor recompute-deadlines` — and
each changed due time gets a history entry. The same pass counts what is still provisional,
for the metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from monitor.domain.events import Event
from monitor.store.events import Conflict, EventStore
from monitor.track.policy import Policy
from monitor.track.tracker import Tracker
from monitor.track.workdays import WorkCalendar

log = structlog.get_logger("monitor.track.recompute")

LOOK_AHEAD = timedelta(days=60)  # warn while deadlines this far ahead may reach an unknown year
BATCH = 200
WHO = "calendar"


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    events_checked: int  # active events holding a provisional (or missing) due time
    due_times_changed: int
    still_provisional: int  # deadlines still counted Monday–Friday afterwards


async def recompute_provisional(store: EventStore, policy: Policy, now: datetime,
                                write: bool = True) -> RecomputeResult:
    """Re-run the clock on every active event with a provisional deadline; `write=False`
    only counts (for the metrics)."""
    tracker = Tracker(policy, index=None, who=WHO)  # finish() needs no index
    checked = changed = provisional = 0
    async for event in _active_events(store):
        if not any(d.needs_recompute for d in event.deadlines):
            continue
        checked += 1
        if write:
            event, moved = await _recompute_one(store, tracker, event, now)
            changed += moved
        provisional += sum(1 for d in event.deadlines if d.provisional)
    return RecomputeResult(checked, changed, provisional)


async def _active_events(store: EventStore) -> AsyncIterator[Event]:
    ids = await store.active_ids(0)
    for start in range(0, len(ids), BATCH):
        for event in await store.load_many(ids[start:start + BATCH]):
            yield event


async def _recompute_one(store: EventStore, tracker: Tracker, event: Event,
                         now: datetime) -> tuple[Event, int]:
    for _ in range(5):
        before, dues = len(event.history), {d.key: d.due for d in event.deadlines}
        change = tracker.finish(event, now, event.version)
        try:
            await store.save(change)
        except Conflict:
            event = await store.load(event.id) or event
            continue
        for entry in change.event.history[before:]:
            log.info("deadline_recomputed", event_id=event.id, what=entry.what, why=entry.why)
        moved = sum(1 for d in change.event.deadlines if d.key in dues and d.due != dues[d.key])
        return change.event, moved
    log.error("deadline_not_recomputed", event_id=event.id, hint="event kept changing; "
              "run `monitor recompute-deadlines` again")
    return event, 0


def calendar_runs_out(policy: Policy, now: datetime) -> list[int]:
    """The years nobody entered that deadlines within LOOK_AHEAD may fall in."""
    return WorkCalendar(policy.calendar).unknown_years(now.date(), (now + LOOK_AHEAD).date())


def warn_if_calendar_runs_out(policy: Policy, now: datetime) -> list[int]:
    """One warning line while deadlines within LOOK_AHEAD may fall in an unknown year."""
    if years := calendar_runs_out(policy, now):
        log.warning("calendar_year_unknown", years=years,
                    known_until=WorkCalendar(policy.calendar).known_until_year(),
                    consequence="working-day deadlines in these years are counted Monday–Friday "
                                "less the statutory holidays, without the swapped days (调休), "
                                "and marked provisional",
                    fix="enter the State Council's published schedule under 'calendar:' in "
                        "tracking.yaml (or update chinesecalendar), then restart or run "
                        "`monitor recompute-deadlines`")
    return years
