"""What officers do to events, audited, and its effect on the deadline clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.domain.events import Conflict, EventStatus, ResponseChannel
from monitor.domain.events import DeadlineState as S
from monitor.domain.feedback import Correction
from monitor.store.desk import FeedbackStore
from monitor.track.actions import ActionError, Actions, VersionConflict
from tests.notify.conftest import base_config, make_notifier, robots  # noqa: F401
from tests.track.conftest import T0, make_item

pytestmark = pytest.mark.redis


async def two_events(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(
        worker,
        make_item(1, "多地反映减税降费政策落实不到位", "小微企业反映减税降费政策落实不到位。",
                  source="a"),
        make_item(2, "盘龙区某小区物业擅自提高物业费", "昆明市盘龙区物业公司擅自上涨物业费。",
                  hours=0.5, source="board", channel="message_board"),
    )
    ids = [r.decode() for r in
           await pipeline.redis.zrange(pipeline.keys.events_by_first_seen, 0, -1)]
    return worker, Actions(worker.store, worker.tracker), ids


async def test_acknowledge_escalate_and_close_are_audited(pipeline):
    worker, actions, (first, _) = await two_events(pipeline)
    now = pipeline.clock.now()
    await actions.acknowledge(first, "值班员张三", now, "已转财政厅核实")
    await actions.escalate(first, "值班员张三", now, "涉及多个州市")
    event = await actions.close(first, "科长李四", now + timedelta(hours=1), "已处置完毕")
    assert event.status is EventStatus.CLOSED
    audit = [(h.who, h.what, h.why) for h in event.history[-3:]]
    assert audit == [("值班员张三", "acknowledged", "已转财政厅核实"),
                     ("值班员张三", "escalated", "涉及多个州市"),
                     ("科长李四", "closed", "已处置完毕")]
    with pytest.raises(ActionError, match="is closed; it cannot be acknowledged"):
        await actions.acknowledge(first, "值班员张三", now)
    assert await worker.store.next_timer() is not None  # the other event still ticks


async def test_no_response_needed_needs_a_reason_and_waives_the_clock(pipeline):
    _, actions, (first, _) = await two_events(pipeline)
    with pytest.raises(ActionError, match="say why"):
        await actions.no_response_needed(first, "值班员张三", pipeline.clock.now(), " ")
    event = await actions.no_response_needed(first, "值班员张三", pipeline.clock.now(),
                                             "属企业个体纠纷，已转12345热线")
    assert [d.state for d in event.deadlines] == [S.WAIVED]
    audit = next(h for h in event.history if h.what == "marked_no_response_needed")
    assert (audit.who, audit.why) == ("值班员张三", "属企业个体纠纷，已转12345热线")


async def test_a_hand_recorded_response_meets_the_deadline_and_unlinking_undoes_it(pipeline):
    _, actions, (first, _) = await two_events(pipeline)
    at = T0 + timedelta(hours=3)
    event = await actions.record_response(first, "值班员张三", at, at, ResponseChannel.WEIBO_WECHAT,
                                          link="https://weibo.com/x/1", note="官方微博回应")
    [deadline] = event.deadlines
    assert (deadline.state, deadline.met_at) == (S.MET, at)
    response_id = event.responses[0].id
    event = await actions.set_response_link(first, response_id, False, "科长李四", at,
                                            "回应内容与事件无关")
    assert event.deadlines[0].state is S.PENDING
    assert [h.what for h in event.history[-2:]] == ["response_unlinked", "deadline_pending"]


async def test_merge_folds_items_and_keeps_the_earlier_first_seen(pipeline):
    worker, actions, (first, second) = await two_events(pipeline)
    merged = await actions.merge(second, first, "值班员张三", pipeline.clock.now(), "同一事项")
    assert merged.item_count == 2 and set(merged.sources) == {"a", "board"}
    source = await worker.store.load(second)
    assert (source.status, source.merged_into) == (EventStatus.MERGED, first)
    with pytest.raises(ActionError, match="into itself"):
        await actions.merge(first, first, "x", pipeline.clock.now())


async def test_acknowledging_and_closing_stop_the_reminders(pipeline, robots,  # noqa: F811
                                                           make_notifier):  # noqa: F811
    worker, _, (first, second) = await two_events(pipeline)
    notifier = make_notifier(base_config(robots))
    actions = Actions(worker.store, worker.tracker, notifier)
    now = pipeline.clock.now()
    await actions.acknowledge(first, "值班员张三", now)
    assert await notifier.quiet.states({first, second}) == ({first}, set())
    await actions.close(first, "值班员张三", now)
    await actions.no_response_needed(second, "值班员张三", now, "重复留言")
    assert await notifier.quiet.states({first, second}) == ({first}, {first, second})


async def test_a_correction_and_its_label_are_saved_in_one_step(pipeline):
    """The labelled feedback goes in the event's own save: a correction that is applied has
    its label, and one whose save fails (another save came first) leaves none."""
    worker, actions, (first, _) = await two_events(pipeline)
    feedback = FeedbackStore(pipeline.redis, pipeline.keys)
    now = pipeline.clock.now()
    before = await worker.store.load(first)
    event, machine, _ = await actions.correct(first, "topic", "经济发展", "值班员张三", now,
                                              "税费政策属经济发展", expected=before.version)
    [label] = await feedback.all()
    assert (label["event_id"], label["field"], label["machine"], label["officer_value"],
            label["officer"], label["text"], label["item_id"]) == (
        first, "topic", before.topic, "经济发展", "值班员张三", before.title, "")
    assert machine == before.topic and event.version == before.version + 1

    save = worker.store.save

    async def overtaken(change):
        """Another process saves the event between this action's read and its save."""
        current = await worker.store.load(first)
        await save(worker.tracker.finish(current, now, current.version))
        await save(change)

    worker.store.save = overtaken
    with pytest.raises(VersionConflict):
        await actions.correct(first, "topic", "社会治安", "值班员张三", now, "改判",
                              expected=event.version)
    assert len(await feedback.all()) == 1  # the failed save wrote no label
    assert (await worker.store.load(first)).topic == "经济发展"


async def test_a_conflicting_save_writes_neither_event_nor_label(pipeline):
    worker, _, (first, _) = await two_events(pipeline)
    event = await worker.store.load(first)
    label = Correction(event_id=first, item_id=None, field="severity", machine=None,
                       officer_value="较大", officer="值班员张三", at=pipeline.clock.now())
    stale = worker.tracker.finish(event.model_copy(update={"severity": "较大"}),
                                  pipeline.clock.now(), event.version - 1)
    with pytest.raises(Conflict):
        await worker.store.save(replace(stale, feedback=[label]))
    assert await FeedbackStore(pipeline.redis, pipeline.keys).all() == []
    assert (await worker.store.load(first)).version == event.version
    fresh = worker.tracker.finish(event.model_copy(update={"severity": "较大"}),
                                  pipeline.clock.now(), event.version)
    await worker.store.save(replace(fresh, feedback=[label, label]))
    assert [x["officer_value"] for x in await FeedbackStore(pipeline.redis,
                                                            pipeline.keys).all()] == ["较大"] * 2
