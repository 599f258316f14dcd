"""The deadline clock, as a pure function: (event, policy, now) → deadlines and transitions.

Nothing here reads a clock or Redis. The worker calls `evaluate` when an item, a response
or an officer changes an event; the timer calls it when a boundary passes. Evaluating twice
at the same `now` yields no new transition, which is what makes timers safe to re-fire.

Clocks start at the event's first seen time (the earliest publication among its items).
When the grade rises to 重大, the 5 h / 24 h rules apply from first seen — possibly already
overdue — and the 48 h rule is superseded; both show in the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.domain.events import (
    Deadline,
    DeadlineState,
    Event,
    EventKind,
    EventStatus,
    Response,
)
from monitor.track.policy import FollowUp, Policy, Rule
from monitor.track.workdays import WorkingDue, add_working_days

FINAL = frozenset({DeadlineState.MET, DeadlineState.MET_LATE})
CLOSED_OUT = frozenset({DeadlineState.SUPERSEDED, DeadlineState.WAIVED})
FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class Transition:
    rule: str  # the deadline's key: the rule id, with @message-id for per-message rules
    label: str
    before: DeadlineState | None  # None: the rule newly applies
    after: DeadlineState
    stage: int
    due: datetime | None
    response: Response | None = None
    before_due: datetime | None = None
    before_stage: int = 0
    provisional_reason: str | None = None  # the due time is counted Monday–Friday

    @property
    def only_due_changed(self) -> bool:
        """The same state and warning as before, with a recomputed due time (a calendar year
        entered): worth a history entry, not an alert."""
        return self.before is self.after and self.before_stage == self.stage


@dataclass(frozen=True, slots=True)
class Evaluation:
    deadlines: list[Deadline]
    transitions: list[Transition]
    next_check: datetime | None  # when a boundary next passes, for the timer


def evaluate(event: Event, policy: Policy, now: datetime) -> Evaluation:
    previous = {d.key: d for d in event.deadlines}
    current = [_keep_warnings(d, previous.get(d.key)) for d in _rule_deadlines(event, policy, now)]
    if (follow_up := _follow_up(event, policy.follow_up, policy, now)) is not None:
        current.append(follow_up)
    current += _no_longer_applying(previous, {d.key for d in current}, event)
    if event.status is EventStatus.NO_RESPONSE_NEEDED:
        current = [_waived(d) for d in current]
    responses = {r.id: r for r in event.responses}
    transitions = [t for d in current
                   if (t := _transition(previous.get(d.key), d, responses)) is not None]
    return Evaluation(current, transitions, _next_check(current, event, policy, now))


def _rule_deadlines(event: Event, policy: Policy, now: datetime) -> list[Deadline]:
    """One deadline per event-level rule; one per message for per-message rules."""
    deadlines = []
    for rule in applicable_rules(event, policy):
        messages = [m for m in event.items if m.message] if rule.per == "message" else []
        if messages:
            deadlines += [_deadline(rule, event, policy, now, start=m.published, subject=m.id)
                          for m in messages]
        elif rule.per == "event" or event.kind is EventKind.MESSAGE:
            # A message event saved before messages were flagged: one clock for the event.
            deadlines.append(_deadline(rule, event, policy, now, start=event.first_seen))
    return deadlines


def applicable_rules(event: Event, policy: Policy) -> list[Rule]:
    """Event-level rules when the event needs a response; per-message rules whenever it
    holds messages (each message is owed its handling)."""
    if event.status is EventStatus.MERGED:  # its clocks run in the event it merged into
        return []
    return [r for r in policy.enabled_rules if _applies(r, event)
            and (event.needs_response or r.per == "message")]


def _applies(rule: Rule, event: Event) -> bool:
    a = rule.applies
    if event.kind not in a.kinds:
        return False
    if a.severities is not None and event.severity not in a.severities:
        return False
    return event.severity not in a.not_severities


def due_time(rule: Rule, start: datetime, policy: Policy) -> WorkingDue:
    """The rule's due time; working-day rules may be provisional (year not known)."""
    if rule.working_days is not None:
        return add_working_days(start, rule.working_days, policy.calendar)
    assert rule.within is not None
    return WorkingDue(start + timedelta(seconds=rule.within))


def _deadline(rule: Rule, event: Event, policy: Policy, now: datetime, start: datetime,
              subject: str | None = None) -> Deadline:
    due = due_time(rule, start, policy)
    deadline = _settle(rule, _qualifying(rule, event, subject), start, due.due, policy, now)
    update: dict = {"subject": subject, "start": start if subject else None}
    if due.provisional_reason is not None:
        update |= {"provisional": True, "provisional_reason": due.provisional_reason}
    return deadline.model_copy(update=update)


def _qualifying(rule: Rule, event: Event, subject: str | None) -> list[Response]:
    """Responses that can meet the rule, earliest first: a per-message deadline is met only
    by the reply to its message."""
    return sorted((r for r in event.linked_responses if rule.accepts(r.channel)
                   and (subject is None or subject in r.answers)), key=lambda r: r.at)


