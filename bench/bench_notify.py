"""Alert latency and outbox throughput against a fake robot (run: .venv/bin/python
bench/bench_notify.py). Prints figures; asserts nothing.

The fake robot (tests/notify/fakerobots.py, generic-webhook flavour) runs in its own process
and notes the wall time at which each alert arrives; Redis runs in its own process
(embedded, or REDIS_URL). The Notifier runs its real loop (`run`) on the system clock.

1. latency: alerts submitted one by one at a steady pace a healthy robot can take; from the
   `submit` call (the tracker's event transition) to the robot receiving it; median and p99.
   Target: median under 1 s.
2. outbox throughput: N alerts submitted as fast as possible (durable writes per second),
   then drained to the robot (alerts delivered per second; digests carry many per message).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchredis import redis_url  # noqa: E402
from monitor.clock import SystemClock  # noqa: E402
from monitor.domain.alerts import AlertIntent, AlertKind  # noqa: E402
from monitor.logs import configure  # noqa: E402
from monitor.notify.config import NotifyConfig  # noqa: E402
from monitor.notify.notifier import Notifier  # noqa: E402
from monitor.store.embedded import connect  # noqa: E402
from monitor.store.keys import Keys, delete_prefix  # noqa: E402

ROBOT = """
import asyncio, json, sys, time
sys.path.insert(0, {root!r})
from tests.notify.fakerobots import FakeRobots

async def main():
    robots = await FakeRobots().start()
    robots.add("bench", "webhook")
    out = open({receipts!r}, "a", buffering=1)
    accept = robots._accept
    async def noted(robot, payload, text, request, answer):
        now = time.time()
        for a in payload.get("alerts", []):
            out.write(json.dumps([a["key"], now]) + "\\n")
        return await accept(robot, payload, text, request, answer)
    robots._accept = noted
    print(robots.url("bench"), flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def intent(key: str) -> AlertIntent:
    now = datetime.now(UTC)
    return AlertIntent(key=key, kind=AlertKind.NEW_EVENT, at=now, event_id=key,
                       title=f"基准测试事件{key}", topic="社会治安", severity="较大",
                       region="昆明", first_seen=now)


def read_receipts(path: Path) -> dict[str, float]:
    seen: dict[str, float] = {}
    for line in path.read_text().splitlines():
        key, at = json.loads(line)
        seen.setdefault(key, at)
    return seen


async def wait_for(path: Path, keys: set[str], timeout: float) -> dict[str, float]:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        seen = read_receipts(path)
        if keys <= seen.keys():
            return seen
        await asyncio.sleep(0.05)
    return read_receipts(path)


async def bench(redis_url: str, robot_url: str, receipts: Path, alerts: int, burst: int,
                rate: float) -> None:
    redis = connect(redis_url)
    keys = Keys(f"bench:{uuid.uuid4().hex[:8]}:")
    config = NotifyConfig.model_validate({
        "robots": [{"id": "bench", "name": "基准", "platform": "webhook", "url": robot_url}],
        "route": {"receivers": ["bench"]},
        "quiet": {"group_interval": "0s"},
        "delivery": {"poll_interval": "1s"},
    }).resolve({})
    notifier = Notifier(redis, keys, config, SystemClock())
    stop = asyncio.Event()
    runner = asyncio.create_task(notifier.run(stop))
    try:
        # 1. latency at a steady pace
        submitted: dict[str, float] = {}
        for i in range(alerts):
            key = f"lat-{i}"
            submitted[key] = time.time()
            await notifier.submit(intent(key))
            await asyncio.sleep(1 / rate)
        seen = await wait_for(receipts, set(submitted), 60)
        latencies = [seen[k] - t for k, t in submitted.items() if k in seen]
        print(f"latency, {len(latencies)}/{alerts} alerts at {rate:g}/s to a healthy robot: "
              f"median {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms")

        # 2. throughput: durable submits, then drain
        stop.set()
        await runner
        started = time.perf_counter()
        burst_keys = [f"thr-{i}" for i in range(burst)]
        for key in burst_keys:
            await notifier.submit(intent(key))
        submit_s = time.perf_counter() - started
        print(f"outbox writes: {burst} alerts in {submit_s:.2f} s = "
              f"{burst / submit_s:,.0f} submits/s (each durable in Redis before it returns)")
        stop = asyncio.Event()
        started = time.perf_counter()
        runner = asyncio.create_task(notifier.run(stop))
        await wait_for(receipts, set(burst_keys), 300)
        drain_s = time.perf_counter() - started
        recent = await notifier.outbox.recent(10000)
        messages = sum(1 for r in recent if r["outcome"] == "delivered"
                       and r["keys"][0].startswith("thr-"))
        print(f"outbox drain: {burst} alerts in {drain_s:.2f} s = {burst / drain_s:,.0f} "
              f"alerts/s in {messages} messages (webhook limit 600 messages a minute)")
    finally:
        stop.set()
        await runner
        await notifier.aclose()
        await delete_prefix(redis, keys.prefix)
        await redis.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=200, help="latency sample size")
    parser.add_argument("--rate", type=float, default=5.0, help="latency alerts per second")
    parser.add_argument("--burst", type=int, default=5000, help="throughput sample size")
    args = parser.parse_args()
    configure("console", "error")
    with tempfile.TemporaryDirectory() as tmp:
        receipts = Path(tmp) / "receipts.jsonl"
        receipts.touch()
        robot = subprocess.Popen([sys.executable, "-c", ROBOT.format(root=str(ROOT),
                                                                     receipts=str(receipts))],
                                 stdout=subprocess.PIPE, text=True)
        try:
            robot_url = robot.stdout.readline().strip()
            async with redis_url(Path(tmp) / "redis") as url:
                where = "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded (AOF everysec)"
                print(f"Redis: {where}; robot: fake generic webhook in its own process")
                await bench(url, robot_url, receipts, args.alerts, args.burst, args.rate)
        finally:
            robot.terminate()
            robot.wait()


if __name__ == "__main__":
    asyncio.run(main())
