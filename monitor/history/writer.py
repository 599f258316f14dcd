"""Writes events into the history, one transaction per batch together with the stream
position it reached: a batch is either wholly applied with its position or not at all, so a
crash anywhere re-reads from the last committed position, and re-applying is harmless (an
event row is replaced only by a newer version)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.domain.events import Event
from monitor.history import rows, tables

CURSOR = "index_log"
START = "0-0"


class HistoryWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def position(self) -> str:
        """The last index_log entry applied ('0-0' before the first)."""
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(tables.cursor.c.stream_id)
                                 .where(tables.cursor.c.name == CURSOR)).scalar()
        return found or START

    def apply(self, events: Sequence[Event], position: str | None) -> int:
        """Upsert the events (those newer than their stored version) and move the position,
        in one transaction; the count of events written."""
        with self.engine.begin() as conn:
            written = sum(1 for e in events if _upsert(conn, e))
            if position is not None:
                _set_position(conn, position)
        return written

    def versions(self, ids: Iterable[str]) -> dict[str, int]:
        ids = list(ids)
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(tables.events.c.id, tables.events.c.version)
                                 .where(tables.events.c.id.in_(ids))) if ids else []
            return {row.id: row.version for row in found}


def _upsert(conn: Connection, event: Event) -> bool:
    t = tables.events
    stored = conn.execute(sa.select(t.c.version, t.c.evicted_at)
                          .where(t.c.id == event.id)).first()
    if stored is not None and stored.version >= event.version:
        return False  # this change (or a later one) is already in
    row = rows.event_row(event)
    if stored is None:
        conn.execute(sa.insert(t), [row])
    else:
        conn.execute(sa.update(t).where(t.c.id == event.id).values(**row, evicted_at=None))
    for child, make in ((tables.items, rows.item_rows), (tables.deadlines, rows.deadline_rows),
                        (tables.responses, rows.response_rows),
                        (tables.actions, rows.action_rows),
                        (tables.feedback, rows.feedback_rows)):
        conn.execute(sa.delete(child).where(child.c.event_id == event.id))
        if fresh := make(event):
            conn.execute(sa.insert(child), fresh)
    return True


def _set_position(conn: Connection, position: str) -> None:
    t = tables.cursor
    if conn.execute(sa.update(t).where(t.c.name == CURSOR)
                    .values(stream_id=position)).rowcount == 0:
        conn.execute(sa.insert(t), [{"name": CURSOR, "stream_id": position}])
