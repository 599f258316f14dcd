"""The history consumer against a real Redis and a real SQL database (SQLite, and PostgreSQL
in CI's second pass): idempotent per change, resumable after a crash, catching up after
Redis restarts — so the SQL history never double-counts and never falls behind for good."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from monitor.clock import FakeClock
from monitor.domain.events import LEAD_REFS, Change, DeadlineState, ItemRef
from monitor.history import tables
from monitor.history.consumer import GROUP, HistoryConsumer
from monitor.history.db import create_history_engine
from monitor.history.metrics import HistoryMetrics
from monitor.history.writer import HistoryWriter
from monitor.report.build import build_report
from monitor.report.period import parse_month
from monitor.store.embedded import EmbeddedRedis, connect
from monitor.store.events import EventStore
from monitor.store.keys import Keys
from tests.history.conftest import changed, local, make_event, new

pytestmark = [pytest.mark.redis, pytest.mark.sql]


class Crash(Exception):
    pass


def consumer(redis, keys, history, metrics: HistoryMetrics | None = None) -> HistoryConsumer:
    return HistoryConsumer(redis, keys, EventStore(redis, keys, 86400), HistoryWriter(history),
                           metrics=metrics)


def value(counter, *labels) -> float:
    return (counter.labels(*labels) if labels else counter)._value.get()


def count(history, table) -> int:
    with history.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def met_48h(history) -> int:
    rules = build_report(history, parse_month("2026-11")).rules
    return next(r.outcomes.met for r in rules if r.rule == "response_48h")


async def test_a_crash_between_commit_and_ack_counts_nothing_twice(redis, keys, history):
    store = EventStore(redis, keys, 86400)
    crashing = consumer(redis, keys, history)
    await crashing.run_once()  # the service started: the group exists
    for n in range(3):
        await store.save(new(make_event(f"e{n}", local(f"2026-11-0{n + 1}T09:00"))))

    def crash():
        raise Crash

    crashing.before_ack = crash
    with pytest.raises(Crash):
        await crashing.run_once()
    assert count(history, tables.events) == 3  # committed …
    pending = await redis.xpending(keys.index_log, GROUP)
    assert pending["pending"] == 3  # … and never acknowledged

    metrics = HistoryMetrics()
    done = await consumer(redis, keys, history, metrics).run_once()  # the restarted process
    assert (done.entries, done.written) == (3, 0)  # re-delivered, already in: skipped
    assert value(metrics.written) == 0
    assert (await redis.xpending(keys.index_log, GROUP))["pending"] == 0
    assert count(history, tables.events) == 3
    assert count(history, tables.deadlines) == 3 and count(history, tables.responses) == 3
    assert met_48h(history) == 3


async def test_each_change_updates_the_row_and_an_older_version_never_wins(redis, keys,
                                                                          history):
    store = EventStore(redis, keys, 86400)
    event = make_event("e1", local("2026-11-02T09:00"), state=DeadlineState.PENDING,
                       answered_after=None)
    await store.save(new(event))
    reader = consumer(redis, keys, history)
    assert (await reader.run_once()).resynced == 1  # a new history: what Redis held first
    assert met_48h(history) == 0
    answered = make_event("e1", local("2026-11-02T09:00"))
    await store.save(changed(event, deadlines=answered.deadlines,
                             responses=answered.responses))
    assert (await reader.run_once()).written == 1
    assert met_48h(history) == 1
    # A stale copy (version 1) written again changes nothing.
    assert HistoryWriter(history).apply([event], None) == 0
    assert met_48h(history) == 1


async def test_entries_trimmed_from_the_log_are_caught_up_by_a_resync(redis, keys, history):
    store = EventStore(redis, keys, 86400)
    metrics = HistoryMetrics()
    reader = consumer(redis, keys, history, metrics)
    await store.save(new(make_event("e1", local("2026-11-02T09:00"))))
    await reader.run_once()
    assert (value(metrics.resyncs), value(metrics.written)) == (1, 1)  # a new history
    await store.save(new(make_event("e2", local("2026-11-03T09:00"))))
    await store.save(new(make_event("e3", local("2026-11-04T09:00"))))
    # The log forgot e2 while we were down (trimming, as MAXLEN does, keeps the newest).
    await redis.xtrim(keys.index_log, maxlen=1, approximate=False)
    done = await reader.run_once()
    assert done.resynced == 2  # every event Redis holds, read again: e2 and e3 were new
    assert count(history, tables.events) == 3 and met_48h(history) == 3
    await store.save(new(make_event("e4", local("2026-11-05T09:00"))))
    done = await reader.run_once()
    assert (done.resynced, done.written) == (0, 1)  # and then on from the log again
    assert (value(metrics.resyncs), value(metrics.written)) == (2, 4)


async def test_redis_restarted_empty_keeps_the_history_and_catches_up(redis, keys, history):
    store = EventStore(redis, keys, 86400)
    reader = consumer(redis, keys, history)
    await store.save(new(make_event("e1", local("2026-11-02T09:00"))))
    await reader.run_once()
    await redis.delete(keys.index_log, keys.event("e1"), keys.events_by_first_seen)  # lost
    await store.save(new(make_event("e2", local("2026-11-03T09:00"))))
    await reader.run_once()
    assert count(history, tables.events) == 2 and met_48h(history) == 2
    await store.save(new(make_event("e3", local("2026-11-04T09:00"))))
    assert (await reader.run_once()).written == 1
    assert met_48h(history) == 3


async def test_a_restarted_redis_server_is_caught_up_with(tmp_path, history):
    """A real restart of the (embedded) server, with its data kept on disk: the consumer's
    connection breaks, comes back, and finds what was saved around the restart."""
    server = EmbeddedRedis(tmp_path / "redis")
    url = await server.start()
    client = connect(url)
    keys = Keys("restart:")
    try:
        store = EventStore(client, keys, 86400)
        reader = consumer(client, keys, history)
        await store.save(new(make_event("e1", local("2026-11-02T09:00"))))
        await reader.run_once()
        await store.save(new(make_event("e2", local("2026-11-03T09:00"))))  # not yet read
        await server.stop()
        await server.start()
        await store.save(new(make_event("e3", local("2026-11-04T09:00"))))
        done = await reader.run_once()
        assert done.written == 2 and done.resynced == 0
        assert count(history, tables.events) == 3 and met_48h(history) == 3
    finally:
        await client.aclose()
        await server.stop()


async def test_pending_entries_the_log_trimmed_meanwhile_are_let_go(redis, keys, history):
    store = EventStore(redis, keys, 86400)
    crashing = consumer(redis, keys, history)
    await crashing.run_once()

    def crash():
        raise Crash

    crashing.before_ack = crash
    for n in range(3):
        await store.save(new(make_event(f"e{n}", local(f"2026-11-0{n + 1}T09:00"))))
    with pytest.raises(Crash):
        await crashing.run_once()
    await redis.xtrim(keys.index_log, maxlen=1, approximate=False)  # e0 and e1 gone
    done = await consumer(redis, keys, history).run_once()
    assert (done.entries, done.written, done.resynced) == (1, 0, 0)
    assert (await redis.xpending(keys.index_log, GROUP))["pending"] == 0
    assert met_48h(history) == 3


async def test_a_failing_database_is_counted_and_the_loop_goes_on(redis, keys, tmp_path):
    unprepared = create_history_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # no tables
    metrics = HistoryMetrics()
    clock, stop = FakeClock(), asyncio.Event()
    loop = asyncio.create_task(consumer(redis, keys, unprepared, metrics).run(clock, stop))
    await until(lambda: value(metrics.failures, "sql") == 1 and clock.sleepers == 1)
    clock.advance(2)  # the next pass fails the same way: the loop is still there
    await until(lambda: value(metrics.failures, "sql") == 2)
    stop.set()
    await asyncio.wait_for(loop, 5)
    assert value(metrics.failures, "sql") == 2 and value(metrics.failures, "redis") == 0
    unprepared.dispose()


async def until(condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_the_history_holds_every_item_not_only_the_documents_lead(redis, keys, history):
    store = EventStore(redis, keys, 86400)
    event = make_event("viral", local("2026-11-02T09:00"))
    refs = [ItemRef(id=f"news:{n}", source_id=f"s{n}", title=f"转载{n}", link=None,
                    published=local("2026-11-02T09:00") + timedelta(minutes=n), official=False)
            for n in range(LEAD_REFS + 5)]
    await store.save(Change(event.model_copy(update={"items": refs[:LEAD_REFS],
                                                     "item_count": len(refs)}),
                            expected_version=-1, new_refs=refs))
    await HistoryConsumer(redis, keys, store, HistoryWriter(history)).run_once()
    with history.connect() as conn:
        stored = conn.execute(sa.select(tables.items.c.item_id)
                              .where(tables.items.c.event_id == "viral")).scalars().all()
    assert sorted(stored) == sorted(r.id for r in refs)


async def test_one_process_writes_the_history_at_a_time(redis, keys, history):
    """Every process runs a consumer under the one name; only the lease holder writes (two
    would read the same pending entries and write the same rows). When the holder's lease is
    gone (it died: the lease ran out), another takes over."""
    first, second = consumer(redis, keys, history), consumer(redis, keys, history)
    assert await first.holds_lease()
    assert not await second.holds_lease()
    assert await first.holds_lease()  # renewed by its holder
    await redis.delete(keys.history_lease)  # as when it runs out
    assert await second.holds_lease()
    assert not await first.holds_lease()


async def test_a_long_pass_stops_when_the_lease_is_no_longer_ours(redis, keys, history):
    """A backlog longer than the lease: the holder renews it after each batch, and stops at
    the batch after which it finds the lease taken (two writers would write the same rows)."""
    store = EventStore(redis, keys, 86400)
    await HistoryConsumer(redis, keys, store, HistoryWriter(history)).run_once()  # the group
    for n in range(3):
        await store.save(new(make_event(f"e{n}", local("2026-11-02T09:00"))))
    reader = HistoryConsumer(redis, keys, store, HistoryWriter(history), batch=1)
    asked = []

    async def still_mine() -> bool:
        asked.append(1)
        return len(asked) < 2  # the lease is lost after the second batch

    assert (await reader.run_once(still_mine)).entries == 2
    assert count(history, tables.events) == 2
    assert (await reader.run_once()).entries == 1  # the rest, when it is ours again


async def test_item_rows_follow_the_events_list_as_it_grows_and_is_split(redis, keys, history):
    """Each change writes the rows of the items that joined since, and a split (the list
    replaced) deletes the rows of the items it moved away."""
    store = EventStore(redis, keys, 86400)
    at = local("2026-11-02T09:00")
    refs = [ItemRef(id=f"news:{n}", source_id=f"s{n}", title=f"转载{n}", link=None,
                    published=at + timedelta(minutes=n), official=False) for n in range(6)]
    first = make_event("viral", at)
    await store.save(Change(first.model_copy(update={"items": refs[:2], "item_count": 2}),
                            expected_version=-1, new_refs=refs[:2]))
    writes = consumer(redis, keys, history)
    await writes.run_once()
    grown = changed(first, items=refs[:2], item_count=5)
    await store.save(Change(grown.event, grown.expected_version, new_refs=refs[2:5]))
    await writes.run_once()
    assert stored_items(history, "viral") == [r.id for r in refs[:5]]
    split = changed(grown.event, items=refs[:2], item_count=3)
    await store.save(Change(split.event, split.expected_version, new_refs=[refs[0], refs[1],
                                                                            refs[5]],
                            replace_refs=True))
    await writes.run_once()
    assert stored_items(history, "viral") == [refs[0].id, refs[1].id, refs[5].id]


def stored_items(history, event_id: str) -> list[str]:
    with history.connect() as conn:
        return sorted(conn.execute(sa.select(tables.items.c.item_id)
                                   .where(tables.items.c.event_id == event_id)).scalars())


def test_item_rows_stay_right_when_two_writers_take_turns(history):
    """A writer remembers the items it wrote with the version: when another process wrote a
    newer version meanwhile (the history lease moved), it reads the rows back rather than
    trusting what it remembers (which would insert the other's rows again, or miss gone ones)."""
    at = local("2026-11-02T09:00")
    refs = [ItemRef(id=f"news:{n}", source_id=f"s{n}", title=f"转载{n}", link=None,
                    published=at + timedelta(minutes=n), official=False) for n in range(4)]
    event = make_event("viral", at)
    one, other = HistoryWriter(history), HistoryWriter(history)

    def version(n: int, listed):
        return event.model_copy(update={"version": n, "items": listed,
                                        "item_count": len(listed)})

    assert one.apply([version(1, refs[:1])], None) == 1
    assert other.apply([version(2, refs[:2])], None) == 1
    assert one.apply([version(3, refs[:3])], None) == 1
    assert stored_items(history, "viral") == [r.id for r in refs[:3]]
    assert other.apply([version(4, [refs[0], refs[3]])], None) == 1  # a split, by the other
    assert one.apply([version(5, [refs[0], refs[3]])], None) == 1
    assert stored_items(history, "viral") == [refs[0].id, refs[3].id]
