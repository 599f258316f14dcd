"""`monitor replay FILE`: a recorded stream of items through the real pipeline (item stream,
events worker, deadline timers) under a simulated clock, so a month of news runs in seconds.

Input: JSON lines, one item each: source_id, official (bool), channel, region (optional),
title, text, link, published (ISO-8601 with zone). Output (--report): every event with its
topic, incident, severity, region, first seen, items, responses and, per deadline rule, the
due time, outcome (met, met_late, missed, pending; superseded/waived when a rule stopped
applying) and time to response. Both formats are stable: evaluation outside the tests uses them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from monitor.clock import FakeClock
from monitor.config import Channel
from monitor.domain.events import Event, ItemRef
from monitor.domain.views import event_report
from monitor.errors import ConfigError
from monitor.models import Item
from monitor.store.items import ItemStore, ensure_groups
from monitor.store.keys import Keys
from monitor.track.policy import Policy
from monitor.track.timers import TimerRunner
from monitor.track.worker import EventsWorker

SAMPLE = Path(__file__).with_name("samples") / "replay_sample.jsonl"
REPORT_VERSION = 1


class ReplayItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source_id: str
    official: bool = False
    channel: Channel = Channel.NEWS
    region: str | None = None
    title: str
    text: str = ""
    link: str | None = None
    published: AwareDatetime

    def to_item(self) -> Item:
        key = f"{self.source_id}\n{self.link or self.title}"
        digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
        return Item(id=f"{self.source_id}:{digest}", source_id=self.source_id,
                    source_name=self.source_id, title=self.title, summary=self.text,
                    link=self.link, published=self.published, fetched=self.published,
                    official=self.official, channel=self.channel, region=self.region)


def read_items(path: Path) -> list[Item]:
    """Every line validated; all problems reported at once with their line numbers."""
    items, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(ReplayItem.model_validate_json(line).to_item())
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"]) or "line"
                problems.append(f"{path}:{number}: {field}: {error['msg']}")
    if problems:
        raise ConfigError(problems)
    return sorted(items, key=lambda i: i.published)


@dataclass
class ReplayResult:
    items: int
    events: list[Event]
    alerts: int
    wall_seconds: float
    refs: dict[str, list[ItemRef]] = field(default_factory=dict)  # every item of each event


async def replay(redis: aioredis.Redis, keys: Keys, policy: Policy, items: list[Item],
                 tail: timedelta = timedelta(hours=72), speed: float = 0.0) -> ReplayResult:
    """Feed `items` in publication order; fire every timer at its own simulated time."""
    started = time.perf_counter()
    clock = FakeClock(items[0].published if items else None)
    store = ItemStore(redis, keys, retention_seconds=400 * 86400)
    await ensure_groups(redis, keys.items_stream, ["track"])
    worker = EventsWorker(redis, keys, policy, clock, name="replay",
                          retention_seconds=400 * 86400)
    await worker.start()
    timers = TimerRunner(worker.store, worker.tracker, clock)
    for item in items:
        await _run_timers_until(timers, worker, clock, item.published, speed)
        await _advance(clock, item.published, speed)
        await store.emit_new([item])
        while (await worker.run_once()).items:
            pass
    if items:
        await _run_timers_until(timers, worker, clock, items[-1].published + tail, speed)
        await _advance(clock, items[-1].published + tail, speed)
        await timers.run_once()
    everything = datetime.min.replace(tzinfo=clock.now().tzinfo)
    events = await worker.store.load_many(
        await worker.store.ids_by_first_seen(everything, clock.now() + tail))
    alerts = await redis.xlen(keys.alerts_out)
    refs = {e.id: await worker.store.item_refs(e) for e in events}
    return ReplayResult(len(items), events, alerts, time.perf_counter() - started, refs)


async def _run_timers_until(timers: TimerRunner, worker: EventsWorker, clock: FakeClock,
                            until: datetime, speed: float) -> None:
    while (due := await worker.store.next_timer()) is not None and due <= until.timestamp():
        moment = datetime.fromtimestamp(due, until.tzinfo)
        await _advance(clock, max(moment, clock.now()), speed)
        await timers.run_once()


async def _advance(clock: FakeClock, to: datetime, speed: float) -> None:
    gap = (to - clock.now()).total_seconds()
    if gap <= 0:
        return
    if speed > 0:
        await asyncio.sleep(gap / speed)  # pacing for a demo: simulated time N× real time
    clock.set(to)


def report(result: ReplayResult) -> dict:
    return {
        "version": REPORT_VERSION,
        "items": result.items,
        "alerts": result.alerts,
        "events": [event_report(e, result.refs.get(e.id))
                   for e in sorted(result.events, key=lambda e: e.first_seen)],
    }


def write_report(result: ReplayResult, path: Path) -> None:
    path.write_text(json.dumps(report(result), ensure_ascii=False, indent=2), encoding="utf-8")


def summary_lines(result: ReplayResult) -> Iterable[str]:
    yield (f"{result.items} items → {len(result.events)} events, {result.alerts} alerts, "
           f"in {result.wall_seconds:.1f}s")
    for e in sorted(result.events, key=lambda e: e.first_seen):
        outcomes = ", ".join(f"{d.rule}={d.state.value}" for d in e.deadlines) or "no deadline"
        yield (f"  {e.first_seen:%m-%d %H:%M} {e.id} [{e.topic}/{e.incident}/"
               f"{e.severity or '-'}] {e.item_count} items, {len(e.responses)} responses: "
               f"{e.title[:40]} — {outcomes}")
