"""An official account's post about an open event is a 微博/微信 response; the account
reposting its own post is not a second one (items as monitor/collect/social.py reads them)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain.events import DeadlineState, ResponseChannel
from monitor.models import Item
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


