"""The event as the API, the replay report and the demo show it: one JSON shape (the SQL
history's archived events answer in the same shape, monitor/history/reader.py)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.domain.events import Event, ItemRef


def event_report(event: Event, items: Sequence[ItemRef] | None = None) -> dict:
    """The event as the API shows it; `items` every item it took (lists of events show the
    lead reports and messages its document keeps, with `item_count` for the rest)."""
    return {
        "id": event.id,
        "kind": event.kind.value,
        "title": event.title,
        "topic": event.topic,
        "incident": event.incident,
        "severity": event.severity,
        "severity_evidence": event.severity_evidence,
        "region": event.region,
        "county": event.county,
        "first_seen": event.first_seen.isoformat(),
        "needs_response": event.needs_response,
        "status": event.status.value,
        "version": event.version,  # what an officer's action sends back (409 if it moved on)
        "merged_into": event.merged_into,
        "merge_suggestions": [h.why for h in event.history if h.what == "merge_suggested"],
        "item_count": event.item_count,
        "items": [{"id": i.id, "source_id": i.source_id, "title": i.title, "link": i.link,
                   "published": i.published.isoformat(), "score": i.score, "why": i.why}
                  for i in (event.items if items is None else items)],
        "responses": [{"id": r.id, "at": r.at.isoformat(), "channel": r.channel.value,
                       "link": r.link, "title": r.title, "source_id": r.source_id,
                       "matched_terms": list(r.matched_terms), "score": r.score,
                       "answers": list(r.answers)}
                      for r in event.responses],
        "deadlines": [{"rule": d.rule, "message": d.subject, "label": d.label,
                       "due": d.due.isoformat() if d.due else None,
                       "outcome": d.state.value if d.state.value != "due_soon" else "pending",
                       "time_to_response_s": event.seconds_to_respond(d),
                       "provisional": d.provisional,
                       "provisional_reason": d.provisional_reason} for d in event.deadlines],
    }

