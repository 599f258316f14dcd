"""Events in Redis. One Lua script saves an event together with everything that must change
with it (its timer, its place in the read-model indexes, the index log, the items it took,
the alerts it raised), and only if nobody saved a newer version meanwhile."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import redis.asyncio as aioredis

from monitor.domain.events import Change, Conflict, Event
from monitor.store.keys import TIMER_LEASE_SECONDS, Keys

# Saves one or more events atomically: every version is checked before anything is
# written (a merge changes two events, and must never be half applied). KEYS: the shared
# indexes, then one event hash per change. ARGV: the count, then one block per change:
# id, expected version, version, json, active, last seen, first seen, due score, next
# check, n items, ttl, item keys…, n alerts, (key, intent)….
_SAVE = """
local n = tonumber(ARGV[1])
local starts = {}
local pos = 2
for e = 1, n do
  starts[e] = pos
  local current = redis.call('HGET', KEYS[6 + e], 'v')
  if (current or '-1') ~= ARGV[pos + 1] then return -e end
  local n_items = tonumber(ARGV[pos + 9])
  pos = pos + 12 + n_items + 2 * tonumber(ARGV[pos + 11 + n_items])
end
for e = 1, n do
  local p = starts[e]
  local id = ARGV[p]
  redis.call('HSET', KEYS[6 + e], 'v', ARGV[p + 2], 'json', ARGV[p + 3])
  if ARGV[p + 4] == '1' then redis.call('ZADD', KEYS[1], ARGV[p + 5], id)
  else redis.call('ZREM', KEYS[1], id) end
  redis.call('ZADD', KEYS[2], ARGV[p + 6], id)
  if ARGV[p + 7] ~= '' then redis.call('ZADD', KEYS[3], ARGV[p + 7], id)
  else redis.call('ZREM', KEYS[3], id) end
  if ARGV[p + 8] ~= '' then redis.call('ZADD', KEYS[4], ARGV[p + 8], id)
  else redis.call('ZREM', KEYS[4], id) end
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'id', id)
  local n_items = tonumber(ARGV[p + 9])
  local ttl = tonumber(ARGV[p + 10])
  for i = 1, n_items do
    redis.call('SET', ARGV[p + 10 + i], id, 'EX', ttl)
  end
  local a = p + 11 + n_items
  for i = 1, tonumber(ARGV[a]) do
    redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', 'key', ARGV[a + 2 * i - 1],
               'intent', ARGV[a + 2 * i])
  end
end
return 1
"""

_CLAIM_TIMERS = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return due
"""


class EventStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys, retention_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        self._retention = max(1, int(retention_seconds))
        self._claim = redis.register_script(_CLAIM_TIMERS)
        self._save = redis.register_script(_SAVE)

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

    async def save(self, change: Change) -> None:
        """Atomically save the event with its indexes, item marks and alerts; Conflict if the
        stored version is not the one the change was based on."""
        await self.save_all([change])

    async def save_all(self, changes: Sequence[Change]) -> None:
        """Several events at once (a merge): all saved, or none and Conflict."""
        keys = self._keys
        args: list[str | float | int] = [len(changes)]
        for change in changes:
            args += _save_args(change, keys, self._retention)
        saved = await self._save(
            keys=[keys.events_active, keys.events_by_first_seen, keys.events_due, keys.timers,
                  keys.index_log, keys.alerts_out, *(keys.event(c.event.id) for c in changes)],
            args=args)
        if saved != 1:
            raise Conflict(changes[-int(saved) - 1].event.id)

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

    async def index_changes(self, after: str) -> tuple[list[str], str]:
        """Event ids changed since stream id `after`, and the id to continue from."""
        entries = await self._redis.xrange(self._keys.index_log, min=f"({after}"
                                           if after != "0-0" else "-", max="+")
        if not entries:
            return [], after
        ids = list(dict.fromkeys(fields[b"id"].decode() for _, fields in entries))
        return ids, entries[-1][0].decode()

    async def ids_by_first_seen(self, start: datetime, end: datetime) -> list[str]:
        ids = await self._redis.zrangebyscore(self._keys.events_by_first_seen,
                                              start.timestamp(), end.timestamp())
        return [i.decode() for i in ids]

    async def ids_by_due(self, limit: int = 500) -> list[str]:
        return [i.decode() for i in await self._redis.zrange(self._keys.events_due, 0, limit - 1)]


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
        len(change.item_ids),
        retention,
        *[keys.item_event(i) for i in change.item_ids],
        len(change.alerts),
        *[part for alert in change.alerts for part in (alert.key, alert.model_dump_json())],
    ]
