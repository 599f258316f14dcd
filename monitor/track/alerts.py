"""Event changes → alert intents for the notifier, each with a key that is stable for the
change it reports (a replayed or retried change yields the same key)."""

from __future__ import annotations

from datetime import datetime

from monitor.domain.alerts import AlertIntent, AlertKind, DeadlineView
from monitor.domain.events import Deadline, DeadlineState, Event
from monitor.track.deadlines import Transition


def _base(event: Event, kind: AlertKind, key: str, at: datetime, **extra) -> AlertIntent:
    return AlertIntent(
        key=key, kind=kind, at=at, event_id=event.id, title=event.title, topic=event.topic,
        incident=None if event.incident == "无" else event.incident, severity=event.severity,
        severity_evidence=event.severity_evidence, region=event.region, county=event.county,
        first_seen=event.first_seen,
        deadlines=tuple(DeadlineView(rule=d.key, label=_label(d, event), due=d.due,
                                     state=d.state.value,
                                     provisional_reason=d.provisional_reason)
                        for d in event.deadlines if d.due is not None),
        **extra)  # the link is the notifier's: {public_url}/events/<id> from Settings


def _since(deadline: Deadline) -> str:
    if deadline.subject is not None:
        return "收到留言"
    return "上次发布" if deadline.rule == "follow_up" else "首次发现"


def _label(deadline: Deadline, event: Event) -> str:
    """A per-message deadline names its message, as officers handle them one by one."""
    if deadline.subject is None:
        return deadline.label
    title = next((i.title for i in event.items if i.id == deadline.subject), "")
    return f"{deadline.label}：{title[:24]}" if title else deadline.label


def new_event(event: Event, at: datetime) -> AlertIntent:
    return _base(event, AlertKind.NEW_EVENT, f"{event.id}:new_event", at)


def _times_lowered(event: Event) -> int:
    return sum(1 for h in event.history if h.what == "severity_lowered")


def severity_raised(event: Event, previous: str | None, at: datetime) -> AlertIntent:
    # A raise after the grade was lowered again is news again (the key of the first is kept
    # as it was, so alerts already in an outbox are still recognised).
    lowered = _times_lowered(event)
    again = f":{lowered}" if lowered else ""
    return _base(event, AlertKind.SEVERITY_RAISED, f"{event.id}:severity:{event.severity}{again}",
                 at, previous_severity=previous)


def severity_lowered(event: Event, previous: str | None, why: str,
                     at: datetime) -> AlertIntent:
    return _base(event, AlertKind.SEVERITY_LOWERED,
                 f"{event.id}:severity_lowered:{_times_lowered(event)}:{event.severity or ''}", at,
                 previous_severity=previous, lowered_why=why)


def merged(keep: Event, gone: Event, why: str, at: datetime) -> AlertIntent:
    return _base(keep, AlertKind.EVENTS_MERGED, f"{keep.id}:merged:{gone.id}", at,
                 merged_title=gone.title, merged_why=why)


def for_transition(event: Event, change: Transition, at: datetime) -> AlertIntent | None:
    due = change.due
    due_key = int(due.timestamp()) if due else 0
    if change.after is DeadlineState.DUE_SOON:
        return _base(event, AlertKind.DEADLINE_DUE_SOON,
                     f"{event.id}:due_soon:{change.rule}:{change.stage}:{due_key}", at,
                     rule=change.rule, due=due)
    if change.after is DeadlineState.MISSED:
        return _base(event, AlertKind.DEADLINE_MISSED,
                     f"{event.id}:missed:{change.rule}:{due_key}", at, rule=change.rule, due=due)
    if change.after in (DeadlineState.MET, DeadlineState.MET_LATE) and change.response:
        r = change.response
        deadline = next(d for d in event.deadlines if d.key == change.rule)
        return _base(event, AlertKind.RESPONSE_DETECTED,
                     f"{event.id}:met:{change.rule}:{r.id}", at, rule=change.rule, due=due,
                     response_link=r.link, response_channel=r.channel.value,
                     response_seconds=event.seconds_to_respond(deadline),
                     response_since=_since(deadline))
    return None