def _keep_warnings(deadline: Deadline, before: Deadline | None) -> Deadline:
    """A due time that moves later (a calendar year entered) does not take back the warnings
    already sent: the stage never falls while the same clock runs."""
    running = (DeadlineState.PENDING, DeadlineState.DUE_SOON)
    if before is None or before.state not in running or deadline.state not in running \
            or before.stage <= deadline.stage:
        return deadline
    return deadline.model_copy(update={"stage": before.stage, "state": DeadlineState.DUE_SOON})


def _settle(rule: Rule, qualifying: list[Response], start: datetime, due: datetime,
            policy: Policy, now: datetime) -> Deadline:
    first = qualifying[0] if qualifying else None
    if first is not None and first.at <= due:
        return _closed(rule, due, DeadlineState.MET, first)
    if now >= due:
        if first is not None:
            return _closed(rule, due, DeadlineState.MET_LATE, first)
        return Deadline(rule=rule.id, label=rule.label, due=due, state=DeadlineState.MISSED,
                        stage=len(policy.due_soon_at))
    return _running(rule.id, rule.label, start, due, policy, now)


def _running(rule_id: str, label: str, start: datetime, due: datetime, policy: Policy,
             now: datetime) -> Deadline:
    stage = sum(1 for t in _stage_times(start, due, policy) if now >= t)
    state = DeadlineState.DUE_SOON if stage else DeadlineState.PENDING
    return Deadline(rule=rule_id, label=label, due=due, state=state, stage=stage)


def _closed(rule: Rule, due: datetime, state: DeadlineState, response: Response) -> Deadline:
    return Deadline(rule=rule.id, label=rule.label, due=due, state=state, met_at=response.at,
                    response_id=response.id)


def _follow_up(event: Event, follow: FollowUp, policy: Policy, now: datetime) -> Deadline | None:
    """While a major event is active, each response starts the clock for the next one."""
    responses = event.linked_responses
    if not (follow.enabled and event.needs_response and event.active and responses
            and event.severity in follow.severities):
        return None
    last = max(r.at for r in responses)
    due = last + timedelta(seconds=follow.every)
    if now >= due:
        return Deadline(rule=FOLLOW_UP, label=follow.label, due=due,
                        state=DeadlineState.MISSED, stage=len(policy.due_soon_at))
    return _running(FOLLOW_UP, follow.label, last, due, policy, now)


def _no_longer_applying(previous: dict[str, Deadline], current: set[str],
                        event: Event) -> list[Deadline]:
    """Rules that applied before and no longer do keep their record. When no response is
    needed any more, a running clock is waived and a final state stays. Otherwise the grade
    changed (or the event merged into another): the rule is superseded whatever its state —
    a 48 h rule met before the toll made the event 重大 is not a 48 h outcome, so the record
    does not depend on the order the reports arrived in (met_at is kept)."""
    kept = []
    waive = not event.needs_response or event.status is EventStatus.NO_RESPONSE_NEEDED
    for key, old in previous.items():
        if key in current or old.state in CLOSED_OUT:
            kept += [] if key in current else [old]
        elif waive:
            running = old.state not in (*FINAL, DeadlineState.MISSED)
            kept.append(old.model_copy(update={"state": DeadlineState.WAIVED}) if running
                        else old)
        else:
            kept.append(old.model_copy(update={"state": DeadlineState.SUPERSEDED}))
    return kept


def _waived(deadline: Deadline) -> Deadline:
    if deadline.state in (DeadlineState.PENDING, DeadlineState.DUE_SOON):
        return deadline.model_copy(update={"state": DeadlineState.WAIVED})
    return deadline


def _transition(before: Deadline | None, after: Deadline,
                responses: dict[str, Response]) -> Transition | None:
    if before is not None and _settled_as(before) == _settled_as(after):
        return None
    response = responses.get(after.response_id) if after.response_id else None
    return Transition(after.key, after.label, before.state if before else None, after.state,
                      after.stage, after.due, response,
                      before_due=before.due if before else None,
                      before_stage=before.stage if before else 0,
                      provisional_reason=after.provisional_reason)


def _settled_as(d: Deadline) -> tuple:
    return d.state, d.stage, d.response_id, d.due, d.provisional


def _stage_times(start: datetime, due: datetime, policy: Policy) -> list[datetime]:
    window = due - start
    return [start + window * fraction for fraction in policy.due_soon_at]


def _next_check(deadlines: list[Deadline], event: Event, policy: Policy,
                now: datetime) -> datetime | None:
    """The next boundary (a due-soon stage or a due time) of any running deadline."""
    if not event.active:
        return None
    upcoming = []
    for d in deadlines:
        if d.state not in (DeadlineState.PENDING, DeadlineState.DUE_SOON) or d.due is None:
            continue
        start = _start_of(d, event)
        upcoming += [t for t in (*_stage_times(start, d.due, policy), d.due) if t > now]
    return min(upcoming, default=None)


def _start_of(deadline: Deadline, event: Event) -> datetime:
    if deadline.rule == FOLLOW_UP:
        return max(r.at for r in event.linked_responses)
    return deadline.start or event.first_seen
