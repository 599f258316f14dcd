"""Every wall metric moves when its cause happens: a fake feed site, the real Redis, the
events worker with the keyword tagger, the forwarder and a fake robot, on a fake clock."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from monitor.app import _maintain, open_collector
from monitor.metrics import Metrics
from monitor.notify.forward import AlertForwarder
from monitor.store.items import ensure_groups
from monitor.track.readmodel import ReadModel
from monitor.track.worker import EventsWorker
from monitor.wall.wiring import build_wall
from monitor.web.app import build_app
from tests.fakesite import Document, rss
from tests.helpers import feeds
from tests.notify.conftest import base_config, drain
from tests.track.conftest import T0, make_item
from tests.track.faketagger import fake_tag

pytestmark = pytest.mark.redis

MINE = make_item(1, "镇雄县一煤矿发生透水事故致12人死亡",
                 "昭通市镇雄县一煤矿发生透水事故，目前已造成12人死亡。", source="outlet")
MESSAGE = make_item(2, "盘龙区某小区物业擅自提高物业费", "昆明市盘龙区物业公司擅自上涨物业费。",
                    hours=0.5, source="board", channel="message_board")
GOSSIP = make_item(3, "CBA常规赛：辽宁男篮主场大胜广东", "辽宁男篮在主场以20分优势战胜广东队。",
                   hours=0.6, source="sport")
NOTICE = make_item(10, "关于镇雄县煤矿透水事故的情况通报",
                   "昭通市镇雄县一煤矿发生透水事故，省应急管理厅派出工作组指导救援。",
                   hours=7, source="yn-yjglt", official=True, channel="website")
STAMP = "Mon, 16 Nov 2026 10:00:00 +0800"
SOURCES = [{"id": "good", "interval": 600}, {"id": "broken", "interval": 600}]


class Wall:
    """The service's wall wired as app.py wires it, around the track pipeline fixture."""

    def __init__(self, pipeline, site, settings) -> None:
        self.pipeline, self.site, self.settings = pipeline, site, settings
        self.metrics = Metrics()
        site.put("/good.xml", Document(rss("新闻", [(MINE.title, MINE.link, STAMP)])))
        site.put("/broken.xml", Document(b"oops", status=500))
        self.feeds = feeds(*({**s, "url": site.url(f"/{s['id']}.xml")} for s in SOURCES))
        self.wall = build_wall(self.metrics.registry, pipeline.policy, self.feeds)

    def value(self, name: str, **labels) -> float:
        found = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found

    async def worker(self, tagger=fake_tag) -> EventsWorker:
        """An events worker told of each classified batch, as open_tracking builds it."""
        p = self.pipeline
        await ensure_groups(p.redis, p.keys.items_stream, ["track"])
        worker = EventsWorker(p.redis, p.keys, p.policy, p.clock, name="w1",
                              retention_seconds=86400 * 30, tagger=tagger,
                              on_tagged=self.wall.items)
        await worker.start()
        return worker

    def refresher(self, worker, collector):
        return self.wall.refresher(ReadModel(worker.store, worker.orphans), collector.sources,
                                   self.feeds, self.pipeline.redis, self.pipeline.keys,
                                   self.pipeline.clock)

    async def refresh(self, refresher) -> None:
        refresher._last = float("-inf")  # the throttle is about real time; tests move fake time
        await refresher.refresh()


@pytest.fixture
def wall(pipeline, site, settings) -> Wall:
    return Wall(pipeline, site, settings.model_copy(update={"key_prefix": pipeline.keys.prefix}))


async def test_items_classified_by_topic_and_relevance_and_low_confidence(wall, pipeline):
    def unsure_about_sport(items, terms):
        tagged = fake_tag(items, terms)
        return [dataclasses.replace(t, topic_p=0.2) if t.topic == "无关" else t for t in tagged]

    worker = await wall.worker(tagger=unsure_about_sport)
    await pipeline.feed(worker, MINE, GOSSIP)
    assert wall.value("yq_items_classified_total", topic="其他政务", relevance="relevant") == 1
    assert wall.value("yq_items_classified_total", topic="无关", relevance="irrelevant") == 1
    assert wall.value("yq_items_low_confidence_total", head="topic") == 1
    assert wall.value("yq_items_low_confidence_total", head="incident") == 0
    assert wall.value("yq_classification_batch_duration_seconds_count") == 2


