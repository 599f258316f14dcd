"""Queries the API, alerts, metrics and exports use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.domain.events import OWED_STATES, Event, EventGlance, ItemRef
from monitor.models import Item
from monitor.store.events import EventStore
from monitor.track.orphans import OrphanStore


@dataclass(frozen=True, slots=True)
class OpenEvent:
    event: Event
    rule: str  # the deadline that matters most now
    due: datetime
    seconds_left: float  # negative once missed


class ReadModel:
    def __init__(self, store: EventStore, orphans: OrphanStore | None = None) -> None:
        self._store = store
        self._orphans = orphans

    async def waiting_answers(self, limit: int = 200) -> list[Item]:
        """Official answers that matched no event yet (orphans.py), newest first."""
        return await self._orphans.all(limit) if self._orphans else []

    async def open_by_time_left(self, now: datetime, limit: int = 200) -> list[OpenEvent]:
        """Active events that owe a response, the most urgent first (missed ones lead)."""
        events = await self._store.load_many(await self._store.ids_by_due(limit))
        rows = []
        for event in events:
            owed = [d for d in event.deadlines if d.state in OWED_STATES and d.due is not None]
            if not owed or not event.active:
                continue
            first = min(owed, key=lambda d: d.due)
            rows.append(OpenEvent(event, first.rule, first.due,
                                  (first.due - now).total_seconds()))
        return sorted(rows, key=lambda r: r.due)

    async def glance_active_or_since(self, start: datetime, end: datetime
                                     ) -> list[EventGlance]:
        """What the wall counts (EventGlance) of every active event (open, acknowledged or
        escalated, owing a response or not) and every event first seen in [start, end],
        each once."""
        ids = [*await self._store.active_ids(0),
               *await self._store.ids_by_first_seen(start, end)]
        return await self._store.glance_many(dict.fromkeys(ids))

    async def event(self, event_id: str) -> Event | None:
        return await self._store.load(event_id)

    async def items_of(self, event: Event) -> list[ItemRef]:
        """Every item the event took (its document keeps only the lead ones and messages)."""
        return await self._store.item_refs(event)

    async def in_range(self, start: datetime, end: datetime) -> list[Event]:
        """Events first seen in [start, end], with their deadlines' outcomes."""
        return await self._store.load_many(await self._store.ids_by_first_seen(start, end))
