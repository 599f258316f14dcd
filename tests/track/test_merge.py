"""Two open events found to be one matter merge: the earliest first seen wins, items,
responses and history are carried, clocks and grade follow the merged event; saved together
or not at all; a suggestion when the evidence is not sure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain.alerts import AlertIntent
from monitor.domain.events import Change, Conflict, DeadlineState, EventStatus
from monitor.notify.render import compose
from monitor.track.grouping import Match
from monitor.track.worker import BatchResult
from tests.track.conftest import T0, make_item

pytestmark = pytest.mark.redis

# One quarry collapse, told first without place or toll, then by a second outlet with both.
FIRST = make_item(1, "一采石场发生垮塌事故 救援正在进行", "今天上午一处采石场发生垮塌，有工人被埋，救援正在进行。",
                  source="outlet-a")
SECOND = make_item(2, "镇雄县以古镇石料开采场坍塌致11人遇难",
                   "昭通市镇雄县以古镇一石料开采场发生坍塌，已造成11人遇难。", hours=3,
                   source="outlet-b")


async def two_events(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, FIRST, SECOND)
    events = await worker.store.load_many(await worker.store.active_ids(0))
    assert len(events) == 2, "the two reports must start apart for this test"
    by_item = {e.items[0].id: e for e in events}
    return worker, by_item[FIRST.id], by_item[SECOND.id]


async def test_a_sure_merge_keeps_the_earliest_and_regrades(pipeline):
    worker, early, late = await two_events(pipeline)
    pipeline.clock.set(T0 + timedelta(hours=4))
    result = BatchResult()
    await worker._merge_or_suggest(late.id, Match(late.id, 0.95, 0.5, ()),
                                   Match(early.id, 0.9, 0.4, (), ("same_county=1(+1.2)",)),
                                   result)
    assert result.merged == 1
    kept, gone = await worker.store.load(early.id), await worker.store.load(late.id)
    assert (gone.status, gone.merged_into) == (EventStatus.MERGED, early.id)
    assert kept.item_count == 2 and {i.id for i in kept.items} == {FIRST.id, SECOND.id}
    assert kept.first_seen == FIRST.published and kept.severity == "重大"  # 11 dead
    deadlines = {d.rule: d for d in kept.deadlines}
    assert deadlines["authoritative_info_5h"].due == FIRST.published + timedelta(hours=5)
    assert [h.what for h in kept.history].count("merged") == 1
    assert all(d.state is not DeadlineState.PENDING for d in gone.deadlines)  # superseded
    assert early.id in worker.index and late.id not in worker.index
    assert await worker.store.next_timer() is not None
    intents = [AlertIntent.model_validate_json(raw) for _, raw in await pipeline.alerts()]
    [merge] = [i for i in intents if i.kind == "events_merged"]  # one alert for the merge
    text = "\n".join(line.text for line in compose(merge, pipeline.clock.now(), "").lines)
    assert f"并入：{SECOND.title}" in text and "same_county" in text


async def test_an_unsure_pair_is_a_suggestion_once(pipeline):
    worker, early, late = await two_events(pipeline)
    for _ in range(2):
        await worker._merge_or_suggest(late.id, Match(late.id, 0.7, 0.5, ()),
                                       Match(early.id, 0.6, 0.4, ()), BatchResult())
    for event_id in (early.id, late.id):
        event = await worker.store.load(event_id)
        assert event.status is EventStatus.OPEN
        assert [h.what for h in event.history].count("merge_suggested") == 1


async def test_events_of_two_counties_are_only_suggested_however_sure(pipeline):
    """An item reporting an accident in 富民县 and one in 五华区 does not make them one: the
    officers are told, the machine merges nothing."""
    worker = await pipeline.worker()
    await pipeline.feed(
        worker,
        make_item(1, "富民县一煤矿发生透水事故 5人被困", "昆明市富民县一煤矿发生透水事故，5人被困井下。",
                  source="outlet-a"),
        make_item(2, "五华区一建筑工地发生坍塌 2人被埋", "昆明市五华区一在建工地发生坍塌，2人被埋。",
                  hours=0.2, source="outlet-b"))
    first, second = await worker.store.load_many(await worker.store.active_ids(0))
    assert first.counties and second.counties and not set(first.counties) & set(second.counties)
    result = BatchResult()
    await worker._merge_or_suggest(second.id, Match(second.id, 0.95, 0.5, ()),
                                   Match(first.id, 0.95, 0.5, ()), result)
    assert result.merged == 0
    for event_id in (first.id, second.id):
        event = await worker.store.load(event_id)
        assert event.status is EventStatus.OPEN
        assert [h.what for h in event.history].count("merge_suggested") == 1


async def test_a_merge_is_saved_whole_or_not_at_all(pipeline):
    worker, early, late = await two_events(pipeline)
    changes = worker.tracker.merge(early, late, "test", pipeline.clock.now())
    changes[1] = Change(changes[1].event, expected_version=changes[1].expected_version + 7)
    with pytest.raises(Conflict):
        await worker.store.save_all(changes)
    assert (await worker.store.load(early.id)).item_count == 1  # nothing half applied
    assert (await worker.store.load(late.id)).status is EventStatus.OPEN


async def test_an_item_joined_while_its_event_merges_is_not_lost(pipeline):
    """Worker B stages a join to the later event; worker A merges it into the earlier one
    before B saves: B's save conflicts, and the item lands in the merged event."""
    from monitor.track.worker import _Batch
    from tests.track.faketagger import fake_tag

    a, early, late = await two_events(pipeline)
    b = await pipeline.worker("w2")
    third = make_item(3, "以古镇石料开采场坍塌事故遇难人数升至11人", "昭通市镇雄县以古镇石料开采场坍塌，11人遇难。",
                      hours=4, source="outlet-c")
    [tagged] = fake_tag([third], 60)
    pipeline.clock.set(third.published)
    batch, result = _Batch(), BatchResult()
    assert await b._stage(tagged, batch, result)  # joined in memory, not saved yet
    assert list(batch.staged) == [late.id]
    await a._merge_or_suggest(late.id, Match(late.id, 0.95, 0.5, ()),
                              Match(early.id, 0.9, 0.4, ()), BatchResult())
    await b._flush(batch, result)
    events = await b.store.load_many(await b.store.active_ids(0))
    assert [e.id for e in events] == [early.id]
    assert {i.id for i in events[0].items} == {FIRST.id, SECOND.id, third.id}
    assert events[0].item_count == 3
