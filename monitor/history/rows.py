"""An event as history rows: pure functions from the domain record to the table shapes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from monitor.domain.events import ACTIVE_STATUSES, Deadline, Event, ItemRef, Response

# The unit that leads each topic (plan tasks 25–41, DOMAIN.md "Who leads what"); the
# general office answers for everything else.
LEAD_UNITS = {
    "减税降费": "省财政厅",
    "金融安全": "省地方金融监督管理局",
    "生态环境": "省生态环境厅",
    "脱贫攻坚": "省扶贫办",
    "教育改革": "省教育厅",
    "食品药品": "省药监局",
    "卫生健康": "省卫生健康委",
    "公正监管": "省市场监管局",
    "社会保障": "省人力资源社会保障厅",
    "营商环境": "省发展改革委",
}
GENERAL_OFFICE = "省政府办公厅"

# Officers' actions that correct the machine, kept as labels for training and evaluation:
# the history verbs monitor/track/actions.py (and the tracker's merge) write.
FEEDBACK = {
    "merged_into": "grouping",
    "merged": "grouping",
    "split_out": "grouping",
    "response_linked": "response_match",
    "response_unlinked": "response_match",
    "marked_no_response_needed": "needs_response",
    "corrected_severity": "severity",
    "corrected_topic": "topic",
    "corrected_incident": "incident",
    "corrected_region": "region",
}
_MACHINE = ("system", "timer")
_FINAL_VERBS = frozenset({"closed", "marked_no_response_needed", "merged_into"})


def utc(when: datetime | None) -> datetime | None:
    """Every stored time in UTC: SQLite keeps no zone, so mixed zones would not compare."""
    return None if when is None else when.astimezone(UTC)


def stored_utc(when: datetime) -> datetime:
    """A time read back: SQLite hands it without its zone; it was stored in UTC (utc)."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def lead_unit(topic: str) -> str:
    return LEAD_UNITS.get(topic, GENERAL_OFFICE)


def event_row(event: Event) -> dict:
    return {
        "id": event.id, "kind": event.kind.value, "title": event.title, "topic": event.topic,
        "incident": event.incident, "severity": event.severity, "region": event.region,
        "county": event.county, "lead_unit": lead_unit(event.topic),
        "status": event.status.value, "merged_into": event.merged_into,
        "needs_response": event.needs_response, "first_seen": utc(event.first_seen),
        "last_seen": utc(event.last_seen), "closed_at": utc(closed_at(event)),
        "changed_at": utc(changed_at(event)), "item_count": event.item_count,
        "version": event.version,
    }


def closed_at(event: Event) -> datetime | None:
    """When the event stopped being active: its last closing action (None while active)."""
    if event.status in ACTIVE_STATUSES:
        return None
    closing = [h.at for h in event.history if h.what in _FINAL_VERBS]
    return max(closing, default=changed_at(event))


def changed_at(event: Event) -> datetime:
    return max((h.at for h in event.history), default=event.last_seen)


def item_rows(event: Event, refs: Iterable[ItemRef] | None = None) -> list[dict]:
    """The rows of the event's items (of `refs` among them, if given)."""
    return [{"event_id": event.id, "item_id": i.id, "source_id": i.source_id, "title": i.title,
             "link": i.link, "published": utc(i.published), "official": i.official,
             "message": i.message} for i in (event.items if refs is None else refs)]


def deadline_rows(event: Event) -> list[dict]:
    return [_deadline_row(event, d) for d in event.deadlines]


def _deadline_row(event: Event, d: Deadline) -> dict:
    start, seconds = event.clock_start(d), event.seconds_to_respond(d)
    return {"event_id": event.id, "key": d.key, "rule": d.rule, "label": d.label,
            "subject": d.subject, "start": utc(start), "due": utc(d.due),
            "provisional": d.provisional,
            "state": d.state.value, "met_at": utc(d.met_at), "response_id": d.response_id,
            "seconds_to_respond": seconds}


def response_rows(event: Event) -> list[dict]:
    return [_response_row(event, r) for r in event.responses]


def _response_row(event: Event, r: Response) -> dict:
    evidence = "、".join(r.matched_terms)
    if r.score is not None:
        evidence = f"{evidence} (score {r.score:.2f})".strip()
    if r.note:
        evidence = f"{evidence} {r.note}".strip()
    return {"event_id": event.id, "response_id": r.id, "at": utc(r.at),
            "channel": r.channel.value,
            "link": r.link, "title": r.title, "source_id": r.source_id,
            "official": r.source_id is not None, "recorded_by": r.recorded_by,
            "linked": r.linked, "evidence": evidence,
            "principal_attended": r.principal_attended}


def action_rows(event: Event) -> list[dict]:
    return [{"event_id": event.id, "seq": n, "at": utc(h.at), "who": h.who, "what": h.what,
             "why": h.why} for n, h in enumerate(event.history)]


def feedback_rows(event: Event) -> list[dict]:
    """Actions by officers (not the machine) that correct a machine decision."""
    return [{"event_id": event.id, "seq": n, "at": utc(h.at), "who": h.who,
             "label": FEEDBACK[h.what], "value": h.what if not h.why else f"{h.what}: {h.why}"}
            for n, h in enumerate(event.history)
            if h.what in FEEDBACK and not h.who.startswith(_MACHINE)
            and not h.who.startswith("worker")]
