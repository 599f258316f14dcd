"""What officers do to events: acknowledge, escalate, merge, split, mark as not needing a
response, close, re-open, record a response by hand, link or unlink one, correct what the
machine said. Each is one atomic save (a merge or split saves both events together), is
audited in the event's history (who, when, why) and re-runs the deadline clock.

Every action takes `expected`, the version the officer saw: when the event has changed
since, nothing is applied and VersionConflict carries the event as it now is."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from monitor.domain.events import (
    ACTIVE_STATUSES,
    LEAD_REFS,
    OFFICER_VOTE,
    Event,
    EventStatus,
    HistoryEntry,
    ItemRef,
    Response,
    ResponseChannel,
    response_id,
)
from monitor.domain.feedback import Correction
from monitor.errors import MonitorError
from monitor.models import Item
from monitor.store.events import Conflict, EventStore
from monitor.track.orphans import OrphanStore
from monitor.track.tracker import Tracker


class ActionError(MonitorError):
    """The action does not apply (unknown event, wrong state, missing reason)."""


class VersionConflict(ActionError):
    """The officer acted on an older version of the event."""

    def __init__(self, current: Event) -> None:
        super().__init__(f"event {current.id} changed meanwhile (now version "
                         f"{current.version}); reload it and decide again")
        self.current = current


class Reminders(Protocol):
    """The part of the notifier that officers' actions silence."""

    async def acknowledge(self, event_id: str, by: str, at: datetime) -> None: ...

    async def resolve(self, event_id: str) -> None: ...

    async def reopen(self, event_id: str) -> None: ...


