"""An answer that matched no event when it came is matched again as the event grows: the
first report of a pile-up names neither the highway's number nor the county the police's
通报 names; the next report names both, and the 通报 lands on the event."""

from __future__ import annotations

import pytest

from tests.track.conftest import make_item

pytestmark = pytest.mark.redis

FIRST = make_item(1, "楚大高速南华段团雾致多车追尾",
                  "30日早上，楚大高速南华段出现团雾，多辆车辆发生追尾，现场有人员受伤，"
                  "大理往楚雄方向部分车道封闭。", source="outlet-a")
NOTICE = make_item(2, "【事故通报】G56杭瑞高速楚大段南华境内发生多车相撞事故",
                   "7时40分许，G56杭瑞高速楚大段K2420处（南华县境内，大理往楚雄方向）因突发团雾"
                   "发生多车相撞，涉及车辆9辆。伤者已送医救治，事故原因正在调查。",
                   hours=0.5, source="police", official=True, channel="weibo")
SECOND = make_item(3, "楚大高速南华段团雾多车追尾已致3人死亡",
                   "30日早上楚大高速南华段团雾中多车追尾，记者从楚雄州获悉，事发G56杭瑞高速"
                   "楚大段南华县境内，共9车相撞，已造成3人死亡、8人受伤，大理往楚雄方向车道封闭。",
                   hours=4, source="outlet-b")


async def test_a_waiting_answer_lands_when_a_report_joining_the_event_names_its_matter(
        pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, FIRST, NOTICE)
    assert [i.id for i in await worker.orphans.all()] == [NOTICE.id]  # no match yet
    await pipeline.feed(worker, SECOND)
    [event_id] = [i.decode() for i in await pipeline.redis.zrange(
        pipeline.keys.events_by_first_seen, 0, -1)]
    event = await worker.store.load(event_id)
    assert event.item_count == 2  # the second report joined the first
    assert [r.id for r in event.responses] == [f"r-{NOTICE.id}"]
    assert await worker.orphans.all() == []
