"""What officers do to events: acknowledge, escalate, merge, mark as not needing a response,
close, record a response by hand, link or unlink a detected one. Each is audited in the
event's history (who, when, why) and re-runs the deadline clock."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from monitor.domain.events import (
    ACTIVE_STATUSES,
    Event,
    EventStatus,
    HistoryEntry,
    Response,
    ResponseChannel,
)
from monitor.errors import MonitorError
from monitor.store.events import Conflict, EventStore
from monitor.track.tracker import Tracker


class ActionError(MonitorError):
    """The action does not apply (unknown event, wrong state, missing reason)."""


class Reminders(Protocol):
    """The part of the notifier that officers' actions silence."""

    async def acknowledge(self, event_id: str, by: str, at: datetime) -> None: ...

    async def resolve(self, event_id: str) -> None: ...


class Actions:
    def __init__(self, store: EventStore, tracker: Tracker,
                 reminders: Reminders | None = None) -> None:
        self._store = store
        self._tracker = tracker
        self._reminders = reminders

    async def acknowledge(self, event_id: str, by: str, now: datetime, note: str = "") -> Event:
        event = await self._status(event_id, EventStatus.ACKNOWLEDGED, by, now, note,
                                   "acknowledged")
        if self._reminders is not None:  # an officer has it in hand: stop reminding
            await self._reminders.acknowledge(event_id, by, now)
        return event

    async def escalate(self, event_id: str, by: str, now: datetime, reason: str) -> Event:
        return await self._status(event_id, EventStatus.ESCALATED, by, now, reason, "escalated")

    async def no_response_needed(self, event_id: str, by: str, now: datetime,
                                 reason: str) -> Event:
        if not reason.strip():
            raise ActionError("say why this event needs no response: the reason is audited")
        return await self._status(event_id, EventStatus.NO_RESPONSE_NEEDED, by, now, reason,
                                  "marked_no_response_needed")

    async def close(self, event_id: str, by: str, now: datetime, reason: str = "") -> Event:
        return await self._status(event_id, EventStatus.CLOSED, by, now, reason, "closed")

    async def record_response(self, event_id: str, by: str, now: datetime, at: datetime,
                              channel: ResponseChannel, link: str | None = None,
                              note: str = "") -> Event:
        response = Response(id=f"r-manual-{uuid.uuid4().hex[:10]}", at=at, channel=channel,
                            link=link, title=note[:100], recorded_by=by, note=note)

        def change(event: Event) -> None:
            event.responses.append(response)
            _audit(event, now, by, "response_recorded",
                   f"{channel.value} at {at.isoformat()} {link or ''} {note}".strip())

        return await self._update(event_id, now, change)

    async def set_response_link(self, event_id: str, response_id: str, linked: bool, by: str,
                                now: datetime, reason: str = "") -> Event:
        def change(event: Event) -> None:
            index = next((i for i, r in enumerate(event.responses) if r.id == response_id), None)
            if index is None:
                raise ActionError(f"event {event_id} has no response {response_id}")
            event.responses[index] = event.responses[index].model_copy(update={"linked": linked})
            _audit(event, now, by, "response_linked" if linked else "response_unlinked",
                   f"{response_id} {reason}".strip())

        return await self._update(event_id, now, change)

    async def merge(self, source_id: str, target_id: str, by: str, now: datetime,
                    reason: str = "") -> Event:
        """Fold `source_id` into `target_id`: items, responses and the earlier first seen."""
        if source_id == target_id:
            raise ActionError("an event cannot be merged into itself")
        source = await self._require(source_id)

        def absorb(target: Event) -> None:
            target.items += [i for i in source.items if i.id not in {x.id for x in target.items}]
            target.item_count += source.item_count
            target.responses += [r for r in source.responses
                                 if r.id not in {x.id for x in target.responses}]
            target.sources += [s for s in source.sources if s not in target.sources]
            target.first_seen = min(target.first_seen, source.first_seen)
            target.last_seen = max(target.last_seen, source.last_seen)
            for term, weight in source.centroid.items():
                target.centroid[term] = target.centroid.get(term, 0.0) + weight
            _audit(target, now, by, "merged_in", f"{source_id}: {source.title} {reason}".strip())

        merged = await self._update(target_id, now, absorb)

        def retire(event: Event) -> None:
            event.status, event.merged_into = EventStatus.MERGED, target_id
            _audit(event, now, by, "merged_into", f"{target_id} {reason}".strip())

        await self._update(source_id, now, retire)
        if self._reminders is not None:
            await self._reminders.resolve(source_id)
        return merged

    async def _status(self, event_id: str, status: EventStatus, by: str, now: datetime,
                      why: str, verb: str) -> Event:
        def change(event: Event) -> None:
            if event.status not in ACTIVE_STATUSES:
                raise ActionError(f"event {event_id} is {event.status.value}; it cannot be "
                                  f"{verb.replace('_', ' ')}")
            event.status = status
            _audit(event, now, by, verb, why)

        event = await self._update(event_id, now, change)
        if not event.active and self._reminders is not None:
            await self._reminders.resolve(event_id)
        return event

    async def _update(self, event_id: str, now: datetime, change) -> Event:
        for _ in range(5):
            event = await self._require(event_id)
            version = event.version
            change(event)
            saved = self._tracker.finish(event, now, version)
            try:
                await self._store.save(saved)
            except Conflict:
                continue
            return saved.event
        raise ActionError(f"event {event_id} kept changing; try again")

    async def _require(self, event_id: str) -> Event:
        event = await self._store.load(event_id)
        if event is None:
            raise ActionError(f"no event {event_id}")
        return event


def _audit(event: Event, now: datetime, by: str, what: str, why: str) -> None:
    event.history.append(HistoryEntry(at=now, who=by, what=what, why=why))


__all__ = ["ActionError", "Actions"]
