"""Closed events leave Redis once the history holds them and the archive period has passed
(on the injected clock); anything still active, recent, or changed since stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from monitor.domain.events import EventStatus, ItemRef
from monitor.history import tables
from monitor.history.archive import Archiver
from monitor.history.consumer import HistoryConsumer
from monitor.history.metrics import HistoryMetrics
from monitor.history.writer import HistoryWriter
from monitor.store.archive import EventEvictor
from monitor.store.events import EventStore
from tests.history.conftest import changed, local, make_event, new

pytestmark = [pytest.mark.redis, pytest.mark.sql]

DAY = 86400


async def test_closed_events_leave_redis_after_the_period_once_archived(redis, keys, history):
    store = EventStore(redis, keys, DAY)
    consumer = HistoryConsumer(redis, keys, store, HistoryWriter(history))
    old = make_event("old", local("2026-09-01T09:00"), status=EventStatus.CLOSED)
    recent = make_event("recent", local("2026-10-20T09:00"), status=EventStatus.CLOSED)
    active = make_event("active", local("2026-09-01T09:00"))
    reopened = make_event("reopened", local("2026-09-01T09:00"), status=EventStatus.CLOSED)
    for event in (old, recent, active, reopened):
        await store.save(new(event))
    await redis.rpush(keys.event_items("old"), ItemRef(  # its list of item references
        id="news:1", source_id="news", title="t", link=None, published=old.first_seen,
        official=False).model_dump_json())
    await consumer.run_once()
    # Changed after the history read it: the newer version is not archived yet.
    await store.save(changed(reopened, status=EventStatus.OPEN))
    metrics = HistoryMetrics()
    archiver = Archiver(history, EventEvictor(redis, keys), after_seconds=30 * DAY,
                        metrics=metrics)

    now = local("2026-11-01T00:00")  # old closed 09-04: 58 days; recent closed 10-23: 9 days
    assert await archiver.run_once(now) == 1
    assert await store.load("old") is None
    assert not await redis.exists(keys.event_items("old"))  # nothing of it left behind
    assert await redis.zscore(keys.events_by_first_seen, "old") is None
    for kept in ("recent", "active", "reopened"):
        assert await store.load(kept) is not None, kept
    with history.connect() as conn:
        evicted = {row.id: row.evicted_at for row in conn.execute(
            sa.select(tables.events.c.id, tables.events.c.evicted_at))}
        deadlines = conn.execute(sa.select(sa.func.count()).select_from(tables.deadlines)
                                 .where(tables.deadlines.c.event_id == "old")).scalar()
    assert evicted["old"] is not None and evicted["recent"] is None
    assert deadlines == 1  # the history keeps everything Redis let go

    assert metrics.archived._value.get() == 1
    assert await archiver.run_once(now + timedelta(days=30)) == 1  # now recent is due
    assert await store.load("recent") is None
    await consumer.run_once()  # reopened's newer version read: open, so never archived
    assert await archiver.run_once(now + timedelta(days=60)) == 0
    assert await store.load("reopened") is not None
