"""From feed items to the chat robot: worker → event change with its alerts (one atomic save)
→ forwarder → notifier outbox → fake WeCom robot; and a timer's miss the same way."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.notify.forward import AlertForwarder
from monitor.track.readmodel import ReadModel
from monitor.track.summary import summary_source
from monitor.track.tagging import tag
from tests.notify.conftest import base_config, drain, make_notifier, robots  # noqa: F401
from tests.track.conftest import T0, make_item

pytestmark = pytest.mark.redis

MAJOR = make_item(1, "云南镇雄一煤矿发生透水事故 已致12人死亡",
                  "昭通市镇雄县一煤矿井下发生透水事故，目前已造成12人死亡，救援工作正在进行。")


def forwarder(pipeline, worker, notifier, name: str, **options) -> AlertForwarder:
    return AlertForwarder(pipeline.redis, pipeline.keys, worker.store, notifier,
                          pipeline.clock, name, **options)


async def test_a_major_accident_reaches_the_office_group_once(pipeline, robots,  # noqa: F811
                                                               make_notifier):  # noqa: F811
    notifier = make_notifier(base_config(robots))
    worker = await pipeline.worker(tagger=tag)  # end to end: the shipped model
    forward = forwarder(pipeline, worker, notifier, "w1")
    await forward.start()
    await pipeline.feed(worker, MAJOR)
    assert await forward.run_once() == 1  # one alert: a new event (already 重大)
    assert await forward.run_once() == 0  # acknowledged: nothing forwarded twice
    await drain(notifier, pipeline.clock)
    [message] = robots.texts("office")
    assert "镇雄" in message and "重大" in message and "5小时内发布权威信息" in message

    pipeline.clock.set(T0 + timedelta(hours=5, minutes=1))
    await pipeline.timers(worker).run_once()
    assert await forward.run_once() == 1  # the 5 h deadline missed
    await drain(notifier, pipeline.clock)
    later = robots.texts("office")[1:]
    assert any("5小时内发布权威信息" in text for text in later)


async def test_daily_summary_counts_open_and_overdue_events(pipeline):
    worker = await pipeline.worker(tagger=tag)  # end to end: the shipped model
    await pipeline.feed(worker, MAJOR)
    pipeline.clock.set(T0 + timedelta(hours=6))
    await pipeline.timers(worker).run_once()
    intent = await summary_source(ReadModel(worker.store))(pipeline.clock.now())
    assert intent.summary["open"] == 1 and intent.summary["overdue"] == 1
    assert intent.summary["missed_today"] == 1
    assert "超期" in intent.summary_lines[0]


async def test_alerts_a_dead_forwarder_read_are_forwarded_by_another(pipeline, robots,  # noqa: F811
                                                                      make_notifier):  # noqa: F811
    notifier = make_notifier(base_config(robots))
    worker = await pipeline.worker(tagger=tag)  # end to end: the shipped model
    dead = forwarder(pipeline, worker, notifier, "dead")
    await dead.start()
    await pipeline.feed(worker, MAJOR)
    assert len(await dead._read(">", None)) == 1  # read, then the process is killed
    survivor = forwarder(pipeline, worker, notifier, "survivor", stale_ms=0)
    assert await survivor.run_once() == 1
    names = await pipeline.redis.xinfo_consumers(pipeline.keys.alerts_out, "notify")
    assert [c["name"] for c in names] == [b"survivor"]  # the dead one is gone
    await drain(notifier, pipeline.clock)
    assert len(robots.texts("office")) == 1
