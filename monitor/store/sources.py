"""Per-source polling state and the shared poll schedule.

The schedule is a sorted set of source id → next poll time. Claiming a due source moves its
score to now + lease, atomically, so among several `monitor` processes exactly one polls it;
if that process dies mid-poll the source becomes due again when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import redis.asyncio as aioredis

from monitor.store import as_text
from monitor.store.keys import Keys

# Claims the due sources and returns each with its state (id, hash, id, hash …): the poll
# needs the state, and reading it here saves a round trip per poll.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  redis.call('SET', ARGV[5] .. id, ARGV[4], 'EX', tonumber(ARGV[6]))
  table.insert(out, id)
  table.insert(out, redis.call('HGETALL', ARGV[7] .. id))
end
return out
"""

_ABANDON = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[2])
  return redis.call('DEL', KEYS[2])
end
return 0
"""

# Record a poll and schedule the next one, then release the lease if it is still ours: one
# round trip per poll rather than two.
_FINISH = """
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
return 1
"""


@dataclass(slots=True)
class SourceState:
    """What the service knows about one source's polling; stored as a Redis hash."""

    failures: int = 0
    last_status: int = 0
    last_error: str = ""
    last_error_reason: str = ""
    last_error_at: float = 0.0
    last_success: float = 0.0
    last_poll: float = 0.0
    next_poll: float = 0.0
    etag: str = ""
    last_modified: str = ""
    items_total: int = 0
    last_new_items: int = 0
    first_success: float = 0.0
    last_new_item_at: float = 0.0  # when a poll last brought a new item

    @classmethod
    def from_hash(cls, raw: dict) -> SourceState:
        state = cls()
        for f in fields(cls):
            value = raw.get(f.name.encode(), raw.get(f.name))
            if value is not None:
                text = value.decode() if isinstance(value, bytes) else value
                setattr(state, f.name, type(getattr(state, f.name))(text))
        return state

    def to_hash(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}

    @property
    def failing(self) -> bool:
        return self.failures > 0

    @property
    def decode_suspect(self) -> bool:
        """The site answers, but its text decodes as the wrong script: items held back."""
        return self.failing and self.last_error_reason == "decode_suspect"


def state_counts(states: Iterable[SourceState]) -> dict[str, int]:
    """Sources per state for the `yq_sources` gauge: ok, failing, decode_suspect."""
    counts = {"ok": 0, "failing": 0, "decode_suspect": 0}
    for state in states:
        counts["decode_suspect" if state.decode_suspect else
               "failing" if state.failing else "ok"] += 1
    return counts


class SourceStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys, lease_seconds: int = 120) -> None:
        self._redis = redis
        self._keys = keys
        self.lease_seconds = lease_seconds
        self._claim = redis.register_script(_CLAIM_DUE)
        self._abandon = redis.register_script(_ABANDON)
        self._finish = redis.register_script(_FINISH)

    async def sync_schedule(self, first_polls: dict[str, float]) -> None:
        """Add configured sources (keeping existing times) and drop removed ones."""
        current = {as_text(m) for m in await self._redis.zrange(self._keys.schedule, 0, -1)}
        pipe = self._redis.pipeline(transaction=True)
        if first_polls:
            pipe.zadd(self._keys.schedule, first_polls, nx=True)
        stale = current - set(first_polls)
        if stale:
            pipe.zrem(self._keys.schedule, *stale)
        await pipe.execute()

    async def claim_due(self, now: datetime, owner: str, limit: int = 100) -> list[str]:
        """Take the poll lease on up to `limit` due sources; nobody else gets them."""
        return [source_id for source_id, _ in await self.claim_due_states(now, owner, limit)]

    async def claim_due_states(self, now: datetime, owner: str,
                               limit: int = 100) -> list[tuple[str, SourceState]]:
        """As claim_due, each source with its state as the lease found it."""
        ts = now.timestamp()
        out = await self._claim(
            keys=[self._keys.schedule],
            args=[ts, ts + self.lease_seconds, limit, owner, self._keys.lease_owner(""),
                  self.lease_seconds, self._keys.source_state("")],
        )
        return [(as_text(out[n]), SourceState.from_hash(_pairs(out[n + 1])))
                for n in range(0, len(out), 2)]

    async def next_due(self) -> float | None:
        first = await self._redis.zrange(self._keys.schedule, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def finish(self, source_id: str, owner: str, state: SourceState) -> None:
        """Record the poll and schedule the next one, then release the lease."""
        fields = [part for pair in state.to_hash().items() for part in pair]
        await self._finish(keys=[self._keys.source_state(source_id), self._keys.schedule,
                                 self._keys.lease_owner(source_id)],
                           args=[source_id, state.next_poll, owner, *fields])

    async def abandon(self, source_id: str, owner: str, now: datetime) -> None:
        """Give an unfinished poll back: due at once, lease released (only if still ours)."""
        await self._abandon(keys=[self._keys.schedule, self._keys.lease_owner(source_id)],
                            args=[owner, source_id, now.timestamp()])

    async def load(self, source_id: str) -> SourceState:
        return SourceState.from_hash(await self._redis.hgetall(self._keys.source_state(source_id)))

    async def load_many(self, source_ids: Iterable[str]) -> dict[str, SourceState]:
        ids = list(source_ids)
        pipe = self._redis.pipeline(transaction=False)
        for source_id in ids:
            pipe.hgetall(self._keys.source_state(source_id))
        raws = await pipe.execute()
        return {i: SourceState.from_hash(raw) for i, raw in zip(ids, raws, strict=True)}

    async def lease_holders(self, source_ids: Iterable[str]) -> dict[str, str | None]:
        ids = list(source_ids)
        if not ids:
            return {}
        owners = await self._redis.mget([self._keys.lease_owner(i) for i in ids])
        return {i: (as_text(o) if o else None) for i, o in zip(ids, owners, strict=True)}


def _pairs(flat: list) -> dict:
    """A Lua script's HGETALL (field, value, field, value …) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def utc(ts: float) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts else None

