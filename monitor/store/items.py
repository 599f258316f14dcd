"""The item store: store-side dedup and the stream of new items.

Dedup and publication happen in one Lua script, so an item is marked seen if and only if it
was added to the stream: a crash can never leave an item marked but unpublished (lost) or
published but unmarked (emitted twice on the next poll).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis
import structlog

from monitor.models import Item
from monitor.store import as_text
from monitor.store.keys import Keys

log = structlog.get_logger("monitor.store.items")

_EMIT = """
local new = {}
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV, 3 do
  if redis.call('SET', ARGV[i], '1', 'NX', 'EX', ttl) then
    redis.call('XADD', KEYS[1], '*', 'id', ARGV[i + 1], 'item', ARGV[i + 2])
    table.insert(new, ARGV[i + 1])
  end
end
return new
"""

# One script, so a consumer cannot read an entry between the check and the delete:
# XGROUP DELCONSUMER drops the pending entries of the consumer with it.
_REMOVE_IDLE_CONSUMERS = """
local removed = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #consumer, 2 do f[consumer[i]] = consumer[i + 1] end
  if f['name'] ~= ARGV[2] and f['pending'] == 0 and f['idle'] >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    table.insert(removed, f['name'])
  end
end
return removed
"""


@dataclass(frozen=True, slots=True)
class StreamEntry:
    entry_id: str
    item: Item


class ItemStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys, retention_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        self._retention = max(1, int(retention_seconds))
        self._emit = redis.register_script(_EMIT)

    async def emit_new(self, items: Sequence[Item]) -> list[Item]:
        """Publish the items never emitted before; return exactly those."""
        unique = list({item.id: item for item in items}.values())
        if not unique:
            return []
        args: list[str | int] = [self._retention]
        for item in unique:
            args += [self._keys.seen(item.id), item.id, item.model_dump_json()]
        new_ids = {as_text(i) for i in await self._emit(keys=[self._keys.items_stream], args=args)}
        return [item for item in unique if item.id in new_ids]

    async def unseen(self, items: Sequence[Item]) -> list[Item]:
        """Which items would be new, without emitting anything (for `monitor poll`)."""
        if not items:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for item in items:
            pipe.exists(self._keys.seen(item.id))
        flags = await pipe.execute()
        return [item for item, seen in zip(items, flags, strict=True) if not seen]

    async def trim(self, now: datetime) -> int:
        """Drop entries older than the retention period; warn if a group had not read them."""
        cutoff_ms = int((now.timestamp() - self._retention) * 1000)
        oldest = await self._redis.xrange(self._keys.items_stream, count=1)
        if not oldest or _ms(oldest[0][0]) >= cutoff_ms:
            return 0
        await self._warn_unread_before(cutoff_ms)
        return int(await self._redis.xtrim(self._keys.items_stream, minid=f"{cutoff_ms}-0",
                                           approximate=False))

    async def _warn_unread_before(self, cutoff_ms: int) -> None:
        for group in await self._redis.xinfo_groups(self._keys.items_stream):
            last = as_text(group.get("last-delivered-id", b"0-0"))
            if _ms(last) < cutoff_ms:
                log.warning("retention_drops_unread_items", group=as_text(group["name"]),
                            last_delivered=last,
                            hint="this consumer group has not read items older than the "
                                 "retention period; they are being dropped unread")


class ItemConsumer:
    """At-least-once reading of the item stream through a consumer group."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, group: str, consumer: str) -> None:
        self._redis = redis
        self._stream = keys.items_stream
        self.group = group
        self.consumer = consumer

    async def ensure_group(self) -> None:
        await ensure_groups(self._redis, self._stream, [self.group])

    async def read(self, count: int = 100, block_ms: int | None = None) -> list[StreamEntry]:
        """Own pending entries first (after a restart), then new ones."""
        pending = await self._read("0", count, None)
        if pending:
            return pending
        return await self._read(">", count, block_ms)

    async def ack(self, entries: Sequence[StreamEntry]) -> int:
        if not entries:
            return 0
        return int(await self._redis.xack(self._stream, self.group, *[e.entry_id for e in entries]))

    async def claim_stale(self, min_idle_ms: int, count: int = 100) -> list[StreamEntry]:
        """Take over entries another consumer read but never acknowledged (it died)."""
        reply = await self._redis.xautoclaim(self._stream, self.group, self.consumer,
                                             min_idle_time=min_idle_ms, start_id="0-0",
                                             count=count)
        # Redis 6.2 answers [cursor, entries]; 7.0 added a third element (deleted ids).
        claimed = reply[1]
        return [_entry(eid, fields) for eid, fields in claimed if fields]

    async def remove_dead(self, min_idle_ms: int) -> list[str]:
        return await remove_idle_consumers(self._redis, self._stream, self.group,
                                           self.consumer, min_idle_ms)

    async def _read(self, start: str, count: int, block_ms: int | None) -> list[StreamEntry]:
        reply = await self._redis.xreadgroup(self.group, self.consumer, {self._stream: start},
                                             count=count, block=block_ms)
        entries = []
        for _stream, messages in reply or []:
            entries += [_entry(eid, fields) for eid, fields in messages if fields]
        return entries


async def ensure_groups(redis: aioredis.Redis, stream: str, groups: Sequence[str]) -> None:
    """Create the consumer groups from the start of the stream, so no item predates them."""
    for group in groups:
        try:
            await redis.xgroup_create(stream, group, id="0", mkstream=True)
        except aioredis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


async def remove_idle_consumers(redis: aioredis.Redis, stream: str, group: str, keep: str,
                                min_idle_ms: int) -> list[str]:
    """Delete the consumers of `group` (except `keep`) idle this long with nothing pending:
    each restart joins under a new name, and the dead names would pile up forever. One
    with pending entries stays until they are taken over; a live one that is deleted
    comes back at its next read, having lost nothing."""
    removed = await redis.eval(_REMOVE_IDLE_CONSUMERS, 1, stream, group, keep, min_idle_ms)
    names = [as_text(name) for name in removed]
    if names:
        log.info("dead_consumers_removed", stream=stream, group=group, consumers=names)
    return names


def _entry(entry_id: bytes | str, fields: dict) -> StreamEntry:
    raw = fields.get(b"item", fields.get("item"))
    return StreamEntry(as_text(entry_id), Item.model_validate_json(raw))


def _ms(entry_id: bytes | str) -> int:
    return int(as_text(entry_id).split("-")[0])