class Actions:
    def __init__(self, store: EventStore, tracker: Tracker,
                 reminders: Reminders | None = None,
                 orphans: OrphanStore | None = None) -> None:
        self._store = store
        self._tracker = tracker
        self._reminders = reminders
        self._orphans = orphans

    async def acknowledge(self, event_id: str, by: str, now: datetime, note: str = "",
                          expected: int | None = None) -> Event:
        event = await self._status(event_id, EventStatus.ACKNOWLEDGED, by, now, note,
                                   "acknowledged", expected)
        if self._reminders is not None:  # an officer has it in hand: stop reminding
            await self._reminders.acknowledge(event_id, by, now)
        return event

    async def escalate(self, event_id: str, by: str, now: datetime, reason: str,
                       expected: int | None = None) -> Event:
        return await self._status(event_id, EventStatus.ESCALATED, by, now, reason,
                                  "escalated", expected)

    async def no_response_needed(self, event_id: str, by: str, now: datetime,
                                 reason: str, expected: int | None = None) -> Event:
        if not reason.strip():
            raise ActionError("say why this event needs no response: the reason is audited")
        return await self._status(event_id, EventStatus.NO_RESPONSE_NEEDED, by, now, reason,
                                  "marked_no_response_needed", expected)

    async def close(self, event_id: str, by: str, now: datetime, reason: str = "",
                    expected: int | None = None) -> Event:
        return await self._status(event_id, EventStatus.CLOSED, by, now, reason, "closed",
                                  expected)

    async def reopen(self, event_id: str, by: str, now: datetime, reason: str,
                     expected: int | None = None) -> Event:
        """Back to open: the clocks run again and reminders resume."""
        def change(event: Event) -> None:
            if event.status in (EventStatus.OPEN, EventStatus.MERGED):
                raise ActionError(f"event {event_id} is {event.status.value}; only an "
                                  "acknowledged, escalated, waived or closed event re-opens")
            event.status = EventStatus.OPEN
            _audit(event, now, by, "reopened", reason)

        event = await self._update(event_id, now, change, expected)
        if self._reminders is not None:
            await self._reminders.reopen(event_id)
        return event

    async def record_response(self, event_id: str, by: str, now: datetime, at: datetime,
                              channel: ResponseChannel, link: str | None = None,
                              note: str = "", expected: int | None = None,
                              response_id: str | None = None,
                              principal_attended: bool | None = None) -> Event:
        response = Response(id=response_id or f"r-manual-{uuid.uuid4().hex[:10]}", at=at,
                            channel=channel, link=link, title=note[:100], recorded_by=by,
                            note=note, principal_attended=principal_attended)

        def change(event: Event) -> None:
            if any(r.id == response.id for r in event.responses):
                return  # a retry of the same recording
            event.responses.append(response)
            _audit(event, now, by, "response_recorded",
                   f"{channel.value} at {at.isoformat()} {link or ''} {note}".strip())

        return await self._update(event_id, now, change, expected)

    async def set_response_link(self, event_id: str, response_id: str, linked: bool, by: str,
                                now: datetime, reason: str = "",
                                expected: int | None = None) -> Event:
        def change(event: Event) -> None:
            index = next((i for i, r in enumerate(event.responses) if r.id == response_id), None)
            if index is None:
                raise ActionError(f"event {event_id} has no response {response_id}")
            event.responses[index] = event.responses[index].model_copy(update={"linked": linked})
            _audit(event, now, by, "response_linked" if linked else "response_unlinked",
                   f"{response_id} {reason}".strip())

        return await self._update(event_id, now, change, expected)

    async def link_item(self, event_id: str, item_id: str, channel: ResponseChannel, by: str,
                        now: datetime, reason: str = "", expected: int | None = None) -> Event:
        """An item of the event, or an official answer still waiting for its event, is the
        response the service did not recognise."""
        waiting = await self._orphans.get(item_id) if self._orphans else None
        listed = await self._listed(event_id)

        def change(event: Event) -> None:
            item = listed.get(item_id) or waiting
            if item is None:
                raise ActionError(f"event {event_id} lists no item {item_id}, and no answer "
                                  "with that id is waiting")
            known = next((r for r in event.responses if r.id == response_id(item_id)), None)
            if known is not None:
                event.responses[event.responses.index(known)] = known.model_copy(
                    update={"linked": True})
            else:
                event.responses.append(_response_from(item, channel, by, reason))
            _audit(event, now, by, "response_linked", f"{item_id} {reason}".strip())

        event = await self._update(event_id, now, change, expected)
        if waiting is not None and self._orphans is not None:
            # After the save; the response's id (r-<item>) keeps a crash in between harmless.
            await self._orphans.adopted(item_id)
        return event

    async def correct(self, event_id: str, field: str, value: str | None, by: str,
                      now: datetime, reason: str = "", item_id: str | None = None,
                      expected: int | None = None) -> tuple[Event, str | None, str]:
        """Set the event's topic, incident, severity or region as the officer says (an
        item's label only goes to the feedback). The label is saved with the event, in the
        same step: a correction that is not applied leaves none. Returns the event, what the
        machine had said and the title labelled."""
        said: list[str | None] = []
        listed = await self._listed(event_id) if item_id is not None else {}
        labelled = listed[item_id].title if item_id in listed else ""

        def change(event: Event) -> None:
            if item_id is not None:
                item = listed.get(item_id)
                if item is None:
                    raise ActionError(f"event {event_id} lists no item {item_id}")
                said.append(item.severity if field == "severity" else getattr(event, field))
            else:
                said.append(getattr(event, field))
                _apply_correction(event, field, value, by)
            target = f"item {item_id}" if item_id else "event"
            _audit(event, now, by, f"corrected_{field}",
                   f"{target}: {said[0] or '—'} → {value or '—'} {reason}".strip())

        def label(event: Event) -> Correction:
            return Correction(event_id=event.id, item_id=item_id, field=field,
                              machine=said[-1], officer_value=value, officer=by, at=now,
                              reason=reason, text=labelled or event.title)

        event = await self._update(event_id, now, change, expected, label)
        return event, said[-1], labelled or event.title

    async def merge(self, source_id: str, target_id: str, by: str, now: datetime,
                    reason: str = "", expected: int | None = None) -> Event:
        """One event from now on, saved with the other's retirement in one step; the
        earlier first seen is kept (its clocks started first)."""
        if source_id == target_id:
            raise ActionError("an event cannot be merged into itself")
        source, target = await self._require(source_id), await self._require(target_id)
        _check_version(source, expected)
        for event in (source, target):
            if not event.active:
                raise ActionError(f"event {event.id} is {event.status.value}; only open, "
                                  "acknowledged or escalated events merge")
        officer = Tracker(self._tracker.policy, self._tracker.index, who=by)
        changes = officer.merge(target, source, reason or "an officer merged them", now)
        await self._save_all(changes, source_id)
        gone = changes[1].event
        if self._reminders is not None:
            await self._reminders.resolve(gone.id)
        return changes[0].event

    async def split(self, event_id: str, item_ids: list[str], by: str, now: datetime,
                    reason: str = "", expected: int | None = None) -> Event:
        """Take items out into a new event of their own; both are saved together. Returns
        the new event."""
        event = await self._require(event_id)
        _check_version(event, expected)
        listed = await self._store.item_refs(event)
        moving = [i for i in listed if i.id in set(item_ids)]
        missing = sorted(set(item_ids) - {i.id for i in moving})
        if missing:
            raise ActionError(f"event {event_id} lists no item {', '.join(missing)}")
        if len(moving) >= len(listed):
            raise ActionError("leave at least one item in the event; to move everything, "
                              "correct the event instead")
        new = _split_off(event, moving, now, by, reason)
        version = event.version
        gone = {i.id for i in moving}
        event.items = [i for i in event.items if i.id not in gone]
        event.item_count = max(1, event.item_count - len(moving))
        event.sources = list(dict.fromkeys(i.source_id for i in listed
                                           if i.id not in gone)) or event.sources
        _audit(event, now, by, "split_out", f"{new.id}: {len(moving)} items {reason}".strip())
        kept = dataclasses.replace(self._tracker.finish(event, now, version),
                                   new_refs=[i for i in listed if i.id not in gone],
                                   replace_refs=True)
        changes = [kept, self._tracker.finish(new, now, -1, item_ids=[i.id for i in moving],
                                              new_refs=moving)]
        await self._save_all(changes, event_id)
        return changes[1].event

    async def _status(self, event_id: str, status: EventStatus, by: str, now: datetime,
                      why: str, verb: str, expected: int | None = None) -> Event:
        def change(event: Event) -> None:
            if event.status not in ACTIVE_STATUSES:
                raise ActionError(f"event {event_id} is {event.status.value}; it cannot be "
                                  f"{verb.replace('_', ' ')}")
            event.status = status
            _audit(event, now, by, verb, why)

        event = await self._update(event_id, now, change, expected)
        if not event.active and self._reminders is not None:
            await self._reminders.resolve(event_id)
        return event

    async def _update(self, event_id: str, now: datetime, change,
                      expected: int | None = None,
                      label: Callable[[Event], Correction] | None = None) -> Event:
        """Apply `change` to the stored event and save it (with the officer's `label` for
        the feedback, if any); retried on a concurrent save when the caller named no
        version, a VersionConflict when it did."""
        for _ in range(5):
            event = await self._require(event_id)
            _check_version(event, expected)
            version = event.version
            change(event)
            saved = self._tracker.finish(event, now, version)
            if label is not None:
                saved = replace(saved, feedback=[label(saved.event)])
            try:
                await self._store.save(saved)
            except Conflict:
                continue
            return saved.event
        raise ActionError(f"event {event_id} kept changing; try again")

    async def _save_all(self, changes, event_id: str) -> None:
        try:
            await self._store.save_all(changes)
        except Conflict:  # someone saved one of them meanwhile: nothing was applied
            raise VersionConflict(await self._require(event_id)) from None

    async def _listed(self, event_id: str) -> dict[str, ItemRef]:
        """Every item the event took (its document keeps only the lead ones)."""
        return {r.id: r for r in await self._store.item_refs(await self._require(event_id))}

    async def _require(self, event_id: str) -> Event:
        event = await self._store.load(event_id)
        if event is None:
            raise ActionError(f"no event {event_id}")
        return event


