"""The wall's counting rules, as pure functions: what "this month" holds, the on-time
ratio, the time-left windows and when a source counts as silent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.domain.events import Deadline, DeadlineState, Event, EventStatus
from monitor.wall.snapshot import (
    Labels,
    count_events,
    month_start,
    on_time_ratios,
    time_left_window,
)

NOW = datetime.fromisoformat("2026-12-03T10:00:00+08:00")
LABELS = Labels(rules=("response_48h", "authoritative_info_5h"), grades=frozenset({"重大"}),
                topics=frozenset({"生态环境"}), regions=frozenset({"昆明市"}))


def event(n: int, *deadlines: tuple[str, DeadlineState, datetime],
          status: EventStatus = EventStatus.OPEN, **fields) -> Event:
    return Event(id=f"ev{n}", title="t", topic=fields.get("topic", "生态环境"), incident="无",
                 severity=fields.get("severity"), region=fields.get("region"),
                 first_seen=NOW - timedelta(days=3), last_seen=NOW, status=status,
                 deadlines=[Deadline(rule=r, label=r, due=due, state=s)
                            for r, s, due in deadlines])


def test_month_starts_at_midnight_china_time():
    assert month_start(datetime.fromisoformat("2026-11-30T17:00:00+00:00")).isoformat() == \
        "2026-12-01T00:00:00+08:00"


def test_last_months_outcomes_drop_out_but_an_unanswered_miss_stays():
    last_month = NOW - timedelta(days=5)
    counts = count_events([
        event(1, ("response_48h", DeadlineState.MET, last_month), status=EventStatus.CLOSED),
        event(2, ("response_48h", DeadlineState.MISSED, last_month)),  # still owed
        event(3, ("response_48h", DeadlineState.MET_LATE, NOW - timedelta(days=1)),
              status=EventStatus.CLOSED),
        event(4, ("response_48h", DeadlineState.MET, NOW - timedelta(hours=1)),
              status=EventStatus.CLOSED),
    ], NOW, LABELS)
    assert counts.deadlines == {("response_48h", "missed"): 1, ("response_48h", "met_late"): 1,
                                ("response_48h", "met"): 1}
    assert counts.on_time["response_48h"] == pytest.approx(1 / 3)
    assert counts.on_time["authoritative_info_5h"] == 1.0  # nothing settled: nothing late


def test_open_events_by_bounded_labels_and_their_most_urgent_deadline():
    counts = count_events([
        event(1, ("authoritative_info_5h", DeadlineState.PENDING, NOW + timedelta(minutes=30)),
              ("response_48h@msg1", DeadlineState.PENDING, NOW + timedelta(hours=30)),
              severity="重大", region="昆明市"),
        event(2, ("response_48h", DeadlineState.DUE_SOON, NOW + timedelta(hours=5)),
              topic="乱七八糟", region="火星"),
        event(3, status=EventStatus.CLOSED),
    ], NOW, LABELS)
    assert counts.open == {("重大", "生态环境"): 1, ("未定级", "其他"): 1}
    assert counts.regions == {"昆明市": 1, "其他": 1}
    assert counts.awaiting == {("authoritative_info_5h", "1h"): 1, ("response_48h", "6h"): 1}
    assert counts.next_due == (NOW + timedelta(minutes=30)).timestamp()
    assert counts.deadlines[("response_48h", "pending")] == 1  # a per-message key counts too


@pytest.mark.parametrize("left, window", [
    (-1, "overdue"), (0, "overdue"), (1, "1h"), (3600, "1h"), (3601, "6h"),
    (6 * 3600 + 1, "24h"), (24 * 3600 + 1, "later")])
def test_time_left_windows(left, window):
    assert time_left_window(NOW + timedelta(seconds=left), NOW) == window


def test_on_time_ratio_counts_met_among_settled():
    assert on_time_ratios({("r", "met"): 3, ("r", "missed"): 1, ("r", "pending"): 9},
                          ["r"]) == {"r": 0.75}
