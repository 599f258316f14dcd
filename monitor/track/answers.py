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

from collections import defaultdict
from dataclasses import dataclass, replace

import redis.asyncio as aioredis

from monitor.domain.events import response_id
from monitor.store.keys import Keys
from monitor.track.grouping import Entry, EventIndex, Match
from monitor.track.identity import Marks, features
from monitor.track.orphans import dump_tagged, load_tagged
from monitor.track.policy import Policy
from monitor.track.responses import response_cues
from monitor.track.tracker import Tagged

# How much better the new event must match an answer than the event it sits on. On the
# fitting halves (labelled.py, split "fit") every answer lands right and the closest other
# event to one scores 0.06 below its own (0.93 against 0.99): a move needs a clear lead.
MOVE_MARGIN = 0.2
MAX_REMEMBERED = 20_000  # tagged forms a worker keeps in memory (a few kB each)
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
    worker and kept in memory, with postings by term, place and county so that an event
    finds the few that share anything with it), their homes do (read at every look)."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, retention_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        self._retention = retention_seconds
        self._tagged: dict[str, Tagged] = {}
        self._postings: dict[str, set[str]] = defaultdict(set)

    async def keep(self, tagged: Tagged, event_id: str) -> None:
        item_id = tagged.item.id
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self._keys.answer_items, item_id, dump_tagged(tagged))
        pipe.hset(self._keys.answer_homes, item_id, event_id)
        pipe.zadd(self._keys.answers, {item_id: tagged.item.published.timestamp()})
        await pipe.execute()
        self._remember(item_id, tagged)

    async def moved(self, item_id: str, event_id: str) -> None:
        await self._redis.hset(self._keys.answer_homes, item_id, event_id)

    async def ids_around(self, start_ts: float, end_ts: float) -> set[str]:
        """The answers published in this span, their tagged forms in memory."""
        ids = [i.decode() for i in
               await self._redis.zrangebyscore(self._keys.answers, start_ts, end_ts)]
        unknown = [i for i in ids if i not in self._tagged]
        if len(self._tagged) + len(unknown) > MAX_REMEMBERED:  # those of weeks ago, mostly
            kept = [(i, self._tagged[i]) for i in ids if i in self._tagged]
            self._tagged, self._postings = {}, defaultdict(set)
            for item_id, tagged in kept:
                self._remember(item_id, tagged)
        if unknown:  # attached by another worker, or before this one started
            raw = await self._redis.hmget(self._keys.answer_items, unknown)
            for item_id, r in zip(unknown, raw, strict=True):
                if r:
                    self._remember(item_id, load_tagged(r))
        return {i for i in ids if i in self._tagged}

    def sharing(self, entry: Entry, among: set[str]) -> list[str]:
        """Those of `among` sharing a term, a place or a county with the event."""
        found: set[str] = set()
        for key in (*entry.centroid, *entry.marks.places,
                    *(f"county:{c}" for c in entry.marks.counties)):
            found |= self._postings.get(key, set())
        return sorted(found & among)

    async def attached(self, ids: list[str]) -> list[Attached]:
        """These answers (in memory: ids_around) with the events they now sit on."""
        if not ids:
            return []
        homes = await self._redis.hmget(self._keys.answer_homes, ids)
        return [Attached(self._tagged[i], home.decode())
                for i, home in zip(ids, homes, strict=True) if home]

    async def around(self, start_ts: float, end_ts: float) -> list[Attached]:
        return await self.attached(sorted(await self.ids_around(start_ts, end_ts)))

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
                self._forget(item_id.decode())
        return len(old)

    def _remember(self, item_id: str, tagged: Tagged) -> None:
        self._tagged[item_id] = tagged
        for key in _keys_of(tagged):
            self._postings[key].add(item_id)

    def _forget(self, item_id: str) -> None:
        tagged = self._tagged.pop(item_id, None)
        for key in _keys_of(tagged) if tagged else ():
            ids = self._postings.get(key)
            if ids is not None:
                ids.discard(item_id)
                if not ids:
                    del self._postings[key]


def _keys_of(tagged: Tagged) -> list[str]:
    """What an event may share with the answer (as _shares_anything reads it)."""
    marks = tagged.marks
    return [*tagged.vector, *marks.places, *(f"county:{c}" for c in marks.named_counties)]


class Lookout:
    """What each event's marks were when its answers around were last re-scored. A busy
    event grows by reposts every batch; re-scoring every answer of the week against it each
    time cost the events worker a third of its speed (bench_track.py), while a report that
    names nothing new (no place, county, count or magnitude) barely moves its scores. New
    events are always looked at."""

    def __init__(self, size: int = 50_000) -> None:
        self._seen: dict[str, int] = {}
        self._size = size

    def changed(self, entry: Entry) -> bool:
        m = entry.marks
        signature = hash((m.places, frozenset(m.counties), m.numbers, frozenset(m.magnitudes)))
        if self._seen.get(entry.event_id) == signature:
            return False
        if len(self._seen) >= self._size:
            self._seen.clear()
        self._seen[entry.event_id] = signature
        return True


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
    # Most answers sit on their own matter's event, which their marks do not contradict:
    # told from the marks alone, before any text is scored.
    if _identifying(tagged) and (not _conflicts_with(tagged, index.get(attached.event_id))
                                 or _conflicts_with(tagged, entry)):
        return None
    # Each scored against the other: the answer's text lead is between its two homes.
    new = index.score(entry.event_id, tagged.marks, tagged.vector, (attached.event_id,))
    if new.score < g.response_threshold or (new.score < g.join_threshold
                                            and not response_cues(tagged.item)):
        return None
    old = index.score(attached.event_id, _without_own(tagged, index.get(attached.event_id)),
                      tagged.vector, (entry.event_id,))
    if new.score < old.score + MOVE_MARGIN:
        return None
    return Move(attached, old, new)


def _without_own(tagged: Tagged, home: Entry | None) -> Marks:
    """The answer's marks less what it brought to the event it sits on: the counts it added
    there are no evidence that it belongs there."""
    brought = home.marks.brought.get(response_id(tagged.item.id)) if home else None
    if not brought:
        return tagged.marks
    return replace(tagged.marks, places=tagged.marks.places - brought,
                   numbers=tagged.marks.numbers - brought)


def _shares_anything(entry: Entry, tagged: Tagged) -> bool:
    marks = tagged.marks
    return not (entry.centroid.keys().isdisjoint(tagged.vector)
                and marks.places.isdisjoint(entry.marks.places)
                and marks.named_counties.isdisjoint(entry.marks.counties))


def _identifying(tagged: Tagged) -> bool:
    marks = tagged.marks
    return bool(marks.places or marks.named_counties or marks.magnitude is not None)


def _conflicts_with(tagged: Tagged, entry: Entry | None) -> bool:
    if entry is None:
        return False
    values = features(tagged.marks, entry.marks, 0.0)  # the marks' features need no text
    return any(values[k] for k in _CONFLICTS)