def _check_version(event: Event, expected: int | None) -> None:
    if expected is not None and event.version != expected:
        raise VersionConflict(event)


CORRECTABLE = ("topic", "incident", "severity", "region")


def _apply_correction(event: Event, field: str, value: str | None, by: str) -> None:
    if field == "topic" and value:
        event.topic_votes[value] = OFFICER_VOTE
        event.topic = value
    elif field == "incident" and value:
        event.incident_votes[value] = OFFICER_VOTE
        event.incident = value
    elif field == "severity":
        event.severity, event.severity_evidence = value, {}
        event.severity_source = f"officer:{by}"
    elif field == "region":
        event.region = value


def _response_from(item: ItemRef | Item, channel: ResponseChannel, by: str,
                   note: str) -> Response:
    return Response(id=response_id(item.id), at=item.published, channel=channel, link=item.link,
                    title=item.title, source_id=item.source_id, recorded_by=by, note=note)


def _split_off(event: Event, moving: list[ItemRef], now: datetime, by: str,
               reason: str) -> Event:
    """The new event: the moved items, the old event's labels (an officer corrects them
    if they differ), its own clocks from its first item."""
    first = min(moving, key=lambda i: i.published)
    new = Event(id=f"{event.id}-s{uuid.uuid4().hex[:6]}", kind=event.kind, title=first.title,
                topic=event.topic, incident=event.incident, severity=event.severity,
                region=event.region, county=event.county,
                first_seen=first.published,
                last_seen=max(i.published for i in moving), item_count=len(moving),
                sources=list(dict.fromkeys(i.source_id for i in moving)),
                needs_response=event.needs_response,
                items=[i for i in moving if i.message]
                + [i for i in moving if not i.message][:LEAD_REFS],
                topic_votes=dict(event.topic_votes), incident_votes=dict(event.incident_votes),
                centroid=dict(event.centroid))
    _audit(new, now, by, "split_from", f"{event.id}: {len(moving)} items {reason}".strip())
    return new


def _audit(event: Event, now: datetime, by: str, what: str, why: str) -> None:
    event.history.append(HistoryEntry(at=now, who=by, what=what, why=why))


__all__ = ["CORRECTABLE", "ActionError", "Actions", "VersionConflict"]
