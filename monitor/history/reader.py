"""An archived event read back from the SQL history, for the API and the duty page.

Closed events leave Redis after MONITOR_ARCHIVE_AFTER; an alert sent months ago still links
to `/events/<id>`, and an officer answering an audit still needs what happened. The answer
has the API's event shape (monitor/domain/views.py event_report) plus `archived: true`, the
time it left Redis and the officers' actions, so a client reads one shape either way."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.history import tables
from monitor.history.rows import stored_utc


class ArchivedEvents:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def report(self, event_id: str) -> dict | None:
        """The event as the history holds it; None when the history never saw it."""
        with self._engine.connect() as conn:
            event = conn.execute(sa.select(tables.events)
                                 .where(tables.events.c.id == event_id)).mappings().first()
            if event is None:
                return None
            return {**_event(event), **_children(conn, event_id)}


def _event(row) -> dict:
    return {
        "id": row["id"], "kind": row["kind"], "title": row["title"], "topic": row["topic"],
        "incident": row["incident"], "severity": row["severity"], "region": row["region"],
        "county": row["county"], "lead_unit": row["lead_unit"],
        "first_seen": _iso(row["first_seen"]), "last_seen": _iso(row["last_seen"]),
        "closed_at": _iso(row["closed_at"]), "needs_response": row["needs_response"],
        "status": row["status"], "version": row["version"], "merged_into": row["merged_into"],
        "item_count": row["item_count"], "archived": row["evicted_at"] is not None,
        "left_redis_at": _iso(row["evicted_at"]),
    }


def _children(conn: Connection, event_id: str) -> dict:
    def rows(table: sa.Table, order: sa.Column) -> list:
        query = sa.select(table).where(table.c.event_id == event_id).order_by(order)
        return list(conn.execute(query).mappings())

    return {
        "items": [{"id": r["item_id"], "source_id": r["source_id"], "title": r["title"],
                   "link": r["link"], "published": _iso(r["published"]),
                   "official": r["official"], "message": r["message"]}
                  for r in rows(tables.items, tables.items.c.published)],
        "responses": [{"id": r["response_id"], "at": _iso(r["at"]), "channel": r["channel"],
                       "link": r["link"], "title": r["title"], "source_id": r["source_id"],
                       "recorded_by": r["recorded_by"], "linked": r["linked"],
                       "evidence": r["evidence"],
                       "principal_attended": r["principal_attended"]}
                      for r in rows(tables.responses, tables.responses.c.at)],
        "deadlines": [{"rule": r["rule"], "message": r["subject"], "label": r["label"],
                       "start": _iso(r["start"]), "due": _iso(r["due"]), "outcome": r["state"],
                       "met_at": _iso(r["met_at"]),
                       "time_to_response_s": r["seconds_to_respond"],
                       "provisional": r["provisional"]}
                      for r in rows(tables.deadlines, tables.deadlines.c.start)],
        "history": [{"at": _iso(r["at"]), "who": r["who"], "what": r["what"], "why": r["why"]}
                    for r in rows(tables.actions, tables.actions.c.seq)],
    }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else stored_utc(when).isoformat()
