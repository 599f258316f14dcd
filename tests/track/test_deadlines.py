"""The deadline policy as table tests with a fixed clock: each boundary met just before and
missed just after, working days across the Spring Festival, grades rising, late responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.domain.events import (
    DeadlineState as S,
)
from monitor.domain.events import (
    Event,
    EventKind,
    EventStatus,
    Response,
    ResponseChannel,
)
from monitor.track.deadlines import evaluate
from monitor.track.policy import default_policy
from monitor.track.workdays import CHINA_TZ, add_working_days

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
POLICY = default_policy()
SECOND = timedelta(seconds=1)


def event(severity=None, kind=EventKind.OPINION, responses=(), first_seen=T0, **extra) -> Event:
    return Event(id="e1", title="t", topic="社会治安", incident="事故灾难", severity=severity,
                 kind=kind, first_seen=first_seen, last_seen=first_seen, needs_response=True,
                 responses=list(responses), **extra)


def response(at: datetime, channel=ResponseChannel.OTHER, rid="r1") -> Response:
    return Response(id=rid, at=at, channel=channel)


def states(ev: Event, now: datetime) -> dict[str, S]:
    return {d.rule: d.state for d in evaluate(ev, POLICY, now).deadlines}


@pytest.mark.parametrize(
    ("severity", "rule", "window", "channel"),
    [
        ("重大", "authoritative_info_5h", timedelta(hours=5), ResponseChannel.WEIBO_WECHAT),
        ("特别重大", "authoritative_info_5h", timedelta(hours=5), ResponseChannel.OTHER),
        ("重大", "press_conference_24h", timedelta(hours=24), ResponseChannel.PRESS_CONFERENCE),
        ("较大", "response_48h", timedelta(hours=48), ResponseChannel.OTHER),
        (None, "response_48h", timedelta(hours=48), ResponseChannel.POLICY_INTERPRETATION),
    ],
)
@pytest.mark.parametrize(
    ("answered_at", "now_after", "expected"),
    [
        (-SECOND, SECOND, S.MET),  # answered a second before the boundary
        (timedelta(0), SECOND, S.MET),  # exactly at the boundary still counts
        (None, timedelta(0), S.MISSED),  # nothing by the boundary
        (SECOND, 2 * SECOND, S.MET_LATE),  # a second after it: late
        (None, -SECOND, S.DUE_SOON),  # a second before it, nothing yet: still running
    ],
    ids=["before", "at", "missed", "late", "running"],
)
def test_each_deadline_around_its_boundary(severity, rule, window, channel, answered_at,
                                           now_after, expected):
    due = T0 + window
    responses = [response(due + answered_at, channel)] if answered_at is not None else []
    assert states(event(severity, responses=responses), due + now_after)[rule] is expected


def test_press_conference_rule_is_met_only_by_a_press_conference():
    answered = event("重大", responses=[response(T0 + timedelta(hours=1), ResponseChannel.OTHER)])
    result = states(answered, T0 + timedelta(hours=25))
    assert result["authoritative_info_5h"] is S.MET
    assert result["press_conference_24h"] is S.MISSED


def test_major_events_get_5h_and_24h_and_others_48h():
    assert set(states(event("重大"), T0)) == {"authoritative_info_5h", "press_conference_24h"}
    assert set(states(event("较大"), T0)) == {"response_48h"}
    assert set(states(event(None, kind=EventKind.MESSAGE), T0)) == {"message_2wd"}
    assert set(states(event(None, kind=EventKind.POLICY), T0)) == {"policy_interpretation_3wd"}
    assert states(event("重大").model_copy(update={"needs_response": False}), T0) == {}


@pytest.mark.parametrize(("elapsed_hours", "state", "stage"),
                         [(0, S.PENDING, 0), (23.9, S.PENDING, 0), (24, S.DUE_SOON, 1),
                          (38.3, S.DUE_SOON, 1), (38.4, S.DUE_SOON, 2), (47.99, S.DUE_SOON, 2),
                          (48, S.MISSED, 2)])
def test_due_soon_at_half_and_four_fifths(elapsed_hours, state, stage):
    [deadline] = evaluate(event(None), POLICY, T0 + timedelta(hours=elapsed_hours)).deadlines
    assert (deadline.state, deadline.stage) == (state, stage)


def test_next_check_is_the_next_boundary():
    ev = event(None)
    assert evaluate(ev, POLICY, T0).next_check == T0 + timedelta(hours=24)
    assert evaluate(ev, POLICY, T0 + timedelta(hours=30)).next_check == \
        T0 + timedelta(hours=48 * 0.8)
    assert evaluate(ev, POLICY, T0 + timedelta(hours=49)).next_check is None


def test_evaluating_twice_fires_each_transition_once():
    ev = event(None)
    now = T0 + timedelta(hours=25)
    first = evaluate(ev, POLICY, now)
    assert [(t.rule, t.after, t.stage) for t in first.transitions] == \
        [("response_48h", S.DUE_SOON, 1)]
    again = evaluate(ev.model_copy(update={"deadlines": first.deadlines}), POLICY, now)
    assert again.transitions == []


def test_grade_rising_mid_event_applies_strict_rules_from_first_seen():
    ev = event("一般")
    at_3h = evaluate(ev, POLICY, T0 + timedelta(hours=3))
    ev = ev.model_copy(update={"deadlines": at_3h.deadlines, "severity": "重大"})
    at_6h = evaluate(ev, POLICY, T0 + timedelta(hours=6))  # revised casualty count: 重大
    by_rule = {d.rule: d for d in at_6h.deadlines}
    assert by_rule["authoritative_info_5h"].state is S.MISSED  # due at first seen + 5 h
    assert by_rule["authoritative_info_5h"].due == T0 + timedelta(hours=5)
    assert by_rule["press_conference_24h"].state is S.PENDING  # 6 h of 24: not yet half
    assert by_rule["response_48h"].state is S.SUPERSEDED
    changes = {(t.rule, t.before, t.after) for t in at_6h.transitions}
    assert ("response_48h", S.PENDING, S.SUPERSEDED) in changes
    assert ("authoritative_info_5h", None, S.MISSED) in changes


def test_a_response_after_a_miss_turns_it_into_met_late_with_the_time_kept():
    ev = event("重大")
    missed = evaluate(ev, POLICY, T0 + timedelta(hours=6))
    late = response(T0 + timedelta(hours=7), ResponseChannel.WEIBO_WECHAT)
    ev = ev.model_copy(update={"deadlines": missed.deadlines, "responses": [late]})
    result = evaluate(ev, POLICY, T0 + timedelta(hours=7))
    five = next(d for d in result.deadlines if d.rule == "authoritative_info_5h")
    assert (five.state, five.met_at) == (S.MET_LATE, late.at)
    [change] = [t for t in result.transitions if t.rule == "authoritative_info_5h"]
    assert (change.before, change.after, change.response) == (S.MISSED, S.MET_LATE, late)


def test_unlinked_responses_do_not_count():
    r = response(T0 + timedelta(hours=1)).model_copy(update={"linked": False})
    assert states(event(None, responses=[r]), T0 + timedelta(hours=2))["response_48h"] is \
        S.PENDING


def test_no_response_needed_waives_running_deadlines():
    ev = event(None, status=EventStatus.NO_RESPONSE_NEEDED)
    assert states(ev, T0 + timedelta(hours=1)) == {"response_48h": S.WAIVED}


def test_follow_up_cadence_after_the_first_response():
    policy = default_policy().model_copy(
        update={"follow_up": default_policy().follow_up.model_copy(update={"enabled": True})})
    ev = event("重大", responses=[response(T0 + timedelta(hours=2))])
    result = evaluate(ev, policy, T0 + timedelta(hours=27))
    follow = next(d for d in result.deadlines if d.rule == "follow_up")
    assert (follow.state, follow.due) == (S.MISSED, T0 + timedelta(hours=26))


# ── working days ─────────────────────────────────────────────────────────────────────────


def beijing(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        # Monday → end of Wednesday.
        (beijing(2026, 11, 23, 10, 0), 2, beijing(2026, 11, 26, 0, 0)),
        # Friday → Monday and Tuesday count.
        (beijing(2026, 11, 20, 16, 0), 2, beijing(2026, 11, 25, 0, 0)),
        # Friday 13 Feb 2026 before the Spring Festival: Saturday 14 Feb is a swapped working
        # day, then 15–23 Feb are holidays, so the second working day is Tuesday 24 Feb.
        (beijing(2026, 2, 13, 9, 0), 2, beijing(2026, 2, 25, 0, 0)),
        # Received during the holiday: counting starts after it.
        (beijing(2026, 2, 17, 9, 0), 3, beijing(2026, 2, 27, 0, 0)),
        # National Day 2026: 1–7 Oct off, then Thu 8, Fri 9 and the swapped Saturday 10 Oct.
        (beijing(2026, 9, 30, 12, 0), 3, beijing(2026, 10, 11, 0, 0)),
    ],
    ids=["weekdays", "weekend", "spring-festival-swapped-saturday", "inside-holiday",
         "national-day"],
)
def test_working_days_follow_the_official_calendar(received, days, due):
    assert add_working_days(received, days).due == due


def test_message_rule_across_the_spring_festival():
    ev = event(None, kind=EventKind.MESSAGE, first_seen=beijing(2026, 2, 13, 9, 0))
    [deadline] = evaluate(ev, POLICY, beijing(2026, 2, 20, 12, 0)).deadlines
    assert deadline.due == beijing(2026, 2, 25, 0, 0)
    assert deadline.state is S.DUE_SOON


def test_a_year_the_calendar_does_not_know_is_counted_monday_to_friday_and_says_so():
    # Sat 1 Mar 2031 → Mon 3, Tue 4: due Wed 5 Mar 00:00, provisional.
    counted = add_working_days(beijing(2031, 3, 1, 9, 0), 2)
    assert counted.due == beijing(2031, 3, 5, 0, 0) and counted.guessed_years == (2031,)
    ev = event(None, kind=EventKind.MESSAGE, first_seen=beijing(2031, 3, 1, 9, 0))
    [deadline] = evaluate(ev, POLICY, beijing(2031, 3, 1, 10, 0)).deadlines
    assert deadline.due == beijing(2031, 3, 5, 0, 0) and deadline.provisional
    assert deadline.provisional_reason == "暂按周一至周五（扣除法定节假日）计算，2031年调休安排未录入"


def test_a_published_year_entered_in_the_policy_is_used():
    from monitor.track.workdays import PublishedYear

    # An invented schedule for 2031 (the package has none): Mon 3 Mar off, Sat 8 Mar worked.
    published = {2031: PublishedYear(holidays=(beijing(2031, 3, 3, 0, 0).date(),),
                                     workdays=(beijing(2031, 3, 8, 0, 0).date(),))}
    # Fri 28 Feb → Tue 4 Mar (Mon 3 is a holiday) and Wed 5 Mar.
    assert add_working_days(beijing(2031, 2, 28, 9, 0), 2, published).due == \
        beijing(2031, 3, 6, 0, 0)
    # Thu 6 Mar → Fri 7, the swapped Saturday 8 and Mon 10.
    assert add_working_days(beijing(2031, 3, 6, 9, 0), 3, published).due == \
        beijing(2031, 3, 11, 0, 0)
    policy = default_policy().model_copy(update={"calendar": published})
    ev = event(None, kind=EventKind.MESSAGE, first_seen=beijing(2031, 2, 28, 9, 0))
    [deadline] = evaluate(ev, policy, beijing(2031, 2, 28, 10, 0)).deadlines
    assert deadline.due == beijing(2031, 3, 6, 0, 0) and not deadline.provisional