async def test_events_deadlines_and_responses_move_the_wall(wall, pipeline, robots,
                                                            make_notifier, redis):
    worker = await wall.worker()
    notifier = make_notifier(base_config(robots), registry=wall.metrics.registry)
    forward = AlertForwarder(redis, pipeline.keys, worker.store, notifier, pipeline.clock, "w1",
                             on_intent=wall.wall.intents(worker.store))
    await forward.start()
    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        refresher = wall.refresher(worker, collector)
        await pipeline.feed(worker, MINE, MESSAGE)
        await forward.run_once()
        await wall.refresh(refresher)
        assert wall.value("yq_events_open", grade="重大", topic="其他政务") == 1
        assert wall.value("yq_events_open_by_region", region="昭通市") == 1
        assert wall.value("yq_events_new_total", grade="重大", topic="其他政务") == 1
        assert wall.value("yq_deadlines", rule="authoritative_info_5h", state="pending") == 1
        assert wall.value("yq_deadlines", rule="message_2wd", state="pending") == 1
        assert wall.value("yq_events_awaiting_response", rule="authoritative_info_5h",
                          window="6h") == 1
        assert wall.value("yq_deadline_next_due_timestamp_seconds") == (
            MINE.published + timedelta(hours=5)).timestamp()
        assert wall.value("yq_deadlines_on_time_ratio", rule="authoritative_info_5h") == 1

        pipeline.clock.set(T0 + timedelta(hours=4, minutes=30))
        await wall.refresh(refresher)
        assert wall.value("yq_events_awaiting_response", rule="authoritative_info_5h",
                          window="1h") == 1

        pipeline.clock.set(T0 + timedelta(hours=5, minutes=1))
        await pipeline.timers(worker).run_once()
        await forward.run_once()
        await wall.refresh(refresher)
        assert wall.value("yq_deadlines_missed_total", rule="authoritative_info_5h") == 1
        assert wall.value("yq_deadlines", rule="authoritative_info_5h", state="missed") == 1
        assert wall.value("yq_deadlines_on_time_ratio", rule="authoritative_info_5h") == 0
        assert wall.value("yq_events_awaiting_response", rule="authoritative_info_5h",
                          window="overdue") == 1

        await pipeline.feed(worker, NOTICE)  # answered 7 h after the first report
        await forward.run_once()
        await drain(notifier, pipeline.clock)
        await wall.refresh(refresher)
    assert wall.value("yq_notify_messages_total", platform="wecom", outcome="delivered") >= 1
    assert wall.value("yq_deadlines", rule="authoritative_info_5h", state="met_late") == 1
    assert wall.value("yq_deadlines", rule="authoritative_info_5h", state="missed") == 0
    assert wall.value("yq_deadlines", rule="press_conference_24h", state="pending") == 1
    bucket = "yq_response_duration_seconds_bucket"
    assert wall.value(bucket, rule="authoritative_info_5h", le="18000.0") == 0  # not within 5 h
    assert wall.value(bucket, rule="authoritative_info_5h", le="43200.0") == 1
    assert wall.value("yq_response_duration_seconds_sum", rule="authoritative_info_5h") == 7 * 3600
    # The message still owes its reply; the mine's most urgent deadline is now the 24 h one.
    assert wall.value("yq_events_awaiting_response", rule="press_conference_24h",
                      window="24h") == 1


async def test_sources_failing_and_silent_per_source(wall, pipeline, redis):
    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        worker = await wall.worker()
        refresher = wall.refresher(worker, collector)
        await wall.refresh(refresher)
        assert wall.value("yq_source_failing", source="broken") == 0
        pipeline.clock.advance(61)
        await collector.scheduler.run_once()
        await wall.refresh(refresher)
        assert wall.value("yq_source_failing", source="broken") == 1
        assert wall.value("yq_source_failing", source="good") == 0
        assert wall.value("yq_polls_total", outcome="error") == 1
        assert wall.value("yq_poll_errors_total", reason="http_5xx") == 1
        assert wall.value("yq_polls_total", outcome="ok") == 1
        assert wall.value("yq_items_new_total") == wall.value("yq_items_seen_total") == 1
        assert wall.value("yq_fetch_seconds_count") == 2
        assert wall.value("yq_sources_silent") == 0
        pipeline.clock.advance(3 * 600 + 1)  # nobody polls for more than three intervals
        await wall.refresh(refresher)
        assert wall.value("yq_source_silent", source="good") == 1
        assert wall.value("yq_sources_silent") == 1  # broken: failed once, not silent yet


