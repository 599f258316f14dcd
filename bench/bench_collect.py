"""Collector throughput against a local fake site (run: .venv/bin/python bench/bench_collect.py).

Prints figures; asserts nothing. The fake site runs in its own process, Redis in its own,
so the CPU seconds are the collector's alone (one event loop: one core).

1. conditional polls per second: 1,000 sources that answer 304 to our validators;
2. new items per second: 50-item feeds, every item new (fetch, parse, normalise, dedup, emit);
3. feedparser alone on the same bytes, for the ratio of what our code adds.
Targets on one core: ≥ 500 conditional polls/s; new-item throughput ≥ 80 % of feedparser alone.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402

from bench.benchredis import redis_url  # noqa: E402
from monitor.app import open_collector  # noqa: E402
from monitor.clock import FakeClock  # noqa: E402
from monitor.config import FeedsFile, load_settings  # noqa: E402
from monitor.logs import configure  # noqa: E402
from monitor.metrics import Metrics  # noqa: E402
from monitor.store.embedded import connect  # noqa: E402
from monitor.store.keys import delete_prefix  # noqa: E402

SITE = """
import asyncio, sys
sys.path.insert(0, {root!r})
from tests.fakesite import Document, FakeSite, rss

async def main():
    site = await FakeSite().start()
    for i in range({conditional}):
        entry = (f"条目{{i}}", f"http://e.cn/c/{{i}}", "2026-11-20")
        site.put(f"/c/{{i}}.xml", Document(rss("c", [entry])))
    for i in range({feeds}):
        items = [(f"云南省第{{i}}号通报之{{n}}：关于做好冬春季森林防火工作的通知", f"http://e.cn/n/{{i}}/{{n}}",
                  "Mon, 23 Nov 2026 10:00:00 +0800") for n in range(50)]
        site.put(f"/n/{{i}}.xml", Document(rss("n", items), conditional=False))
    print(site.port, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def start_site(conditional: int, feeds: int) -> tuple[subprocess.Popen, int]:
    code = SITE.format(root=str(ROOT), conditional=conditional, feeds=feeds)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    port = int(process.stdout.readline())
    return process, port


def sources(port: int, prefix: str, count: int) -> FeedsFile:
    return FeedsFile.model_validate({"sources": [
        {"id": f"{prefix}{i}", "name": "bench", "kind": "rss", "interval": 600,
         "allow_private": True,  # the fake site is on 127.0.0.1
         "url": f"http://127.0.0.1:{port}/{prefix}/{i}.xml"} for i in range(count)]})


async def timed_round(collector, clock: FakeClock) -> tuple[float, float, list]:
    clock.advance(3600)
    wall, cpu = time.perf_counter(), time.process_time()
    outcomes = await collector.scheduler.run_once()
    return time.perf_counter() - wall, time.process_time() - cpu, outcomes


async def bench(redis_url: str, port: int, args: argparse.Namespace) -> None:
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    settings = load_settings(REDIS_URL=redis_url, MONITOR_KEY_PREFIX=prefix,
                             MONITOR_CONCURRENCY=args.concurrency,
                             MONITOR_PER_HOST_CONCURRENCY=args.concurrency)
    redis = connect(redis_url)
    try:
        clock = FakeClock()
        async with open_collector(settings, sources(port, "c", args.conditional), redis, clock,
                                  Metrics()) as collector:
            await timed_round(collector, clock)  # first poll: 200, validators stored
            wall, cpu, outcomes = await timed_round(collector, clock)
        not_modified = sum(o.outcome == "not_modified" for o in outcomes)
        print(f"conditional polls: {not_modified} of {len(outcomes)} answered 304 in {wall:.2f}s "
              f"→ {len(outcomes) / wall:,.0f} polls/s; CPU {cpu / len(outcomes) * 1000:.2f}s "
              f"per 1,000 polls (target ≥ 500 polls/s)")

        async with open_collector(settings, sources(port, "n", args.feeds), redis, clock,
                                  Metrics()) as collector:
            wall, cpu, outcomes = await timed_round(collector, clock)
        new = sum(len(o.new_items) for o in outcomes)
        ours = new / cpu
        print(f"new items: {new} from {len(outcomes)} feeds in {wall:.2f}s → {new / wall:,.0f} "
              f"items/s wall, {ours:,.0f} items per CPU-second; CPU {cpu / new * 1000:.3f}s per "
              f"1,000 items")
    finally:
        await delete_prefix(redis, settings.key_prefix)
        await redis.aclose()

    from tests.fakesite import rss

    bodies = [rss("n", [(f"云南省第{i}号通报之{n}：关于做好冬春季森林防火工作的通知",
                         f"http://e.cn/n/{i}/{n}", "Mon, 23 Nov 2026 10:00:00 +0800")
                        for n in range(50)]) for i in range(args.feeds)]
    for label, options in (("defaults", {}),
                           ("as we call it", {"sanitize_html": False,
                                              "resolve_relative_uris": False})):
        cpu = time.process_time()
        parsed = sum(len(feedparser.parse(io.BytesIO(b), **options).entries) for b in bodies)
        cpu = time.process_time() - cpu
        alone = parsed / cpu
        print(f"feedparser alone ({label}): {parsed} entries, {alone:,.0f} items per CPU-second; "
              f"CPU {cpu / parsed * 1000:.3f}s per 1,000 items → collector at {ours / alone:.0%}")
    print("target: collector ≥ 80% of feedparser alone (defaults)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditional", type=int, default=1000)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    configure("console", "warning")
    site, port = start_site(args.conditional, args.feeds)
    try:
        async with redis_url(ROOT / "var" / "bench-redis") as url:
            print(f"redis: {url}; fake site: 127.0.0.1:{port}; concurrency {args.concurrency}")
            await bench(url, port, args)
    finally:
        site.terminate()


if __name__ == "__main__":
    asyncio.run(main())
