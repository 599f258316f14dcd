"""What a scrape costs (run: .venv/bin/python bench/bench_wall.py). Prints figures; asserts
nothing.

/metrics re-reads the service state from Redis (every active event and those first seen
since a month before this one: the glance stored beside each, not its document) at most once
a second. With N active events stored (documents as a day of reports leaves them), this
prints the time of one refresh, the /metrics body size, and the series count.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import generate_latest  # noqa: E402

from bench.benchredis import redis_url  # noqa: E402
from monitor.clock import SystemClock  # noqa: E402
from monitor.config import load_feeds  # noqa: E402
from monitor.domain.events import Event, HistoryEntry, ItemRef  # noqa: E402
from monitor.logs import configure  # noqa: E402
from monitor.metrics import Metrics  # noqa: E402
from monitor.store.embedded import connect  # noqa: E402
from monitor.store.events import EventStore  # noqa: E402
from monitor.store.keys import Keys, delete_prefix  # noqa: E402
from monitor.store.sources import SourceStore  # noqa: E402
from monitor.track.grouping import EventIndex  # noqa: E402
from monitor.track.policy import default_policy  # noqa: E402
from monitor.track.readmodel import ReadModel  # noqa: E402
from monitor.track.tracker import Tracker  # noqa: E402
from monitor.wall.wiring import build_wall  # noqa: E402

SIZES = (100, 1_000, 5_000, 20_000)
GRADES = ("特别重大", "重大", "较大", "一般", None)
TOPICS = ("生态环境", "安全生产", "房地产市场", "教育改革", "养老服务")
REGIONS = ("昆明市", "昭通市", "大理白族自治州", "玉溪市", None)


def realistic_event(n: int, now) -> Event:
    """As an event document looks after a day of reports: its lead items, a history, a term
    vector (the wall reads none of it; its glance is what it reads)."""
    first = now - timedelta(hours=n % 96)
    items = [ItemRef(id=f"news:{n}-{k}", source_id=f"outlet{k}", title=f"某县发生事故{n}-{k}" * 3,
                     link=f"https://news.example.cn/{n}/{k}.html", published=first,
                     official=False, why="same_county=1; title_cosine=0.62") for k in range(8)]
    history = [HistoryEntry(at=first, who="worker:w1", what="item_joined",
                            why=f"outlet{k}: 某县发生事故 (p 0.91; same_county=1)")
               for k in range(20)]
    return Event(id=f"ev-{n}", title=f"事件{n}", topic=TOPICS[n % 5], incident="事故灾难",
                 severity=GRADES[n % 5], region=REGIONS[n % 5], first_seen=first,
                 last_seen=first, needs_response=True, items=items, history=history,
                 item_count=8, centroid={f"词{k}": k / 150 for k in range(150)})


async def bench(url: str, size: int) -> None:
    redis = connect(url)
    keys = Keys(f"bench:{uuid.uuid4().hex[:8]}:")
    policy = default_policy()
    clock = SystemClock()
    feeds = load_feeds(ROOT / "feeds.yaml")
    tracker = Tracker(policy, EventIndex(policy.grouping))
    store = EventStore(redis, keys, 86400 * 60)
    try:
        now = clock.now()
        changes = [tracker.finish(realistic_event(n, now), now, -1) for n in range(size)]
        for start in range(0, size, 500):
            await store.save_all(changes[start:start + 500])
        metrics = Metrics()
        wall = build_wall(metrics.registry, policy, feeds)
        refresher = wall.refresher(ReadModel(store), SourceStore(redis, keys), feeds, redis,
                                   keys, clock)
        times = []
        for _ in range(5):
            refresher._last = float("-inf")
            started = time.perf_counter()
            await refresher.refresh()
            times.append(time.perf_counter() - started)
        body = generate_latest(metrics.registry)
        series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        print(f"{size:>6,} active events: refresh median {statistics.median(times) * 1000:,.0f} ms "
              f"(max {max(times) * 1000:,.0f} ms); /metrics {len(body) / 1024:,.0f} KiB, "
              f"{series:,} series")
    finally:
        await delete_prefix(redis, keys.prefix)
        await redis.aclose()


async def main() -> None:
    configure("console", "warning")
    async with redis_url(ROOT / "var" / "bench-redis") as url:
        for size in SIZES:
            await bench(url, size)


if __name__ == "__main__":
    asyncio.run(main())
