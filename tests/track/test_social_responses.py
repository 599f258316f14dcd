"""An official account's post about an open event is a 微博/微信 response; the account
reposting its own post is not a second one (items as monitor/collect/social.py reads them)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain.events import DeadlineState, ResponseChannel
from monitor.history.consumer import HistoryConsumer
from monitor.history.writer import HistoryWriter
from monitor.models import Item
from monitor.report.build import build_report
from monitor.report.formats import write_csv
from monitor.report.period import parse_month
from tests.history.conftest import history, history_url  # noqa: F401 (fixtures)
from tests.track.conftest import T0, make_item

pytestmark = pytest.mark.redis

EXPLOSION = make_item(1, "会泽县者海镇一化工厂发生爆炸", "曲靖市会泽县者海镇一化工厂发生爆炸，有人员伤亡。",
                      source="outlet")


def weibo_post(n: int, hours: float, *, reposts_own: bool = False) -> Item:
    item = make_item(n, "【情况通报】会泽县者海镇一化工厂发生爆炸 已造成2人死亡",
                     "11月16日9时许，会泽县者海镇一化工厂发生爆炸，已造成2人死亡。事故原因正在调查。",
                     hours=hours, source="yn-yjgl-weibo", official=True, channel="weibo")
    return item.model_copy(update={"reposts_own": reposts_own})


async def test_an_official_weibo_post_meets_the_48h_rule(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, EXPLOSION, weibo_post(2, 3), weibo_post(3, 5, reposts_own=True))
    [event] = await worker.store.load_many(await worker.store.active_ids(0))
    assert [r.channel for r in event.responses] == [ResponseChannel.WEIBO_WECHAT]
    assert event.responses[0].id == f"r-{weibo_post(2, 3).id}"
    [deadline] = [d for d in event.deadlines if d.rule == "response_48h"]
    assert deadline.state is DeadlineState.MET
    assert deadline.met_at == T0 + timedelta(hours=3)
    assert await worker.orphans.all() == []  # the repost waits for nothing either




@pytest.mark.sql
async def test_the_weibo_answer_counts_in_the_months_official_table(pipeline, history,  # noqa: F811
                                                                     tmp_path):
    worker = await pipeline.worker()
    await pipeline.feed(worker, EXPLOSION, weibo_post(2, 3), weibo_post(3, 5, reposts_own=True))
    [event_id] = await worker.store.active_ids(0)
    await HistoryConsumer(pipeline.redis, pipeline.keys, worker.store,
                          HistoryWriter(history)).run_once()
    report = build_report(history, parse_month("2026-11"))
    lines = {line.label: line for line in report.official}
    weibo = lines["4. 微博微信回应事件数"]
    assert (weibo.count, weibo.event_ids) == (1, [event_id])  # one event, not two posts
    [rule] = [r for r in report.rules if r.rule == "response_48h"]
    assert (rule.outcomes.met, rule.outcomes.missed) == (1, 0)
    table = next(p for p in write_csv(report, tmp_path / "2026-11") if p.stem.endswith("-official"))
    assert "4. 微博微信回应事件数,次,1" in table.read_text(encoding="utf-8-sig")
