"""Official answers are never dropped: a 情况通报 published before the first news report waits
as an orphan (visible), and is attached when the event it answers opens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain.events import DeadlineState
from tests.track.conftest import make_item

pytestmark = pytest.mark.redis

NOTICE = make_item(1, "关于会泽县者海镇一化工厂爆炸事故的情况通报",
                   "11月16日9时许，曲靖市会泽县者海镇一化工厂发生爆炸，造成3人死亡、5人受伤，"
                   "县委县政府第一时间组织救援，事故原因正在调查。",
                   hours=0.5, source="huize-gov", official=True, channel="website")
NEWS = make_item(2, "曲靖会泽一化工厂爆炸致3死5伤",
                 "16日上午，会泽县者海镇一化工企业发生爆炸事故，已造成3人死亡5人受伤。",
                 hours=1.5, source="outlet")
UNRELATED = make_item(3, "关于开展冬季森林防火宣传的通知", "各乡镇要加强冬季森林防火宣传。",
                      hours=0.6, source="huize-gov", official=True, channel="website")


async def test_an_answer_before_the_news_waits_and_is_attached(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, NOTICE, UNRELATED)
    assert [i.id for i in await worker.orphans.all()] == [NOTICE.id]  # kept, not dropped
    await pipeline.feed(worker, NEWS)
    [event_id] = [i.decode() for i in await pipeline.redis.zrange(
        pipeline.keys.events_by_first_seen, 0, -1)]
    event = await worker.store.load(event_id)
    assert [r.id for r in event.responses] == [f"r-{NOTICE.id}"]
    assert all(d.state is DeadlineState.MET for d in event.deadlines)
    assert await worker.orphans.all() == []
    # The matter was public from the notice: its clocks run from then, not from the news.
    assert event.first_seen == NOTICE.published
    assert {d.due for d in event.deadlines} == {NOTICE.published + timedelta(hours=48)}
    assert await pipeline.redis.zscore(pipeline.keys.events_by_first_seen, event_id) == \
        NOTICE.published.timestamp()
    assert any(h.what == "first_seen_moved" for h in event.history)
    detected = [h for h in event.history if h.what == "response_detected"]
    assert len(detected) == 1  # and the evidence is kept: what placed it, with the weights
    assert "shared_places=1" in detected[0].why or "same_county=1" in detected[0].why


async def test_waiting_answers_are_visible_in_the_api(pipeline):
    import aiohttp
    from aiohttp.test_utils import TestServer

    from monitor.metrics import Metrics
    from monitor.track.readmodel import ReadModel
    from monitor.web.app import build_app

    worker = await pipeline.worker()
    await pipeline.feed(worker, NOTICE)
    read = ReadModel(worker.store, worker.orphans)
    server = TestServer(build_app(pipeline.redis, Metrics(), read, None, pipeline.clock),
                        host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=server.make_url("")) as http:
            async with http.get("/api/orphans") as response:
                body = await response.json()
    finally:
        await server.close()
    [answer] = body["answers"]
    assert (answer["id"], answer["title"]) == (NOTICE.id, NOTICE.title)
    assert answer["published"] == NOTICE.published.isoformat()


def test_a_waiting_answer_keeps_everything_that_identifies_its_matter():
    from monitor.track.orphans import dump_tagged, load_tagged
    from tests.track.faketagger import fake_tag

    [tagged] = fake_tag([NOTICE], 60)
    assert tagged.marks.counties and tagged.marks.places  # something to lose
    assert load_tagged(dump_tagged(tagged)) == tagged


async def test_answers_waiting_longer_than_the_retention_are_forgotten(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, NOTICE)
    retention = 86400 * 30  # the pipeline's
    assert await worker.orphans.trim(NOTICE.published.timestamp() + retention - 1) == 0
    assert await worker.orphans.trim(NOTICE.published.timestamp() + retention + 1) == 1
    assert await worker.orphans.all() == []


QUAKE_REPORT = make_item(4, "云南大理州漾濞县发生5.2级地震",
                         "中国地震台网正式测定：11月16日10时30分在云南大理州漾濞县发生5.2级地震，"
                         "震源深度10千米。", hours=0.5, source="cenc", official=True,
                         channel="website")
QUAKE_NEWS = make_item(5, "漾濞5.2级地震 大理市区震感明显",
                       "16日上午，大理州漾濞县发生5.2级地震，大理市区震感明显，暂无人员伤亡报告。",
                       hours=1.0, source="outlet")


async def test_an_official_incident_report_without_answer_words_also_waits(pipeline):
    """An earthquake bureau's automatic report names no 通报 or 回应, and comes before the
    news: it is an authoritative release, kept and attached like any answer."""
    worker = await pipeline.worker()
    await pipeline.feed(worker, QUAKE_REPORT, UNRELATED)
    assert [i.id for i in await worker.orphans.all()] == [QUAKE_REPORT.id]
    await pipeline.feed(worker, QUAKE_NEWS)
    [event] = await worker.store.load_many(await worker.store.active_ids(0))
    assert [r.id for r in event.responses] == [f"r-{QUAKE_REPORT.id}"]


def test_a_waiting_answer_goes_to_the_event_it_matches_best_not_the_first_to_open():
    """A batch opens a look-alike (another county's chemical-plant blast) and the notice's
    own event: the notice, naming no county but the toll, lands on its own event."""
    from monitor.track.grouping import EventIndex
    from monitor.track.orphans import best_for
    from monitor.track.policy import default_policy
    from monitor.track.tracker import Tracker, to_index_entry
    from tests.track.faketagger import fake_tag

    policy = default_policy()
    notice = make_item(11, "关于一化工厂爆炸事故的情况通报",
                       "11月16日9时许，曲靖市一化工厂发生爆炸，造成3人死亡、5人受伤，"
                       "县委县政府第一时间组织救援。", hours=0.5, source="gov", official=True,
                       channel="website")
    lookalike = make_item(12, "曲靖富源一化工厂发生爆炸",
                          "16日上午，富源县一化工企业发生爆炸事故，现场有人员受伤。",
                          hours=1.0, source="a")
    own = make_item(13, "曲靖会泽一化工厂爆炸致3死5伤",
                    "16日上午，会泽县者海镇一化工企业发生爆炸事故，已造成3人死亡5人受伤。",
                    hours=1.5, source="b")
    waiting, *opening = fake_tag([notice, lookalike, own], policy.grouping.centroid_terms)
    index = EventIndex(policy.grouping)
    tracker = Tracker(policy, index)
    entries = []
    for tagged in opening:
        event = tracker.open(tagged, tagged.item.published).event
        index.put(to_index_entry(event))
        entries.append(index.get(event.id))
    first = entries[0]  # the look-alike, which the notice also passes the bar for
    assert [m.event_id for _, m in best_for(first, [waiting], policy)] == [first.event_id]
    [(_, match)] = best_for(first, [waiting], policy, index)
    assert match.event_id == entries[1].event_id
