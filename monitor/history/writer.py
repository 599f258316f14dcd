"""Writes events into the history, one transaction per batch together with the stream
position it reached: a batch is either wholly applied with its position or not at all, so a
crash anywhere re-reads from the last committed position, and re-applying is harmless (an
event row is replaced only by a newer version)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.domain.events import Event
from monitor.history import rows, tables

CURSOR = "index_log"
START = "0-0"


# Per event, the version this writer last wrote and the items its rows then held.
Held = dict[str, tuple[int, frozenset[str]]]
HELD_CACHED = 5000  # events whose item rows are remembered


class HistoryWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # What this writer committed: a busy event's rows need not be read back at each of
        # its changes while the stored version is still the one written here.
        self._held: OrderedDict[str, tuple[int, frozenset[str]]] = OrderedDict()

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
            written, held = _upsert_many(conn, _latest(events), self._held)
            if position is not None:
                _set_position(conn, position, forward_only=True)
        self._remember(held)  # committed
        return written

    def _remember(self, held: Held) -> None:
        for event_id, entry in held.items():
            self._held[event_id] = entry
            self._held.move_to_end(event_id)
        while len(self._held) > HELD_CACHED:
            self._held.popitem(last=False)

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


def _upsert_many(conn: Connection, events: list[Event], known: Held) -> tuple[int, Held]:
    """A few statements for the whole batch rather than a dozen per event; the count written
    and, for each, its version and the items its rows now hold."""
    if not events:
        return 0, {}
    t = tables.events
    stored = {row.id: row.version for row in conn.execute(
        sa.select(t.c.id, t.c.version).where(t.c.id.in_([e.id for e in events])))}
    newer = [e for e in events if stored.get(e.id, -1) < e.version]
    if not newer:
        return 0, {}  # these changes (or later ones) are already in
    fresh = [rows.event_row(e) for e in newer if e.id not in stored]
    if fresh:
        conn.execute(sa.insert(t), fresh)
    changed = [e.id for e in newer if e.id in stored]
    if changed:  # one statement for all (executemany), back in Redis if it had left
        conn.execute(sa.update(t).where(t.c.id == sa.bindparam("event_id")),
                     [{**rows.event_row(e), "evicted_at": None, "event_id": e.id}
                      for e in newer if e.id in stored])
    held = _sync_items(conn, newer, {i: stored[i] for i in changed}, known)
    for child, make in _CHILDREN:
        if changed:
            conn.execute(sa.delete(child).where(child.c.event_id.in_(changed)))
        if children := [row for e in newer for row in make(e)]:
            conn.execute(sa.insert(child), children)
    return len(newer), held


def _sync_items(conn: Connection, events: list[Event], stored: dict[str, int],
                known: Held) -> Held:
    """An event's item rows, brought to its list of references by inserting the new ones and
    deleting the ones it no longer lists (a split): a busy event takes an item or two per
    change, and rewriting its thousands of rows each time cost more than all the rest. A
    row never changes (a reference is written once, when its item joins). The rows held are
    read back only for events stored at another version than this writer last wrote."""
    t = tables.items
    held: dict[str, frozenset[str] | set[str]] = {
        i: known[i][1] for i, version in stored.items() if known.get(i, (None,))[0] == version}
    if unknown := [i for i in stored if i not in held]:
        for row in conn.execute(sa.select(t.c.event_id, t.c.item_id)
                                .where(t.c.event_id.in_(unknown))):
            held.setdefault(row.event_id, set()).add(row.item_id)
    fresh, gone, now = [], [], {}
    for event in events:
        have = held.get(event.id, set())
        # Rows made for the new references only: a busy event lists thousands.
        fresh += rows.item_rows(event, [i for i in event.items if i.id not in have])
        listed = frozenset(i.id for i in event.items)
        gone += [{"e": event.id, "i": i} for i in have - listed]
        now[event.id] = (event.version, listed)
    if gone:
        conn.execute(sa.delete(t).where(t.c.event_id == sa.bindparam("e"),
                                        t.c.item_id == sa.bindparam("i")), gone)
    if fresh:
        conn.execute(sa.insert(t), fresh)
    return now


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
