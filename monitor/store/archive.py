"""Evicting archived events from Redis: an event leaves only if it is still the version the
history holds and still inactive, checked and removed in one script, so a change saved
meanwhile (a late answer, an officer reopening it) keeps it in Redis."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from monitor.store.keys import Keys

# KEYS: event hash, active, first seen, due, timers, its item references. ARGV: id, version.
_EVICT = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return 0 end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[6])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return 1
"""


class EventEvictor:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._evict = redis.register_script(_EVICT)

    async def evict(self, archived: Sequence[tuple[str, int]]) -> list[str]:
        """Remove each (id, version) still at that version and inactive; the ids removed
        (or already gone)."""
        k = self._keys
        gone = []
        for event_id, version in archived:
            removed = await self._evict(
                keys=[k.event(event_id), k.events_active, k.events_by_first_seen,
                      k.events_due, k.timers, k.event_items(event_id)],
                args=[event_id, str(version)])
            if removed or not await self._redis.exists(k.event(event_id)):
                gone.append(event_id)
        return gone
