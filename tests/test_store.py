"""Redis behaviour that the pipeline relies on, against the real server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from monitor.models import Item
from monitor.store.items import ItemConsumer, ItemStore, ensure_groups, remove_idle_consumers
from monitor.store.sources import SourceState, SourceStore

pytestmark = pytest.mark.redis

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def item(n: int, source: str = "s1") -> Item:
    return Item(id=f"{source}:{n:04d}", source_id=source, source_name="源", title=f"标题{n}",
                summary="", link=f"http://e.cn/{n}", published=NOW, fetched=NOW, official=False,
                channel="news")


async def test_emit_new_returns_only_unseen_items_and_publishes_them_once(redis, keys):
    store = ItemStore(redis, keys, retention_seconds=3600)
    assert [i.id for i in await store.emit_new([item(1), item(2), item(1)])] == \
        ["s1:0001", "s1:0002"]
    assert [i.id for i in await store.emit_new([item(2), item(3)])] == ["s1:0003"]
    assert await redis.xlen(keys.items_stream) == 3
    ttl = await redis.ttl(keys.seen("s1:0001"))
    assert 3500 < ttl <= 3600


async def test_unseen_does_not_emit(redis, keys):
    store = ItemStore(redis, keys, retention_seconds=3600)
    await store.emit_new([item(1)])
    assert [i.id for i in await store.unseen([item(1), item(2)])] == ["s1:0002"]
    assert await redis.xlen(keys.items_stream) == 1


async def test_consumer_group_is_at_least_once_across_a_crash(redis, keys):
    await ensure_groups(redis, keys.items_stream, ["track"])
    store = ItemStore(redis, keys, retention_seconds=3600)
    await store.emit_new([item(n) for n in range(5)])
    crashed = ItemConsumer(redis, keys, "track", "worker-a")
    taken = await crashed.read(count=3)
    assert len(taken) == 3  # read, never acknowledged: the worker died mid-batch
    # The same consumer restarting gets its own pending entries first.
    assert [e.entry_id for e in await crashed.read(count=10)] == [e.entry_id for e in taken]
    survivor = ItemConsumer(redis, keys, "track", "worker-b")
    rest = await survivor.read(count=10)
    assert len(rest) == 2
    await survivor.ack(rest)
    claimed = await survivor.claim_stale(min_idle_ms=0)
    assert sorted(e.item.id for e in claimed) == [e.item.id for e in taken]
    await survivor.ack(claimed)
    assert (await redis.xpending(keys.items_stream, "track"))["pending"] == 0


async def test_two_consumers_share_the_stream_without_overlap(redis, keys):
    await ensure_groups(redis, keys.items_stream, ["track"])
    store = ItemStore(redis, keys, retention_seconds=3600)
    await store.emit_new([item(n) for n in range(40)])
    workers = [ItemConsumer(redis, keys, "track", f"w{i}") for i in range(2)]
    seen: list[str] = []
    while batches := [b for b in await asyncio.gather(*(w.read(count=7) for w in workers)) if b]:
        for worker, batch in zip(workers, batches, strict=False):
            seen += [e.item.id for e in batch]
            await worker.ack(batch)
    assert sorted(seen) == sorted({f"s1:{n:04d}" for n in range(40)})


async def test_group_created_after_items_still_sees_them(redis, keys):
    store = ItemStore(redis, keys, retention_seconds=3600)
    await store.emit_new([item(1)])
    await ensure_groups(redis, keys.items_stream, ["late"])
    entries = await ItemConsumer(redis, keys, "late", "c").read()
    assert [e.item.id for e in entries] == ["s1:0001"]


async def test_trim_drops_entries_older_than_retention(redis, keys):
    store = ItemStore(redis, keys, retention_seconds=3600)
    await store.emit_new([item(1), item(2)])
    server_now = datetime.fromtimestamp((await redis.time())[0], UTC)
    assert await store.trim(server_now) == 0
    assert await store.trim(server_now + timedelta(hours=2)) == 2
    assert await redis.xlen(keys.items_stream) == 0


async def test_claim_due_gives_each_source_to_one_owner(redis, keys):
    store = SourceStore(redis, keys)
    await store.sync_schedule({f"s{i}": NOW.timestamp() - 1 for i in range(20)})
    a, b = await asyncio.gather(*(store.claim_due(NOW, owner, limit=15) for owner in "ab"))
    assert not set(a) & set(b) and len(a) + len(b) == 20
    assert await store.claim_due(NOW, "c") == []
    # The lease runs out: a process that died mid-poll gives its sources back.
    later = NOW + timedelta(seconds=store.lease_seconds + 1)
    assert len(await store.claim_due(later, "c", limit=100)) == 20


async def test_finish_schedules_next_poll_and_releases_the_lease(redis, keys):
    store = SourceStore(redis, keys)
    await store.sync_schedule({"s1": NOW.timestamp()})
    assert await store.claim_due(NOW, "a") == ["s1"]
    assert (await store.lease_holders(["s1"]))["s1"] == "a"
    state = SourceState(next_poll=NOW.timestamp() + 600, items_total=3)
    await store.finish("s1", "a", state)
    assert (await store.lease_holders(["s1"]))["s1"] is None
    assert await store.next_due() == NOW.timestamp() + 600
    assert (await store.load("s1")).items_total == 3


async def test_abandon_makes_the_source_due_now(redis, keys):
    store = SourceStore(redis, keys)
    await store.sync_schedule({"s1": NOW.timestamp()})
    await store.claim_due(NOW, "a")
    await store.abandon("s1", "b", NOW)  # not the owner: nothing happens
    assert await store.claim_due(NOW, "b") == []
    await store.abandon("s1", "a", NOW)
    assert await store.claim_due(NOW, "b") == ["s1"]


async def test_sync_schedule_keeps_times_and_drops_removed_sources(redis, keys):
    store = SourceStore(redis, keys)
    await store.sync_schedule({"s1": 100.0, "s2": 200.0})
    await store.sync_schedule({"s1": 999.0, "s3": 300.0})
    scheduled = dict(await redis.zrange(keys.schedule, 0, -1, withscores=True))
    assert scheduled == {b"s1": 100.0, b"s3": 300.0}


async def test_trim_warns_only_when_a_group_had_not_read_what_is_dropped(redis, keys):
    await ensure_groups(redis, keys.items_stream, ["track"])
    store = ItemStore(redis, keys, retention_seconds=3600)
    server_now = datetime.fromtimestamp((await redis.time())[0], UTC)
    with capture_logs() as logs:
        assert await store.trim(server_now) == 0  # empty stream: nothing to say
        await store.emit_new([item(1)])
        assert await store.trim(server_now) == 0
    assert logs == []
    with capture_logs() as logs:
        assert await store.trim(server_now + timedelta(hours=2)) == 1
    assert [(e["event"], e["group"]) for e in logs] == [("retention_drops_unread_items", "track")]


async def consumers(redis, stream: str, group: str) -> dict[str, int]:
    return {c["name"].decode(): c["pending"] for c in await redis.xinfo_consumers(stream, group)}


async def test_a_dead_consumer_is_removed_once_its_entries_are_taken_over(redis, keys):
    await ensure_groups(redis, keys.items_stream, ["track"])
    await ItemStore(redis, keys, retention_seconds=3600).emit_new([item(n) for n in range(3)])
    dead = ItemConsumer(redis, keys, "track", "dead")
    assert len(await dead.read(count=2)) == 2  # then its process is killed
    done = ItemConsumer(redis, keys, "track", "done")
    await done.ack(await done.read(count=10))  # an earlier run that finished its work
    survivor = ItemConsumer(redis, keys, "track", "survivor")
    assert await survivor.remove_dead(min_idle_ms=3_600_000) == []  # none idle for an hour
    assert await survivor.remove_dead(min_idle_ms=0) == ["done"]  # 'dead' still owes two
    assert await consumers(redis, keys.items_stream, "track") == {"dead": 2}
    await survivor.ack(await survivor.claim_stale(min_idle_ms=0))
    assert await survivor.remove_dead(min_idle_ms=0) == ["dead"]
    assert await consumers(redis, keys.items_stream, "track") == {"survivor": 0}


async def test_removing_idle_consumers_keeps_the_caller(redis, keys):
    await ensure_groups(redis, keys.items_stream, ["track"])
    await redis.xgroup_createconsumer(keys.items_stream, "track", "me")
    assert await remove_idle_consumers(redis, keys.items_stream, "track", "me", 0) == []
    assert await consumers(redis, keys.items_stream, "track") == {"me": 0}
