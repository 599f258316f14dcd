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
        """Upsert the events (those newer than their stored version) and move the position
        forward (never back: re-delivered entries are older), in one transaction; the count
        of events written."""
        with self.engine.begin() as conn:
            written = _upsert_many(conn, _latest(events))
            if position is not None:
                _set_position(conn, position, forward_only=True)
        return written

    def restart_at(self, position: str) -> None:
        """After a full resync: continue from this entry of a log that may have started
        anew (Redis restarted empty), so the position may go back."""
        with self.engine.begin() as conn:
            _set_position(conn, position, forward_only=False)

    def versions(self, ids: Iterable[str]) -> dict[str, int]:
        ids = list(ids)
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(tables.events.c.id, tables.events.c.version)
                                 .where(tables.events.c.id.in_(ids))) if ids else []
            return {row.id: row.version for row in found}


def _latest(events: Iterable[Event]) -> list[Event]:
    """One copy of each event, its newest version."""
    newest: dict[str, Event] = {}
    for event in events:
        if event.id not in newest or newest[event.id].version < event.version:
            newest[event.id] = event
    return list(newest.values())


def _upsert_many(conn: Connection, events: list[Event]) -> int:
    """A few statements for the whole batch rather than a dozen per event."""
    if not events:
        return 0
    t = tables.events
    stored = {row.id: row.version for row in conn.execute(
        sa.select(t.c.id, t.c.version).where(t.c.id.in_([e.id for e in events])))}
    newer = [e for e in events if stored.get(e.id, -1) < e.version]
    if not newer:
        return 0  # these changes (or later ones) are already in
    fresh = [rows.event_row(e) for e in newer if e.id not in stored]
    if fresh:
        conn.execute(sa.insert(t), fresh)
    changed = [e.id for e in newer if e.id in stored]
    if changed:  # one statement for all (executemany), back in Redis if it had left
        conn.execute(sa.update(t).where(t.c.id == sa.bindparam("event_id")),
                     [{**rows.event_row(e), "evicted_at": None, "event_id": e.id}
                      for e in newer if e.id in stored])
    _sync_items(conn, newer, changed)
    for child, make in _CHILDREN:
        if changed:
            conn.execute(sa.delete(child).where(child.c.event_id.in_(changed)))
        if children := [row for e in newer for row in make(e)]:
            conn.execute(sa.insert(child), children)
    return len(newer)


def _sync_items(conn: Connection, events: list[Event], changed: list[str]) -> None:
    """An event's item rows, brought to its list of references by inserting the new ones and
    deleting the ones it no longer lists (a split): a busy event takes an item or two per
    change, and rewriting its thousands of rows each time cost more than all the rest. A
    row never changes (a reference is written once, when its item joins)."""
    t = tables.items
    held: dict[str, set[str]] = {}
    if changed:
        for row in conn.execute(sa.select(t.c.event_id, t.c.item_id)
                                .where(t.c.event_id.in_(changed))):
            held.setdefault(row.event_id, set()).add(row.item_id)
    fresh, gone = [], []
    for event in events:
        have = held.get(event.id, set())
        # Rows made for the new references only: a busy event lists thousands.
        fresh += rows.item_rows(event, [i for i in event.items if i.id not in have])
        listed = {i.id for i in event.items}
        gone += [{"e": event.id, "i": i} for i in have - listed]
    if gone:
        conn.execute(sa.delete(t).where(t.c.event_id == sa.bindparam("e"),
                                        t.c.item_id == sa.bindparam("i")), gone)
    if fresh:
        conn.execute(sa.insert(t), fresh)


_CHILDREN = ((tables.deadlines, rows.deadline_rows),
             (tables.responses, rows.response_rows), (tables.actions, rows.action_rows),
             (tables.feedback, rows.feedback_rows))


def _set_position(conn: Connection, position: str, forward_only: bool) -> None:
    t = tables.cursor
    current = conn.execute(sa.select(t.c.stream_id).where(t.c.name == CURSOR)).scalar()
    if current is None:
        conn.execute(sa.insert(t), [{"name": CURSOR, "stream_id": position}])
    elif not forward_only or stream_key(position) > stream_key(current):
        conn.execute(sa.update(t).where(t.c.name == CURSOR).values(stream_id=position))


def stream_key(stream_id: str) -> tuple[int, int]:
    """A stream entry id ('1796126778058-0') in the order Redis gives them."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)
