"""Quiet rules: silences, acknowledgements, resolved events, and the grouping window.

What stays quiet and why:
- a silence (by event, topic, region or route/robot; with an expiry, a reason and who set it) drops
  matching alerts at send time;
- an acknowledged event gets no more reminders: no "due soon" and no repeated "missed";
- a resolved event (closed or answered) gets no more reminders either;
- after a message about an event went to a robot, further alerts for that event and robot
  wait out `group_interval` and then go together as one message.
First-time news (a new event, a raised severity, a missed deadline, a response) is never
held back by an acknowledgement.
"""

from __future__ import annotations

import json
from datetime import datetime

import redis.asyncio as aioredis
from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from monitor.domain.alerts import AlertKind
from monitor.notify.outbox import Stored
from monitor.store.keys import NOTIFY_KEEP_SECONDS, Keys

REMINDERS = {AlertKind.DEADLINE_DUE_SOON}


class Silence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    event_id: str | None = None
    topic: str | None = None
    region: str | None = None  # the event's prefecture, e.g. 昆明
    route: str | None = None  # a route name or a robot id
    until: AwareDatetime
    reason: str
    by: str = ""
    created: AwareDatetime

    @model_validator(mode="after")
    def _something(self) -> Silence:
        if not (self.event_id or self.topic or self.region or self.route):
            raise ValueError("a silence needs an event_id, a topic, a region or a route")
        if not self.reason.strip():
            raise ValueError("a silence needs a reason")
        return self

    def matches(self, stored: Stored, robot: str) -> bool:
        intent = stored.intent
        if self.event_id and intent.get("event_id") != self.event_id:
            return False
        if self.topic and intent.get("topic") != self.topic:
            return False
        if self.region and intent.get("region") != self.region:
            return False
        return not self.route or self.route == robot or self.route in stored.routes


def is_reminder(stored: Stored) -> bool:
    return stored.repeat > 0 or stored.intent.get("kind") in REMINDERS


def quiet_reason(stored: Stored, robot: str, silences: list[Silence], acked: set[str],
                 resolved: set[str]) -> str | None:
    """Why this alert should not go to this robot now, or None."""
    if any(s.matches(stored, robot) for s in silences):
        return "silenced"
    event = stored.intent.get("event_id")
    if event and is_reminder(stored):
        if event in resolved:
            return "resolved"
        if event in acked:
            return "acknowledged"
    return None


class QuietStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._r = redis
        self._k = keys

    async def add_silence(self, silence: Silence) -> None:
        await self._r.hset(self._k.notify_silences, silence.id, silence.model_dump_json())

    async def remove_silence(self, silence_id: str) -> bool:
        return bool(await self._r.hdel(self._k.notify_silences, silence_id))

    async def silences(self, now: datetime) -> list[Silence]:
        """Active silences; expired ones are removed."""
        raw = await self._r.hgetall(self._k.notify_silences)
        active: list[Silence] = []
        expired = []
        for sid, value in raw.items():
            silence = Silence.model_validate(json.loads(value))
            if silence.until > now:
                active.append(silence)
            else:
                expired.append(sid)
        if expired:
            await self._r.hdel(self._k.notify_silences, *expired)
        return sorted(active, key=lambda s: s.until)

    async def acknowledge(self, event_id: str, by: str, at: datetime) -> None:
        value = json.dumps({"by": by, "at": at.isoformat()}, ensure_ascii=False)
        await self._r.set(self._k.notify_ack(event_id), value, ex=NOTIFY_KEEP_SECONDS)

    async def resolve(self, event_id: str, at: datetime) -> None:
        await self._r.set(self._k.notify_resolved(event_id), at.isoformat(),
                          ex=NOTIFY_KEEP_SECONDS)

    async def reopen(self, event_id: str) -> None:
        """Re-opened by an officer: reminders resume."""
        await self._r.delete(self._k.notify_ack(event_id), self._k.notify_resolved(event_id))

    async def states(self, event_ids: set[str]) -> tuple[set[str], set[str]]:
        """(acknowledged, resolved) among `event_ids`."""
        ids = sorted(event_ids)
        if not ids:
            return set(), set()
        values = await self._r.mget([self._k.notify_ack(e) for e in ids] +
                                    [self._k.notify_resolved(e) for e in ids])
        acked = {e for e, v in zip(ids, values[:len(ids)], strict=True) if v}
        resolved = {e for e, v in zip(ids, values[len(ids):], strict=True) if v}
        return acked, resolved

    async def group_wait_left(self, pairs: list[tuple[str, str]], now: datetime
                              ) -> dict[tuple[str, str], float]:
        """For (robot, event) pairs: seconds left of the grouping window (0 if none).

        The window's end is stored as a time of the injected clock (the Redis TTL only
        collects garbage), so fake-clock tests and several processes agree on it."""
        if not pairs:
            return {}
        ends = await self._r.mget([self._k.notify_group(r, e) for r, e in pairs])
        return {p: max(0.0, float(end) - now.timestamp()) if end else 0.0
                for p, end in zip(pairs, ends, strict=True)}
