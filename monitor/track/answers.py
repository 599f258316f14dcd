"""Attached official answers, kept so that an event opening later can take back its own.

A county's 通报 is often published before the first news report of its matter. When a
look-alike (the same kind of incident in a neighbouring county) is open then, the notice
passes the answer bar for it and attaches there; minutes later the first report of its own
matter opens another event. Each attached answer's tagged form (its term vector and marks,
a few hundred bytes) is kept here with the event it sits on, so that every event that opens
or grows can re-score the answers around it without re-tagging their text; one it matches
clearly better moves (Tracker.move_response), with the scores in both events' histories.

Only answers the worker attached are kept: one an officer linked by hand stays where the
officer put it.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from monitor.store.keys import Keys
from monitor.track.grouping import Entry, EventIndex, Match
from monitor.track.orphans import dump_tagged, load_tagged
from monitor.track.policy import Policy
from monitor.track.responses import response_cues
from monitor.track.tracker import Tagged

# How much better the new event must match an answer than the event it sits on. Chosen on
# the fitting halves (labelled.py, split "fit"): see the commit that introduced it.
MOVE_MARGIN = 0.2
# What the matter's marks say against an event: another county, town, city or magnitude.
_CONFLICTS = ("county_conflict", "place_conflict", "city_conflict", "magnitude_conflict")


@dataclass(frozen=True, slots=True)
class Attached:
    tagged: Tagged
    event_id: str  # the event it sits on


@dataclass(frozen=True, slots=True)
class Move:
    attached: Attached
    old: Match  # its score for the event it sits on
    new: Match  # and for the event it moves to


class AnswerStore:
    """Attached answers by publication time; their tagged forms never change (read once per
    worker and kept in memory), their homes do (read at every look)."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, retention_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        self._retention = retention_seconds
        self._tagged: dict[str, Tagged] = {}

    async def keep(self, tagged: Tagged, event_id: str) -> None:
        item_id = tagged.item.id
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self._keys.answer_items, item_id, dump_tagged(tagged))
        pipe.hset(self._keys.answer_homes, item_id, event_id)
        pipe.zadd(self._keys.answers, {item_id: tagged.item.published.timestamp()})
        await pipe.execute()
        self._tagged[item_id] = tagged

    async def moved(self, item_id: str, event_id: str) -> None:
        await self._redis.hset(self._keys.answer_homes, item_id, event_id)

    async def around(self, start_ts: float, end_ts: float) -> list[Attached]:
        ids = [i.decode() for i in
               await self._redis.zrangebyscore(self._keys.answers, start_ts, end_ts)]
        if not ids:
            return []
        homes = await self._redis.hmget(self._keys.answer_homes, ids)
        unknown = [i for i in ids if i not in self._tagged]
        if unknown:  # attached by another worker, or before this one started
            raw = await self._redis.hmget(self._keys.answer_items, unknown)
            self._tagged.update({i: load_tagged(r) for i, r in zip(unknown, raw, strict=True)
                                 if r})
        return [Attached(self._tagged[i], home.decode())
                for i, home in zip(ids, homes, strict=True) if home and i in self._tagged]

    async def trim(self, now_ts: float) -> int:
        """Forget answers older than the retention period (the events forget them too)."""
        old = await self._redis.zrangebyscore(self._keys.answers, 0, now_ts - self._retention)
        if old:
            pipe = self._redis.pipeline(transaction=True)
            pipe.hdel(self._keys.answer_items, *old)
            pipe.hdel(self._keys.answer_homes, *old)
            pipe.zrem(self._keys.answers, *old)
            await pipe.execute()
            for item_id in old:
                self._tagged.pop(item_id.decode(), None)
        return len(old)


def moves_to(entry: Entry, attached: list[Attached], policy: Policy,
             index: EventIndex) -> list[Move]:
    """The attached answers that `entry` (an event that opened or grew) shows to be its own."""
    found = []
    for one in attached:
        move = better_home(entry, one, policy, index)
        if move is not None:
            found.append(move)
    return found


def better_home(entry: Entry, attached: Attached, policy: Policy,
                index: EventIndex) -> Move | None:
    """A move when the answer matches `entry` above the answer bar (as when it came: with an
    answer's words, or as surely as a report joins) and by MOVE_MARGIN better than the event
    it sits on — and, when its own marks name a county, a town or a magnitude, that event's
    differ from them while the new one's do not."""
    if attached.event_id == entry.event_id or attached.event_id not in index:
        return None
    tagged, g = attached.tagged, policy.grouping
    if not _shares_anything(entry, tagged):  # most pairs: no score needed
        return None
    new = index.score(entry.event_id, tagged.marks, tagged.vector)
    if new.score < g.response_threshold or (new.score < g.join_threshold
                                            and not response_cues(tagged.item)):
        return None
    old = index.score(attached.event_id, tagged.marks, tagged.vector)
    if new.score < old.score + MOVE_MARGIN:
        return None
    if _identifying(tagged) and (not _conflicts(old) or _conflicts(new)):
        return None
    return Move(attached, old, new)


def _shares_anything(entry: Entry, tagged: Tagged) -> bool:
    marks = tagged.marks
    return (any(t in entry.centroid for t in tagged.vector)
            or bool(marks.places & entry.marks.places)
            or bool(marks.named_counties & entry.marks.counties))


def _identifying(tagged: Tagged) -> bool:
    marks = tagged.marks
    return bool(marks.places or marks.named_counties or marks.magnitude is not None)


def _conflicts(match: Match) -> bool:
    return any(match.values.get(k) for k in _CONFLICTS)
