"""How far behind each consumer group of a stream is, for the stream-lag metrics."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from monitor.store import as_text

LAG_COUNT_CAP = 100_000  # counting unread entries by hand stops here (a backlog is a backlog)


@dataclass(frozen=True, slots=True)
class GroupBacklog:
    group: str
    pending: int  # read and not acknowledged
    lag: int  # not read yet


async def group_backlogs(redis: aioredis.Redis, stream: str) -> list[GroupBacklog]:
    """Each group's pending and unread entries; none when the stream does not exist yet."""
    try:
        groups = await redis.xinfo_groups(stream)
    except aioredis.ResponseError as exc:
        if "no such key" in str(exc).lower():
            return []
        raise
    return [GroupBacklog(as_text(g["name"]), int(g["pending"]), await _lag(redis, stream, g))
            for g in groups]


async def _lag(redis: aioredis.Redis, stream: str, info: dict) -> int:
    """Redis 7 reports the lag itself (None when it cannot tell after a deletion); 6.2, as
    embedded, does not, so the entries after the last delivered id are counted."""
    if info.get("lag") is not None:
        return int(info["lag"])
    after = as_text(info["last-delivered-id"])
    entries = await redis.xrange(stream, min=f"({after}", max="+", count=LAG_COUNT_CAP)
    return len(entries)
