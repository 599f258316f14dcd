"""Events in Redis. One Lua script saves an event together with everything that must change
with it (its timer, its place in the read-model indexes, the index log, the items it took,
the alerts it raised, the officers' labels it carries), and only if nobody saved a newer
version meanwhile."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import redis.asyncio as aioredis

from monitor.domain.events import LISTED_REFS, Change, Conflict, Event, EventGlance, ItemRef
from monitor.store.desk import feedback_fields
from monitor.store.keys import TIMER_LEASE_SECONDS, Keys

# Saves one or more events atomically: every version is checked before anything is
# written (a merge changes two events, and must never be half applied). KEYS: the shared
# indexes, then one event hash per change. ARGV: the count, then one block per change:
# id, expected version, version, json, active, last seen, first seen, due score, next
# check, ttl, its list of item references, the list's cap, '1' to replace the list's contents
# (a split) rather than append, its glance (EventGlance: what the wall reads), then five
# counted runs: item keys…, (alert key, intent)…,
# new item references…, lists of merged events…, feedback labels… (each a JSON array of
# field, value pairs for the feedback stream).
_SAVE = """
local function rpush_all(list, values, from, to)
  for i = from, to, 1000 do  -- in slices: unpack is bounded by Lua's stack
    redis.call('RPUSH', list, unpack(values, i, math.min(i + 999, to)))
  end
end
local n = tonumber(ARGV[1])
local blocks = {}
local pos = 2
for e = 1, n do
  local current = redis.call('HGET', KEYS[7 + e], 'v')
  if (current or '-1') ~= ARGV[pos + 1] then return -e end
  local b = {at = pos}
  pos = pos + 14
  for _, run in ipairs({'items', 'alerts', 'refs', 'absorbed', 'feedback'}) do
    local count = tonumber(ARGV[pos])
    local width = (run == 'alerts') and 2 or 1
    b[run] = {from = pos + 1, count = count}
    pos = pos + 1 + width * count
  end
  blocks[e] = b
