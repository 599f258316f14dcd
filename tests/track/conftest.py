"""Fixtures for tracking: items as the collector emits them, and a worker on the real Redis."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.models import Item
from monitor.store.items import ItemStore, ensure_groups
from monitor.track.policy import default_policy
from monitor.track.timers import TimerRunner
from monitor.track.worker import EventsWorker
from tests.track.faketagger import fake_tag

T0 = datetime.fromisoformat("2026-11-16T10:00:00+08:00")


def make_item(n: int, title: str, text: str = "", *, hours: float = 0.0, source: str = "news",
              official: bool = False, channel: str = "news", region: str | None = None) -> Item:
    published = T0 + timedelta(hours=hours)
    return Item(id=f"{source}:{n:04d}", source_id=source, source_name=source, title=title,
                summary=text, link=f"http://example.cn/{source}/{n}.html", published=published,
                fetched=published, official=official, channel=channel, region=region)


# Two open events of different urgency: a netizen message (2 working days) and, an hour
# later, a mine accident with 12 deaths (重大: 5 h and 24 h).
MESSAGE_AND_MAJOR_ACCIDENT = (
    make_item(1, "盘龙区某小区物业擅自提高物业费", "昆明市盘龙区物业公司擅自上涨物业费。",
              source="board", channel="message_board"),
    make_item(2, "镇雄县一煤矿发生透水事故致12人死亡", "昭通市镇雄县一煤矿透水事故12人死亡。",
              hours=1, source="outlet"),
)


class Pipeline:
    """The item stream, one or more events workers and a timer runner, on a fake clock."""

    def __init__(self, redis, keys, clock) -> None:
        self.redis, self.keys, self.clock = redis, keys, clock
        self.policy = default_policy()
        self.items = ItemStore(redis, keys, retention_seconds=86400 * 30)

    async def worker(self, name: str = "w1", stale_ms: int = 60_000,
                     tagger=fake_tag) -> EventsWorker:
        """A worker tagging with keywords (faketagger.py); end-to-end tests pass the model's
        `tag`."""
        await ensure_groups(self.redis, self.keys.items_stream, ["track"])
        worker = EventsWorker(self.redis, self.keys, self.policy, self.clock, name=name,
                              retention_seconds=86400 * 30, stale_ms=stale_ms, tagger=tagger)
        await worker.start()
        return worker

    def timers(self, worker: EventsWorker) -> TimerRunner:
        return TimerRunner(worker.store, worker.tracker, self.clock)

    async def feed(self, worker: EventsWorker, *items: Item) -> None:
        """Emit items at their publication time and let the worker take them all."""
        for item in items:
            self.clock.set(max(self.clock.now(), item.published))
            await self.items.emit_new([item])
            while (await worker.run_once()).items:
                pass

    async def alerts(self) -> list[tuple[str, str]]:
        entries = await self.redis.xrange(self.keys.alerts_out)
        return [(f[b"key"].decode(), f[b"intent"].decode()) for _, f in entries]


@pytest.fixture
def pipeline(redis, keys, clock) -> Pipeline:
    clock.set(T0)
    return Pipeline(redis, keys, clock)
