"""An event document keeps its lead reports and its messages; every item's reference is in
the list beside it — a viral event's saves stay small, and nothing is lost from the list,
through batches, merges and the API."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from monitor.domain.events import LEAD_REFS
from monitor.metrics import Metrics
from monitor.track.grouping import Match
from monitor.track.readmodel import ReadModel
from monitor.track.worker import BatchResult
from monitor.web.app import build_app
from tests.track.conftest import make_item
from tests.track.test_merge import two_events

pytestmark = pytest.mark.redis

REPOSTS = [make_item(n, f"镇雄县一煤矿发生透水事故致12人死亡（转{n}）",
                     "昭通市镇雄县一煤矿透水事故12人死亡。", hours=n / 60, source=f"outlet{n}")
           for n in range(1, 31)]


async def test_reposts_beyond_the_lead_are_listed_not_kept_in_the_document(pipeline):
    worker = await pipeline.worker()
    await pipeline.items.emit_new(REPOSTS[:12])  # one batch: one save for the event
    await worker.run_once()
    await pipeline.feed(worker, *REPOSTS[12:])  # and one save per item
    [event] = await worker.store.load_many(await worker.store.active_ids(0))
    assert event.item_count == len(REPOSTS)
    assert [i.id for i in event.items] == [i.id for i in REPOSTS[:LEAD_REFS]]
    listed = await worker.store.item_refs(event)
    assert [r.id for r in listed] == [i.id for i in REPOSTS]
    assert all(r.why for r in listed[1:])  # each join's evidence is with its reference
    raw = await pipeline.redis.hget(pipeline.keys.event(event.id), "json")
    assert REPOSTS[-1].id not in raw.decode()


async def test_a_merged_events_references_join_the_kept_events_list(pipeline):
    worker, early, late = await two_events(pipeline)
    await worker._merge_or_suggest(late.id, Match(late.id, 0.95, 0.5, ()),
                                   Match(early.id, 0.9, 0.4, ()), BatchResult())
    kept = await worker.store.load(early.id)
    assert {r.id for r in await worker.store.item_refs(kept)} == {
        early.items[0].id, late.items[0].id}


async def test_the_api_lists_every_item_of_an_event(pipeline, redis):
    worker = await pipeline.worker()
    await pipeline.feed(worker, *REPOSTS[:LEAD_REFS + 3])
    [event_id] = await worker.store.active_ids(0)
    app = build_app(redis, Metrics(), ReadModel(worker.store), clock=pipeline.clock)
    async with TestClient(TestServer(app)) as client:
        response = await client.get(f"/api/events/{event_id}")
        body = json.loads(await response.text())
    assert body["item_count"] == LEAD_REFS + 3
    assert [i["id"] for i in body["items"]] == [i.id for i in REPOSTS[:LEAD_REFS + 3]]


async def test_a_batch_save_that_meets_an_officers_edit_is_redone_on_top_of_it(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, REPOSTS[0])
    [event_id] = await worker.store.active_ids(0)
    load, save_each, edited = worker.store.load, worker.store.save_each, []

    async def officer_edits_then_save_each(changes):
        if not edited:  # an officer saves the event after the worker read it, before it saves
            edited.append(True)
            other = await load(event_id)
            other.history.append(other.history[0].model_copy(update={"what": "acknowledged"}))
            await worker.store.save(worker.tracker.finish(other, pipeline.clock.now(),
                                                          other.version))
        return await save_each(changes)

    worker.store.save_each = officer_edits_then_save_each
    await pipeline.items.emit_new(REPOSTS[1:4])
    await worker.run_once()
    event = await load(event_id)
    assert edited and event.item_count == 4
    assert "acknowledged" in [h.what for h in event.history]
    assert [r.id for r in await worker.store.item_refs(event)] == [i.id for i in REPOSTS[:4]]


async def test_an_event_changed_between_batches_is_not_taken_from_the_workers_copy(pipeline):
    """The worker keeps the events it saved; one that an officer saved since is read again
    (its version in the change log differs), so the next join lands on top of the edit."""
    worker = await pipeline.worker()
    await pipeline.feed(worker, REPOSTS[0])
    [event_id] = await worker.store.active_ids(0)
    other = await worker.store.load(event_id)
    other.history.append(other.history[0].model_copy(update={"what": "acknowledged"}))
    await worker.store.save(worker.tracker.finish(other, pipeline.clock.now(), other.version))
    await pipeline.feed(worker, REPOSTS[1])
    event = await worker.store.load(event_id)
    assert event.item_count == 2
    assert "acknowledged" in [h.what for h in event.history]
