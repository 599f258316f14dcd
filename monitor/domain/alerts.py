"""What the tracker asks the notifier to tell officers: one AlertIntent per transition.

This is the contract between `monitor.track` (which decides *what* happened) and
`monitor.notify` (which decides *whether, where and how* to tell). The key is stable for a
given transition, so a replayed or retried transition is recognised and never shown twice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class AlertKind(StrEnum):
    NEW_EVENT = "new_event"  # an event that needs a response was opened
    SEVERITY_RAISED = "severity_raised"  # e.g. 一般 → 重大: stricter deadlines now apply
    # e.g. 重大 → 一般: the notice whose toll graded it was about another matter
    SEVERITY_LOWERED = "severity_lowered"
    DEADLINE_DUE_SOON = "deadline_due_soon"  # a deadline passed 50 % / 80 % of its window
    DEADLINE_MISSED = "deadline_missed"
    RESPONSE_DETECTED = "response_detected"  # a response met (or met late) a deadline
    EVENTS_MERGED = "events_merged"  # two open events were found to be one matter
    DAILY_SUMMARY = "daily_summary"
    OPERATIONS = "operations"  # the service itself: a Prometheus alert fired or resolved
    TEST = "test"


class DeadlineView(BaseModel):
    """One deadline of an event as officers read it."""

    model_config = ConfigDict(frozen=True)

    rule: str  # e.g. "authoritative_info_5h", "press_conference_24h", "response_48h"
    label: str  # e.g. "5小时内发布权威信息"
    due: AwareDatetime
    state: str  # a DeadlineState value
    # Set when the due time is provisional (the year's schedule is not entered), e.g.
    # "暂按周一至周五（扣除法定节假日）计算，2027年调休安排未录入".
    provisional_reason: str | None = None


class OperationsView(BaseModel):
    """An alert about the service itself, as Prometheus's rule and Alertmanager state it."""

    model_config = ConfigDict(frozen=True)

    status: Literal["firing", "resolved"]
    alertname: str
    severity: str | None = None  # the rule's own label (critical, warning …), not a grade
    summary: str = ""
    description: str = ""
    instance: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None  # set once resolved


class AlertIntent(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # stable dedup key, e.g. "evt123:deadline_missed:response_48h"
    kind: AlertKind
    at: AwareDatetime  # when the transition happened, from the injected clock
    event_id: str | None = None
    title: str = ""
    topic: str | None = None
    incident: str | None = None  # 自然灾害 / 事故灾难 / 公共卫生事件 / 社会安全事件, or None
    severity: str | None = None  # 特别重大 / 重大 / 较大 / 一般, or None
    severity_evidence: dict[str, float] = Field(default_factory=dict)  # e.g. {"deaths": 12}
    previous_severity: str | None = None  # for SEVERITY_RAISED and SEVERITY_LOWERED
    # SEVERITY_LOWERED: why, e.g. "情况通报《…》属于另一事件（…）"
    lowered_why: str | None = None
    merged_title: str | None = None  # EVENTS_MERGED: the event that was merged in
    merged_why: str | None = None  # EVENTS_MERGED: the evidence
    region: str | None = None  # prefecture, e.g. 昆明
    county: str | None = None
    first_seen: AwareDatetime | None = None
    deadlines: tuple[DeadlineView, ...] = ()
    rule: str | None = None  # the deadline this alert is about (due soon / missed / met)
    due: AwareDatetime | None = None
    response_link: str | None = None
    response_channel: str | None = None
    # RESPONSE_DETECTED: from the start of the deadline's clock (the message it is about, or
    # the event's first report) to the response; what that start was, in words.
    response_seconds: float | None = None
    response_since: str | None = None  # e.g. 首次发现, 收到留言
    url: str | None = None  # the event page for officers
    summary: dict[str, int] = Field(default_factory=dict)  # DAILY_SUMMARY: counts
    summary_lines: tuple[str, ...] = ()  # DAILY_SUMMARY: a few open events, most urgent first
    operations: OperationsView | None = None  # OPERATIONS: what Alertmanager reported
