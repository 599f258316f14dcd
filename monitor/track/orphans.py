"""Official answers that matched no open event yet: kept, shown, and matched again.

A county's 情况通报 is often published before the first news report, or worded so unlike
the coverage that it matches nothing at first. Such an item (official, with a response cue)
is never dropped: it waits here, visible in the API, and every event that opens or takes a
report within the grouping window looks for the waiting answers that report its matter (the
report that names the county or the road the 通报 names often comes after it).
"""

from __future__ import annotations

import json
from dataclasses import fields

import redis.asyncio as aioredis

from monitor.models import Item
from monitor.store.keys import Keys
from monitor.track.grouping import Entry, EventIndex, Match
from monitor.track.identity import Marks
from monitor.track.policy import Policy
from monitor.track.responses import response_cues
from monitor.track.tracker import Tagged


class OrphanStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys, retention_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        self._retention = retention_seconds

    async def keep(self, tagged: Tagged) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self._keys.orphan_items, tagged.item.id, dump_tagged(tagged))
        pipe.zadd(self._keys.orphans, {tagged.item.id: tagged.item.published.timestamp()})
        await pipe.execute()

    async def around(self, start_ts: float, end_ts: float) -> list[Tagged]:
        ids = await self._redis.zrangebyscore(self._keys.orphans, start_ts, end_ts)
        if not ids:
            return []
        raw = await self._redis.hmget(self._keys.orphan_items, ids)
        return [load_tagged(r) for r in raw if r]

    async def adopted(self, item_id: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.zrem(self._keys.orphans, item_id)
        pipe.hdel(self._keys.orphan_items, item_id)
        await pipe.execute()

    async def get(self, item_id: str) -> Item | None:
        """One waiting answer (an officer links it to its event by hand)."""
        raw = await self._redis.hget(self._keys.orphan_items, item_id)
        return load_tagged(raw).item if raw else None

    async def all(self, limit: int = 200) -> list[Item]:
        """The waiting answers, newest first (for the API)."""
        ids = await self._redis.zrevrange(self._keys.orphans, 0, limit - 1)
        if not ids:
            return []
        raw = await self._redis.hmget(self._keys.orphan_items, ids)
        return [load_tagged(r).item for r in raw if r]

    async def trim(self, now_ts: float) -> int:
        """Forget answers older than the retention period (the item stream forgets them too)."""
        old = await self._redis.zrangebyscore(self._keys.orphans, 0, now_ts - self._retention)
        if old:
            await self._redis.hdel(self._keys.orphan_items, *old)
            await self._redis.zrem(self._keys.orphans, *old)
        return len(old)


def waits_for_event(tagged: Tagged) -> bool:
    """An official item that matched no open event is kept for the event it answers when it
    is an answer (通报, 情况说明, 回复 …) or reports an incident (an earthquake bureau's
    automatic report comes before any news): nothing official that may answer is dropped."""
    item = tagged.item
    return item.official and not item.reposts_own and bool(
        response_cues(item) or (tagged.incident and tagged.incident != "无"))


def best_for(entry: Entry, waiting: list[Tagged], policy: Policy,
             index: EventIndex | None = None) -> list[tuple[Tagged, Match]]:
    """The waiting answers that report the matter of a newly opened or grown event. With the
    index of every open event, each goes to the event it matches best — the new one or
    another — not to the first that passes the bar (a 通报 before the news may otherwise land
    on a look-alike that opened first); without it, only `entry` is considered."""
    if index is None:
        index = EventIndex(policy.grouping)
        index.put(entry)
    found = []
    for tagged in waiting:
        match = index.best(tagged.marks, tagged.vector, policy.grouping.response_threshold)
        if match is not None:
            found.append((tagged, match))
    return found


def dump_tagged(t: Tagged) -> str:
    return json.dumps({
        "item": t.item.model_dump(mode="json"), "topic": t.topic, "topic_p": t.topic_p,
        "incident": t.incident, "incident_p": t.incident_p, "severity": t.severity,
        "severity_evidence": t.severity_evidence, "region": t.region, "county": t.county,
        "vector": t.vector, "marks": _marks_json(t.marks)}, ensure_ascii=False)


def _marks_json(marks: Marks) -> dict:
    """Every field of the marks, sets as sorted lists: a field added later is kept too."""
    values = {f.name: getattr(marks, f.name) for f in fields(Marks)}
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in values.items()}


def _marks_of(raw: dict) -> Marks:
    sets = {f.name for f in fields(Marks) if isinstance(f.default, frozenset)}
    return Marks(**{k: frozenset(v) if k in sets else v for k, v in raw.items()})


def load_tagged(raw: bytes | str) -> Tagged:
    d = json.loads(raw)
    marks = _marks_of(d.pop("marks"))
    return Tagged(item=Item.model_validate(d.pop("item")), marks=marks, **d)