end
for e = 1, n do
  local b = blocks[e]
  local p = b.at
  local id = ARGV[p]
  redis.call('HSET', KEYS[7 + e], 'v', ARGV[p + 2], 'json', ARGV[p + 3], 'glance', ARGV[p + 13])
  if ARGV[p + 4] == '1' then redis.call('ZADD', KEYS[1], ARGV[p + 5], id)
  else redis.call('ZREM', KEYS[1], id) end
  redis.call('ZADD', KEYS[2], ARGV[p + 6], id)
  if ARGV[p + 7] ~= '' then redis.call('ZADD', KEYS[3], ARGV[p + 7], id)
  else redis.call('ZREM', KEYS[3], id) end
  if ARGV[p + 8] ~= '' then redis.call('ZADD', KEYS[4], ARGV[p + 8], id)
  else redis.call('ZREM', KEYS[4], id) end
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'id', id, 'v', ARGV[p + 2])
  local ttl = tonumber(ARGV[p + 9])
  local list, cap = ARGV[p + 10], tonumber(ARGV[p + 11])
  for i = 0, b.items.count - 1 do
    redis.call('SET', ARGV[b.items.from + i], id, 'EX', ttl)
  end
  for i = 0, b.alerts.count - 1 do
    redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', 'key', ARGV[b.alerts.from + 2 * i],
               'intent', ARGV[b.alerts.from + 2 * i + 1])
  end
  for i = 0, b.absorbed.count - 1 do
    local theirs = redis.call('LRANGE', ARGV[b.absorbed.from + i], 0, cap - 1)
    rpush_all(list, theirs, 1, #theirs)
  end
  if ARGV[p + 12] == '1' then redis.call('DEL', list) end
  rpush_all(list, ARGV, b.refs.from, b.refs.from + b.refs.count - 1)
  for i = 0, b.feedback.count - 1 do
    redis.call('XADD', KEYS[7], 'MAXLEN', '~', 1000000, '*',
               unpack(cjson.decode(ARGV[b.feedback.from + i])))
  end
  if b.refs.count + b.absorbed.count > 0 then redis.call('LTRIM', list, 0, cap - 1) end
end
return 1
"""

_CLAIM_TIMERS = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return due
"""


# Each key's glance field (false when absent), in one command: redis-py spends more on a
# pipeline's per-command packing and parsing than Redis spends on the reads.
_GLANCES = """
local found = {}
for i, key in ipairs(KEYS) do found[i] = redis.call('HGET', key, 'glance') or false end
return found
"""
GLANCE_CHUNK = 2000
REFS_CACHED = 20_000  # parsed item references kept (ItemRef is frozen: shared safely)


class EventStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys, retention_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        self._retention = max(1, int(retention_seconds))
        self._claim = redis.register_script(_CLAIM_TIMERS)
        self._save = redis.register_script(_SAVE)
        self._glances = redis.register_script(_GLANCES)

    async def load(self, event_id: str) -> Event | None:
        raw = await self._redis.hget(self._keys.event(event_id), "json")
        return Event.model_validate_json(raw) if raw else None

    async def load_many(self, event_ids: Iterable[str]) -> list[Event]:
        ids = list(event_ids)
        if not ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for event_id in ids:
            pipe.hget(self._keys.event(event_id), "json")
        return [Event.model_validate_json(raw) for raw in await pipe.execute() if raw]

    async def glance_many(self, event_ids: Iterable[str]) -> list[EventGlance]:
        """What the wall counts of each event; from the document for an event saved before
        glances were stored."""
        ids = list(event_ids)
        found: list[bytes | None] = []
        for start in range(0, len(ids), GLANCE_CHUNK):  # one command per chunk, not per event
            keys = [self._keys.event(i) for i in ids[start:start + GLANCE_CHUNK]]
            found += await self._glances(keys=keys)
        glances = [EventGlance.model_validate_json(raw) for raw in found if raw]
        older = [event_id for event_id, raw in zip(ids, found, strict=True) if not raw]
        return [*glances, *map(EventGlance.of, await self.load_many(older))]

    async def save(self, change: Change) -> None:
        """Atomically save the event with its indexes, item marks and alerts; Conflict if the
        stored version is not the one the change was based on."""
        await self.save_all([change])

    async def save_all(self, changes: Sequence[Change]) -> None:
        """Several events at once (a merge): all saved, or none and Conflict."""
        saved = await self._save(*self._script_input(changes))
        if saved != 1:
            raise Conflict(changes[-int(saved) - 1].event.id)

    async def save_each(self, changes: Sequence[Change]) -> list[Change]:
        """Each change saved on its own, all in one round trip (a batch's events); returns
        those that met a newer version (Conflict for each of them)."""
        if not changes:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for change in changes:
            await self._save(*self._script_input([change]), client=pipe)
        results = await pipe.execute()
        return [c for c, saved in zip(changes, results, strict=True) if saved != 1]

    def _script_input(self, changes: Sequence[Change]) -> tuple[list[str], list]:
        keys = self._keys
        args: list[str | float | int] = [len(changes)]
        for change in changes:
            args += _save_args(change, keys, self._retention)
        return ([keys.events_active, keys.events_by_first_seen, keys.events_due, keys.timers,
                 keys.index_log, keys.alerts_out, keys.feedback,
                 *(keys.event(c.event.id) for c in changes)],
                args)

    async def load_many_with_items(self, event_ids: Iterable[str]) -> list[Event]:
        """As load_many, each event's `items` holding every item it took (the history wants
        them all; the document keeps only the lead ones and the messages)."""
        events = await self.load_many(event_ids)
        if not events:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for event in events:
            pipe.lrange(self._keys.event_items(event.id), 0, LISTED_REFS - 1)
        listed = await pipe.execute()
        return [event.model_copy(update={"items": _all_refs(event, raw)})
                for event, raw in zip(events, listed, strict=True)]

    async def item_refs(self, event: Event, limit: int = LISTED_REFS) -> list[ItemRef]:
        """Every item the event took, in the order they came (its list, and the references
        its document holds: events saved before the list existed kept them only there)."""
        raw = await self._redis.lrange(self._keys.event_items(event.id), 0, limit - 1)
        return _all_refs(event, raw)[:limit]

    async def item_applied(self, item_ids: Sequence[str]) -> dict[str, str]:
        """Items already applied to an event (re-delivered after a crash), with the event."""
        if not item_ids:
            return {}
        found = await self._redis.mget([self._keys.item_event(i) for i in item_ids])
        return {i: e.decode() for i, e in zip(item_ids, found, strict=True) if e}

    async def active_ids(self, since_ts: float) -> list[str]:
        ids = await self._redis.zrangebyscore(self._keys.events_active, since_ts, "+inf")
        return [i.decode() for i in ids]

    async def claim_timers(self, now: datetime, limit: int = 100) -> list[str]:
        ts = now.timestamp()
        due = await self._claim(keys=[self._keys.timers],
                                args=[ts, ts + TIMER_LEASE_SECONDS, limit])
        return [d.decode() for d in due]

    async def next_timer(self) -> float | None:
        first = await self._redis.zrange(self._keys.timers, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def index_changes(self, after: str) -> tuple[dict[str, int], str]:
        """Events changed since stream id `after` with the version each reached (-1 when the
        entry predates versions in the log), and the id to continue from."""
        entries = await self._redis.xrange(self._keys.index_log, min=f"({after}"
                                           if after != "0-0" else "-", max="+")
        if not entries:
            return {}, after
        changed = {fields[b"id"].decode(): int(fields.get(b"v", b"-1")) for _, fields in entries}
        return changed, entries[-1][0].decode()

    async def ids_by_first_seen(self, start: datetime, end: datetime) -> list[str]:
        ids = await self._redis.zrangebyscore(self._keys.events_by_first_seen,
                                              start.timestamp(), end.timestamp())
        return [i.decode() for i in ids]

    async def ids_by_due(self, limit: int = 500) -> list[str]:
        return [i.decode() for i in await self._redis.zrange(self._keys.events_due, 0, limit - 1)]


@functools.lru_cache(maxsize=REFS_CACHED)
def _ref(raw: bytes) -> ItemRef:
    """A listed reference, parsed once: a reference never changes once listed, and the
    history reads a busy event's whole list (thousands) at each change of it."""
    return ItemRef.model_validate_json(raw)


def _all_refs(event: Event, listed: Sequence[bytes]) -> list[ItemRef]:
    """The list's references and the document's (events saved before the list existed kept
    theirs only there; a merge may list one twice), once each, in order of publication."""
    refs = {r.id: r for r in map(_ref, listed)}
    for ref in event.items:
        refs.setdefault(ref.id, ref)
    return sorted(refs.values(), key=lambda r: r.published)


def _save_args(change: Change, keys: Keys, retention: int) -> list[str | float | int]:
    event = change.event
    return [
        event.id,
        str(change.expected_version),
        str(event.version),
        event.model_dump_json(),
        "1" if event.active else "0",
        event.last_seen.timestamp(),
        event.first_seen.timestamp(),
        "" if change.due_score is None else change.due_score,
        "" if change.next_check is None else change.next_check.timestamp(),
        retention,
        keys.event_items(event.id),
        LISTED_REFS,
        "1" if change.replace_refs else "0",
        EventGlance.of(event).model_dump_json(),
        len(change.item_ids),
        *[keys.item_event(i) for i in change.item_ids],
        len(change.alerts),
        *[part for alert in change.alerts for part in (alert.key, alert.model_dump_json())],
        len(change.new_refs),
        *[ref.model_dump_json() for ref in change.new_refs],
        len(change.absorbed),
        *[keys.event_items(gone) for gone in change.absorbed],
        len(change.feedback),
        *[json.dumps(feedback_fields(label), ensure_ascii=False) for label in change.feedback],
    ]