async def test_stream_lag_and_pending_per_group(wall, pipeline, redis):
    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        worker = await wall.worker()
        refresher = wall.refresher(worker, collector)
        await pipeline.items.emit_new([MINE, MESSAGE])
        await wall.refresh(refresher)
        assert wall.value("yq_stream_lag_entries", stream="items", group="track") == 2
        read = await worker._consumer.read(count=1)
        await wall.refresh(refresher)
        assert wall.value("yq_stream_lag_entries", stream="items", group="track") == 1
        assert wall.value("yq_stream_pending_entries", stream="items", group="track") == 1
        await worker._consumer.ack(read)
        await wall.refresh(refresher)
        assert wall.value("yq_stream_pending_entries", stream="items", group="track") == 0


async def test_the_metrics_route_reads_the_state_when_scraped(wall, pipeline, redis):
    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        worker = await wall.worker()
        refresher = wall.refresher(worker, collector)
        await pipeline.feed(worker, MINE)
        app = build_app(redis, wall.metrics, clock=pipeline.clock,
                        before_scrape=refresher.refresh)
        async with TestClient(TestServer(app)) as client:
            body = await (await client.get("/metrics")).text()
    assert 'yq_events_open{grade="重大",topic="其他政务"} 1.0' in body
    assert "process_resident_memory_bytes" in body


async def test_source_states_follow_the_polls(wall, pipeline, redis):
    """The maintenance pass counts sources by state (yq_sources)."""
    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        worker = await wall.worker()
        pipeline.clock.advance(61)
        await collector.scheduler.run_once()
        stop = asyncio.Event()
        task = asyncio.create_task(_maintain(collector, worker.orphans, worker.answers,
                                             wall.feeds, pipeline.clock, wall.metrics, stop))
        for _ in range(100):
            if wall.value("yq_sources", state="failing") == 1:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)
    assert wall.value("yq_sources", state="failing") == 1
    assert wall.value("yq_sources", state="ok") == 1


async def test_the_wall_reads_each_events_glance_and_the_document_of_older_ones(wall, pipeline,
                                                                               redis):
    from monitor.domain.events import EventGlance

    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        worker = await wall.worker()
        refresher = wall.refresher(worker, collector)
        await pipeline.feed(worker, MINE, MESSAGE)
        ids = await worker.store.active_ids(0)
        for event_id in ids:  # saved with the event, in the same step
            raw = await redis.hget(pipeline.keys.event(event_id), "glance")
            assert EventGlance.model_validate_json(raw) == \
                EventGlance.of(await worker.store.load(event_id))
        await wall.refresh(refresher)
        before = [wall.value("yq_events_open", grade="重大", topic="其他政务"),
                  wall.value("yq_deadlines", rule="message_2wd", state="pending")]
        for event_id in ids:  # as events saved before glances were stored
            await redis.hdel(pipeline.keys.event(event_id), "glance")
        await wall.refresh(refresher)
        after = [wall.value("yq_events_open", grade="重大", topic="其他政务"),
                 wall.value("yq_deadlines", rule="message_2wd", state="pending")]
    assert before == after == [1, 1]


async def test_an_unreadable_event_is_counted_and_the_scrape_still_answers(wall, pipeline,
                                                                          redis):
    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        worker = await wall.worker()
        refresher = wall.refresher(worker, collector)
        keys = pipeline.keys
        await redis.zadd(keys.events_active, {"ev-broken": pipeline.clock.now().timestamp()})
        await redis.hset(keys.event("ev-broken"), "json", '{"id": "ev-broken"}')
        await wall.refresh(refresher)
    assert wall.value("yq_wall_refresh_errors_total") == 1


async def test_poll_lag_shows_how_late_the_polls_are(wall, pipeline, redis):
    """yq_poll_lag_seconds: how far behind schedule the most overdue source is, by the
    injected clock; back to 0 once every source has been polled and nothing is due."""
    async with open_collector(wall.settings, wall.feeds, redis, pipeline.clock,
                              wall.metrics) as collector:
        first = await collector.sources.next_due()  # start() spreads the first polls
        assert await collector.scheduler.observe_lag() < 0
        assert wall.value("yq_poll_lag_seconds") == 0
        pipeline.clock.advance(15 * 60)  # the service was stuck for a quarter of an hour
        await collector.scheduler.run_once()
        late = pipeline.clock.now().timestamp() - first
        assert wall.value("yq_poll_lag_seconds") == pytest.approx(late)
        assert late > 14 * 60
        await collector.scheduler.run_once()  # on time now: the next polls are ahead
        assert wall.value("yq_poll_lag_seconds") == 0
        due = await collector.sources.next_due()  # the next poll (600 s on, with jitter)
        pipeline.clock.advance(due - pipeline.clock.now().timestamp() + 30)
        await collector.scheduler.observe_lag()
        assert wall.value("yq_poll_lag_seconds") == pytest.approx(30)
