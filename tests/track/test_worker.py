"""Items through the events worker on the real Redis, with the shipped classifier."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from monitor.app import open_tracking
from monitor.domain.alerts import AlertIntent
from monitor.domain.events import DeadlineState as S
from monitor.domain.events import EventKind, ResponseChannel
from monitor.metrics import Metrics
from monitor.track.readmodel import ReadModel
from tests.track.conftest import MESSAGE_AND_MAJOR_ACCIDENT, T0, make_item

pytestmark = pytest.mark.redis

MINE = [
    (1, "云南镇雄一煤矿发生透水事故 已致3人死亡",
     "11月16日9时许，昭通市镇雄县一煤矿井下发生透水事故，目前已造成3人死亡，多人被困。", 0.1),
    (2, "昭通镇雄煤矿透水事故致3人死亡 多人被困井下",
     "记者从昭通市了解到，镇雄县一煤矿发生透水事故，已造成3人死亡，搜救工作正在进行。", 0.5),
    (3, "云南镇雄煤矿透水事故死亡人数升至12人",
     "昭通市镇雄县煤矿透水事故死亡人数已升至12人，另有2人失联，事故原因正在调查。", 9.0),
]


async def test_reposts_join_one_event_and_grades_rise_with_the_counts(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, *[make_item(n, t, x, hours=h, source=f"outlet{n}")
                                  for n, t, x, h in MINE[:2]])
    [event_id] = [i async for i in _ids(pipeline)]
    event = await worker.store.load(event_id)
    assert (event.item_count, event.severity, event.incident) == (2, "较大", "事故灾难")
    assert event.region == "昭通市" and event.county == "镇雄县"
    assert {d.rule for d in event.deadlines} == {"response_48h"}
    assert event.first_seen == T0 + timedelta(hours=0.1)

    await pipeline.feed(worker, make_item(3, *MINE[2][1:3], hours=MINE[2][3], source="xinhua"))
    event = await worker.store.load(event_id)
    assert (event.item_count, event.severity, event.severity_evidence["deaths"]) == \
        (3, "重大", 12.0)
    by_rule = {d.rule: d for d in event.deadlines}
    # 12 deaths at 9 h: the 5 h clock, counted from first seen, has already run out.
    assert by_rule["authoritative_info_5h"].state is S.MISSED
    assert by_rule["authoritative_info_5h"].due == event.first_seen + timedelta(hours=5)
    assert by_rule["press_conference_24h"].state is S.PENDING  # 9 of 24 h: not yet half
    assert by_rule["response_48h"].state is S.SUPERSEDED
    assert [h.what for h in event.history if h.what == "severity_raised"] == ["severity_raised"]
    keys = [k for k, _ in await pipeline.alerts()]
    assert f"{event_id}:new_event" in keys and f"{event_id}:severity:重大" in keys


async def test_official_notice_and_press_conference_meet_the_deadlines(pipeline):
    worker = await pipeline.worker()
    mine = [make_item(n, t, x, hours=h, source=f"outlet{n}") for n, t, x, h in MINE]
    notice = make_item(10, "关于镇雄县煤矿透水事故的情况通报",
                       "昭通市镇雄县一煤矿发生透水事故，省应急管理厅派出工作组指导救援。",
                       hours=2, source="yn-yjglt", official=True, channel="website")
    conference = make_item(11, "昭通市召开镇雄县煤矿透水事故新闻发布会",
                           "昭通市召开新闻发布会通报镇雄县煤矿透水事故救援进展，事故共造成12人死亡。",
                           hours=20, source="yn-fabuhui", official=True,
                           channel="press_conference")
    await pipeline.feed(worker, mine[0], mine[1], notice, mine[2], conference)
    [event_id] = [i async for i in _ids(pipeline)]
    event = await worker.store.load(event_id)
    assert [(r.channel, r.source_id) for r in event.responses] == [
        (ResponseChannel.OTHER, "yn-yjglt"), (ResponseChannel.PRESS_CONFERENCE, "yn-fabuhui")]
    by_rule = {d.rule: d for d in event.deadlines}
    assert by_rule["authoritative_info_5h"].state is S.MET
    assert by_rule["press_conference_24h"].state is S.MET
    assert by_rule["press_conference_24h"].met_at == conference.published
    assert event.item_count == 3  # responses are not counted as items


async def test_an_official_notice_with_a_higher_toll_raises_the_grade(pipeline):
    """The county's 通报 is often the first to give the full toll: the grade follows it, and
    the stricter clocks run from first seen, as when the news gives it."""
    worker = await pipeline.worker()
    mine = [make_item(n, t, x, hours=h, source=f"outlet{n}") for n, t, x, h in MINE[:2]]
    notice = make_item(10, "关于镇雄县煤矿透水事故的情况通报",
                       "昭通市镇雄县一煤矿发生透水事故，截至目前事故已造成11人死亡，"
                       "救援工作正在进行。", hours=3, source="yn-yjglt", official=True,
                       channel="website")
    await pipeline.feed(worker, *mine, notice)
    [event_id] = [i async for i in _ids(pipeline)]
    event = await worker.store.load(event_id)
    assert [r.source_id for r in event.responses] == ["yn-yjglt"]
    assert (event.severity, event.severity_evidence["deaths"]) == ("重大", 11.0)
    assert event.severity_source == notice.id and event.item_count == 2
    by_rule = {d.rule: d for d in event.deadlines}
    assert by_rule["authoritative_info_5h"].state is S.MET  # the notice itself, at 3 h
    assert by_rule["press_conference_24h"].state is S.PENDING
    keys = [k for k, _ in await pipeline.alerts()]
    assert f"{event_id}:severity:重大" in keys


QUARRY = [
    (1, "云南罗平一采石场发生垮塌 人员伤亡情况不详",
     "10月8日13时许，曲靖市罗平县阿岗镇一采石场发生垮塌，现场有人员被埋，伤亡情况不详。", 0.0),
    (2, "云南罗平石料开采场坍塌致3人遇难 8人失联",
     "曲靖市罗平县阿岗镇一石料开采场发生坍塌，截至目前已造成3人遇难、8人失联，搜救仍在进行。",
     1.75),
]


async def test_a_first_report_without_a_toll_then_a_major_toll_is_announced(pipeline):
    """The first report names no toll, so the event opens without a grade; the next one
    gives 3 dead and 8 missing (重大). Officers must hear of it then, not from the 5 h
    warning hours later."""
    worker = await pipeline.worker()
    first, second = [make_item(n, t, x, hours=h, source=f"outlet{n}") for n, t, x, h in QUARRY]
    await pipeline.feed(worker, first)
    [event_id] = [i async for i in _ids(pipeline)]
    assert (await worker.store.load(event_id)).severity in (None, "未知")
    await pipeline.feed(worker, second)
    event = await worker.store.load(event_id)
    assert (event.item_count, event.severity) == (2, "重大")
    [raise_entry] = [h for h in event.history if h.what == "severity_raised"]
    assert raise_entry.why.startswith(("未定级 → 重大", "未知 → 重大"))
    raised = [AlertIntent.model_validate_json(raw) for key, raw in await pipeline.alerts()
              if key == f"{event_id}:severity:重大"]
    assert len(raised) == 1 and raised[0].kind == "severity_raised"
    assert "authoritative_info_5h" in {d.rule for d in raised[0].deadlines}


async def test_unrelated_news_opens_no_event(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, make_item(1, "CBA常规赛：辽宁男篮主场大胜广东",
                                          "辽宁男篮在主场以20分优势战胜广东队。"))
    assert [i async for i in _ids(pipeline)] == []


async def test_netizen_messages_get_the_working_day_rule(pipeline):
    worker = await pipeline.worker()
    message = make_item(1, "盘龙区某小区物业擅自提高物业费标准",
                        "昆明市盘龙区某小区物业公司未经业主同意擅自提高物业费。",
                        source="board", channel="message_board", region="昆明")
    await pipeline.feed(worker, message)
    [event_id] = [i async for i in _ids(pipeline)]
    event = await worker.store.load(event_id)
    assert event.kind is EventKind.MESSAGE and event.region == "昆明市"
    [deadline] = event.deadlines
    # Monday 16 Nov, 10:00 → end of Wednesday 18 Nov.
    assert deadline.rule == "message_2wd"
    assert deadline.due.isoformat() == "2026-11-19T00:00:00+08:00"


async def test_two_workers_share_a_stream_without_double_counting(pipeline):
    stories = [("洱海流域多处污水直排 村民反映水体发黑发臭", "大理州洱海流域村庄污水直排入湖。"),
               ("盘龙区某小区物业擅自提高物业费", "昆明市盘龙区某小区物业公司擅自上涨物业费。"),
               ("镇雄县一煤矿发生透水事故致3人死亡", "昭通市镇雄县一煤矿发生透水事故，3人死亡。")]
    items = [make_item(n, stories[n % 3][0] + f"（{n}）", stories[n % 3][1], hours=n * 0.05,
                       source=f"outlet{n}") for n in range(30)]
    await pipeline.items.emit_new(items)
    pipeline.clock.set(T0 + timedelta(hours=2))
    workers = [await pipeline.worker("w1"), await pipeline.worker("w2")]
    while any(r.items for r in await asyncio.gather(*(w.run_once(count=4) for w in workers))):
        pass
    events = await workers[0].store.load_many([i async for i in _ids(pipeline)])
    assert sum(e.item_count for e in events) == 30
    assert len(events) == 3, [(e.title, e.item_count) for e in events]
    assert (await pipeline.redis.xpending(pipeline.keys.items_stream, "track"))["pending"] == 0


async def test_redelivered_items_after_a_crash_are_not_counted_twice(pipeline):
    worker = await pipeline.worker("w1")
    items = [make_item(n, t, x, hours=h, source=f"outlet{n}") for n, t, x, h in MINE[:2]]
    await pipeline.items.emit_new(items)
    entries = await worker._consumer.read(count=10)
    await worker.process(entries)  # applied, then the worker dies before acknowledging
    restarted = await pipeline.worker("w1")
    result = await restarted.run_once()
    assert (result.items, result.repeated) == (2, 2)
    [event_id] = [i async for i in _ids(pipeline)]
    assert (await restarted.store.load(event_id)).item_count == 2


async def test_read_model_orders_open_events_by_time_left(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, *MESSAGE_AND_MAJOR_ACCIDENT)
    rows = await ReadModel(worker.store).open_by_time_left(pipeline.clock.now())
    assert [r.rule for r in rows] == ["authoritative_info_5h", "message_2wd"]
    assert rows[0].seconds_left == pytest.approx(5 * 3600)


async def _ids(pipeline):
    for raw in await pipeline.redis.zrange(pipeline.keys.events_by_first_seen, 0, -1):
        yield raw.decode()


async def test_a_dead_workers_items_are_taken_over_while_new_ones_keep_coming(pipeline):
    dead = await pipeline.worker("dead")
    await pipeline.items.emit_new([make_item(n, t, x, hours=h, source=f"outlet{n}")
                                   for n, t, x, h in MINE[:2]])
    assert len(await dead._consumer.read(count=10)) == 2  # read, then the process is killed
    # Redis measures idleness in real time; here anything unacknowledged counts as abandoned.
    survivor = await pipeline.worker("survivor", stale_ms=0)
    await pipeline.items.emit_new([make_item(3, *MINE[2][1:3], hours=MINE[2][3],
                                             source="xinhua")])
    taken_over, new = await survivor.run_once(), await survivor.run_once()
    assert (taken_over.items, new.items) == (2, 1)
    [event_id] = [i async for i in _ids(pipeline)]
    assert (await survivor.store.load(event_id)).item_count == 3
    assert (await pipeline.redis.xpending(pipeline.keys.items_stream, "track"))["pending"] == 0
    # The dead worker's name goes with its last item: not one more consumer per restart.
    names = await pipeline.redis.xinfo_consumers(pipeline.keys.items_stream, "track")
    assert [c["name"] for c in names] == [b"survivor"]


async def test_an_item_twice_in_one_batch_is_counted_once(pipeline):
    worker = await pipeline.worker()
    item = make_item(1, *MINE[0][1:3], source="outlet")
    await pipeline.items.emit_new([item])
    [entry] = await worker._consumer.read()
    result = await worker.process([entry, entry])
    assert (result.opened != [], result.repeated) == (True, 1)
    [event_id] = [i async for i in _ids(pipeline)]
    assert (await worker.store.load(event_id)).item_count == 1


async def test_the_grouping_lease_is_timed_on_the_metrics(pipeline, settings):
    """Waiting for the grouping lease and holding it show on /metrics (one worker at a time
    applies items: the lease is what a second worker queues on)."""
    metrics = Metrics()
    worker, _ = open_tracking(settings, pipeline.policy, pipeline.redis, pipeline.clock,
                              metrics=metrics)
    await worker.start()
    await pipeline.items.emit_new([make_item(n, t, x, hours=h, source=f"outlet{n}")
                                   for n, t, x, h in MINE[:2]])
    assert (await worker.run_once()).items == 2
    held = metrics.registry.get_sample_value("yq_grouping_lease_seconds_total",
                                             {"phase": "held"})
    wait = metrics.registry.get_sample_value("yq_grouping_lease_seconds_total",
                                             {"phase": "wait"})
    assert held > 0 and wait >= 0
