"""A report from the SQL history: the rows of a period read once each, then aggregated.

Which period a row belongs to: a deadline by when its clock started (a message's deadline by
the message), a response by when it was published, an event (in the list) by first seen —
all in Asia/Shanghai. Merged events are left out: their clocks run in the event they merged
into."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.domain.events import EventStatus
from monitor.history import tables
from monitor.history.rows import stored_utc, utc
from monitor.report.model import EventLine, MonthLine, Outcomes, Report, RuleLine
from monitor.report.official import official_lines
from monitor.report.period import Period
from monitor.track.workdays import CHINA_TZ

# The deadline rules in the order of the policy (tracking.yaml), then the follow-up.
RULE_ORDER = ("authoritative_info_5h", "press_conference_24h", "response_48h", "message_2wd",
              "policy_interpretation_3wd", "follow_up")
DIMENSIONS = {"topic": "按主题", "severity": "按等级", "region": "按地区",
              "lead_unit": "按牵头单位"}
UNGRADED = "未分级"
NO_REGION = "未知地区"
ALL_RULES = "all"


def build_report(engine: Engine, period: Period) -> Report:
    with engine.connect() as conn:
        in_period = _deadlines(conn, period.start, period.end)
        earlier = {} if period.month is None else {  # a month: January up to it
            m.month: _deadlines(conn, m.start, m.end, brief=True)
            for m in period.months_of_year_so_far()[:-1]}
        responses = _responses(conn, period)
        events = _events(conn, period)
        started = conn.execute(sa.select(sa.func.min(tables.events.c.first_seen))).scalar()
    return Report(
        period=period.name,
        title=_title(period),
        note=_note(period, started, in_period, events),
        rules=_rule_lines(in_period),
        breakdowns={dim: _breakdown(in_period, dim) for dim in DIMENSIONS},
        months=_months(earlier, in_period, period),
        events=_event_lines(events, in_period, responses),
        official=official_lines(r for r in responses if r["linked"]),
        durations_hours=_durations(in_period),
    )


def _title(period: Period) -> str:
    if period.month is None:
        return f"{period.year}年度政务舆情回应情况"
    return f"{period.year}年{period.month}月政务舆情回应情况"


def _note(period: Period, started, deadlines: list, events: list) -> str:
    if deadlines or events:
        return ""
    if started is None or stored_utc(started) >= period.end:
        return f"{period.name} 在本服务开始记录之前，没有数据"
    return f"{period.name} 没有事件"


def _deadlines(conn: Connection, start: datetime, end: datetime,
               brief: bool = False) -> list[dict]:
    """Deadlines whose clock started in [start, end); `brief`: only what the months table
    needs (for the earlier months of the year: no times to convert)."""
    d, e = tables.deadlines, tables.events
    columns = [d.c.event_id, d.c.rule, d.c.label, d.c.state, d.c.seconds_to_respond]
    if not brief:
        columns += [d.c.start, d.c.key, e.c.topic, e.c.severity, e.c.region, e.c.lead_unit]
    query = (sa.select(*columns).join(e, e.c.id == d.c.event_id)
             .where(d.c.start >= utc(start), d.c.start < utc(end),
                    e.c.status != EventStatus.MERGED.value, d.c.state != "superseded"))
    names = [c.name for c in columns]
    rows = [dict(zip(names, row, strict=True)) for row in conn.execute(query)]
    return rows if brief else [_local(row, "start") for row in rows]


def _responses(conn: Connection, period: Period) -> list[dict]:
    r, e = tables.responses, tables.events
    query = (sa.select(r.c.event_id, r.c.response_id, r.c.at, r.c.channel, r.c.title, r.c.link,
                       r.c.linked, r.c.principal_attended)
             .join(e, e.c.id == r.c.event_id)
             .where(r.c.at >= utc(period.start), r.c.at < utc(period.end),
                    e.c.status != EventStatus.MERGED.value)
             .order_by(r.c.at, r.c.response_id))
    return [_local(dict(row._mapping), "at") for row in conn.execute(query)]


def _events(conn: Connection, period: Period) -> list[dict]:
    e = tables.events
    first_link = (sa.select(tables.items.c.link).where(tables.items.c.event_id == e.c.id)
                  .order_by(tables.items.c.published).limit(1).scalar_subquery())
    query = (sa.select(e, first_link.label("link"))
             .where(e.c.first_seen >= utc(period.start), e.c.first_seen < utc(period.end),
                    e.c.status != EventStatus.MERGED.value)
             .order_by(e.c.first_seen, e.c.id))
    return [_local(dict(row._mapping), "first_seen") for row in conn.execute(query)]


def _local(row: dict, *names: str) -> dict:
    for name in names:
        if row[name] is not None:
            row[name] = stored_utc(row[name]).astimezone(CHINA_TZ)
    return row


def _ordered_rules(rows: Sequence[dict]) -> list[tuple[str, str]]:
    labels = {r["rule"]: r["label"] for r in rows}
    known = [(rule, labels[rule]) for rule in RULE_ORDER if rule in labels]
    return known + sorted((k, v) for k, v in labels.items() if k not in RULE_ORDER)


def _rule_lines(rows: list[dict]) -> list[RuleLine]:
    by_rule = defaultdict(list)
    for r in rows:
        by_rule[r["rule"]].append(r)
    return [RuleLine(rule, label, Outcomes.of(by_rule[rule]))
            for rule, label in _ordered_rules(rows)]


def _breakdown(rows: list[dict], dimension: str) -> list[RuleLine]:
    groups = defaultdict(list)
    for r in rows:
        groups[_group_value(r, dimension)].append(r)
    lines = []
    for value in sorted(groups):
        for line in [*_rule_lines(groups[value]),
                     RuleLine(ALL_RULES, "全部规则", Outcomes.of(groups[value]))]:
            line.group = value
            lines.append(line)
    return lines


def _group_value(row: dict, dimension: str) -> str:
    value = row[dimension]
    if value:
        return value
    return UNGRADED if dimension == "severity" else NO_REGION


def _months(earlier: dict[int, list[dict]], in_period: list[dict],
            period: Period) -> list[MonthLine]:
    """A year: its twelve months. A month: January up to it (the earlier months read
    apart)."""
    by_month = defaultdict(list, earlier)
    if period.month is None:
        for r in in_period:
            by_month[r["start"].month].append(r)  # local time: the Asia/Shanghai month
    else:
        by_month[period.month] = in_period
    lines = []
    for month in period.months() if period.month is None else period.months_of_year_so_far():
        chosen = by_month[month.month]
        per_rule = {line.rule: line.outcomes.on_time_rate for line in _rule_lines(chosen)}
        lines.append(MonthLine(month.name, Outcomes.of(chosen), per_rule))
    return lines


def _durations(rows: list[dict]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["state"] in ("met", "met_late") and r["seconds_to_respond"] is not None:
            found[r["rule"]].append(round(r["seconds_to_respond"] / 3600, 3))
    return {rule: sorted(hours) for rule, hours in sorted(found.items())}


def _event_lines(events: list[dict], deadlines: list[dict],
                 responses: list[dict]) -> list[EventLine]:
    own, answers = defaultdict(list), defaultdict(list)
    for d in deadlines:
        own[d["event_id"]].append(d)
    for r in responses:
        if r["linked"]:
            answers[r["event_id"]].append(r)
    return [_event_line(e, sorted(own[e["id"]], key=lambda d: d["key"]), answers[e["id"]])
            for e in events]


def _event_line(event: dict, own: list[dict], answers: list[dict]) -> EventLine:
    return EventLine(
        id=event["id"], first_seen=_stamp(event["first_seen"]), title=event["title"],
        topic=event["topic"], severity=event["severity"] or UNGRADED,
        region=event["region"] or NO_REGION, lead_unit=event["lead_unit"] or "",
        status=event["status"], outcomes="; ".join(_outcome(d) for d in own),
        responses=len(answers), first_response=_stamp(answers[0]["at"]) if answers else "",
        channels="、".join(dict.fromkeys(r["channel"] for r in answers)),
        link=event["link"] or "")


def _outcome(d: dict) -> str:
    hours = "" if d["seconds_to_respond"] is None else f" ({d['seconds_to_respond'] / 3600:.1f}h)"
    return f"{d['key']}: {d['state']}{hours}"


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M")
