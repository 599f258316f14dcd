"""Restarts and several collectors sharing one Redis: nothing emitted twice, nothing lost,
every source polled once per interval.

The in-process tests use the fake clock. The subprocess tests run the real `monitor run`
command against the fake site with real time and 1-second intervals; they wait for
conditions (items arrived), never for a deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import yaml

from monitor.app import open_collector
from monitor.metrics import Metrics
from monitor.store.embedded import connect
from monitor.store.keys import Keys
from monitor.store.sources import SourceStore
from tests.fakesite import Document, rss
from tests.helpers import feeds, service_healthy

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[1]


def news(source: int, count: int, start: int = 0) -> bytes:
    items = [(f"来源{source}的新闻{n}", f"http://e.cn/{source}/{n}", "2026-11-20 10:00:00")
             for n in range(start, start + count)]
    return rss(f"源{source}", items)


async def stream_ids(redis, keys) -> list[str]:
    entries = await redis.xrange(keys.items_stream)
    return [fields[b"id"].decode() for _, fields in entries]


async def test_stop_mid_run_and_restart_loses_and_repeats_nothing(site, settings, redis, keys,
                                                                 clock, rng):
    for n in range(6):
        site.put(f"/f{n}.xml", Document(news(n, 5)))
    site.put("/hang.xml", Document(news(9, 5)))
    sources = [{"id": f"f{n}", "url": site.url(f"/f{n}.xml"), "interval": 300} for n in range(6)]
    sources.append({"id": "hang", "url": site.url("/slow-headers"), "interval": 300})
    cfg = feeds(*sources)

    stop = asyncio.Event()
    async with open_collector(settings, cfg, redis, clock, Metrics(), rng) as first:
        clock.advance(61)
        runner = asyncio.create_task(first.scheduler.run(stop))
        while len(await stream_ids(redis, keys)) < 30:
            await asyncio.sleep(0.01)
        stop.set()  # the 'hang' poll is still in flight: it must be handed back, not lost
        await runner

    # While the service was down, every feed gained items; the slow site recovered.
    for n in range(6):
        site.put(f"/f{n}.xml", Document(news(n, 8)))
    second_cfg = feeds(*sources[:6], {"id": "hang", "url": site.url("/hang.xml"),
                                      "interval": 300})
    client = connect(settings.redis_url)
    try:
        async with open_collector(settings, second_cfg, client, clock, Metrics(), rng) as second:
            assert (await second.sources.load("hang")).last_poll == 0
            await second.scheduler.run_once()  # 'hang' is due at once: it was handed back
            clock.advance(400)
            await second.scheduler.run_once()
    finally:
        await client.aclose()
    ids = await stream_ids(redis, keys)
    assert len(ids) == len(set(ids)) == 6 * 8 + 5


async def test_two_schedulers_poll_each_source_once_per_interval(site, settings, redis, clock,
                                                                rng):
    """Two collectors (separate connections, one Redis) through 2 simulated hours."""
    for n in range(12):
        site.put(f"/f{n}.xml", Document(news(n, 3)))
    cfg = feeds(*[{"id": f"f{n}", "url": site.url(f"/f{n}.xml"), "interval": 600}
                  for n in range(12)])
    clients = [connect(settings.redis_url) for _ in range(2)]
    try:
        async with open_collector(settings, cfg, clients[0], clock, Metrics(), rng) as a, \
                open_collector(settings, cfg, clients[1], clock, Metrics(), rng) as b:
            polled = Counter()
            pairs = [("a", a), ("b", b)]
            for step in range(7200 // 30):
                clock.advance(30)
                order = pairs if step % 2 else pairs[::-1]  # neither always asks first
                results = await asyncio.gather(*(c.scheduler.run_once() for _, c in order))
                for (owner, _), outcomes in zip(order, results, strict=True):
                    polled[owner] += len(outcomes)
    finally:
        for client in clients:
            await client.aclose()
    per_source = Counter(h.path for h in site.hits)
    # 2 h / 10 min = 12 intervals; with ±10 % jitter each source is polled 11-13 times,
    # never twice in one interval, and both collectors share the work.
    assert all(11 <= per_source[f"/f{n}.xml"] <= 13 for n in range(12)), per_source
    assert polled["a"] > 0 and polled["b"] > 0 and sum(polled.values()) == sum(per_source.values())
    assert max(site.max_in_flight.values()) == 1


# ── real processes ───────────────────────────────────────────────────────────────────────


def write_feeds(path: Path, site, count: int, interval: str = "1s") -> Path:
    sources = [{"id": f"f{n}", "name": f"源{n}", "kind": "rss", "url": site.url(f"/f{n}.xml"),
                "interval": interval, "allow_private": True} for n in range(count)]
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True))
    return path


def start_monitor(feeds_file: Path, settings, name: str, port: int = 0,
                  total_timeout: float = 3) -> subprocess.Popen:
    """`total_timeout` 3 s: a killed process's leases last 10 s, not minutes; a test that
    kills nothing gives polls longer, so that a loaded machine fails none of them."""
    env = {**os.environ, "MONITOR_FEEDS": str(feeds_file), "REDIS_URL": settings.redis_url,
           "MONITOR_KEY_PREFIX": settings.key_prefix, "MONITOR_HTTP_PORT": str(port),
           "MONITOR_USER_AGENT": name, "MONITOR_JITTER": "0", "MONITOR_LOG_LEVEL": "warning",
           "MONITOR_TOTAL_TIMEOUT": str(total_timeout),
           "MONITOR_CONNECT_TIMEOUT": str(total_timeout - 1),
           "MONITOR_READ_TIMEOUT": str(total_timeout - 1),
           "MONITOR_DATA_DIR": str(feeds_file.parent / name)}
    return subprocess.Popen([sys.executable, "-m", "monitor", "run"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# A bound, not a wait: a `monitor run` subprocess starts in 5–10 s alone but took 25–31 s
# while other jobs kept both cores busy, and a loaded CI machine must not fail on that.
START_BOUND_SECONDS = 90.0


async def wait_for(condition, what: str, timeout: float = START_BOUND_SECONDS) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while not await condition():
        if loop.time() > give_up:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
    process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err.decode(errors="replace")


async def test_killed_process_restarts_without_loss_or_repeats(site, settings, redis, keys,
                                                               tmp_path):
    for n in range(5):
        site.put(f"/f{n}.xml", Document(news(n, 4)))
    feeds_file = write_feeds(tmp_path / "feeds.yaml", site, 5)
    process = start_monitor(feeds_file, settings, "first")
    try:
        await wait_for(lambda: _count_at_least(redis, keys, 20), "the first items")
    finally:
        stop_process(process, signal.SIGKILL)  # no goodbye: leases must run out or be reused
    for n in range(5):
        site.put(f"/f{n}.xml", Document(news(n, 7)))
    process = start_monitor(feeds_file, settings, "second")
    try:
        await wait_for(lambda: _count_at_least(redis, keys, 35), "the new items")
        await asyncio.sleep(1.5)  # one more interval: nothing further may arrive
    finally:
        err = stop_process(process)
    ids = await stream_ids(redis, keys)
    assert len(ids) == len(set(ids)) == 35, err


async def test_two_processes_never_poll_a_source_at_once(site, settings, redis, keys, tmp_path):
    """Every poll of a source saw the result of the one before it (the site numbers its
    answers' ETags; a poll sends the ETag its process read from the shared state), so no two
    polls ever served one scheduled slot, however loaded the machine: proven by what the
    processes recorded, not by when requests arrived."""
    for n in range(8):
        site.put(f"/f{n}.xml", Document(news(n, 2), numbered=True))
    feeds_file = write_feeds(tmp_path / "feeds.yaml", site, 8, interval="1s")
    processes = [start_monitor(feeds_file, settings, name, total_timeout=20)
                 for name in ("proc-a", "proc-b")]
    try:
        await wait_for(lambda: _all_polled(site, 8, times=4), "four polls of every source")
    finally:
        errors = [stop_process(p) for p in processes]
    assert max(site.max_in_flight.values()) == 1, errors
    states = await SourceStore(redis, keys).load_many(f"f{n}" for n in range(8))
    for n in range(8):
        sent = [h.if_none_match for h in site.hits_for(f"/f{n}.xml")]
        # poll k knew answer k-1 and nothing later: one poll per slot, each after the last
        # was recorded (the answer to a poll cut short by the stop may go unrecorded)
        assert sent == [None, *(f'"{k}"' for k in range(1, len(sent)))], (n, sent)
        state = states[f"f{n}"]
        assert state.failures == 0 and state.items_total == 2, (n, state)
        # the next poll was scheduled one interval after the last, by the poller's own clock
        assert state.next_poll - state.last_poll == pytest.approx(1.0), (n, state)
    agents = {h.user_agent for h in site.hits}
    assert agents == {"proc-a", "proc-b"}, agents  # both share the load
    ids = await stream_ids(redis, keys)
    assert len(ids) == len(set(ids)) == 16


async def _count_at_least(redis, keys, n: int) -> bool:
    return await redis.xlen(keys.items_stream) >= n


async def _all_polled(site, count: int, times: int) -> bool:
    return all(len(site.hits_for(f"/f{n}.xml")) >= times for n in range(count))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_make_run_mode_embedded_redis_with_aof_survives_a_restart(site, tmp_path):
    """`monitor run` with no REDIS_URL: its own Redis (AOF), /healthz, a clean stop, and a
    restart that remembers what it emitted."""

    for n in range(3):
        site.put(f"/f{n}.xml", Document(news(n, 4)))
    feeds_file = write_feeds(tmp_path / "feeds.yaml", site, 3)
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"MONITOR_FEEDS": str(feeds_file), "MONITOR_DATA_DIR": str(data_dir),
                "MONITOR_LOG_LEVEL": "warning"})
    socket_path = data_dir / "redis" / "redis.sock"

    async def run_until(count: int) -> str:
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "monitor", "run"], cwd=ROOT,
                                   env={**env, "MONITOR_HTTP_PORT": str(port)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        client = connect(f"unix://{socket_path}")
        try:
            await wait_for(lambda: service_healthy(port), "/healthz")
            await wait_for(lambda: _count_at_least(client, Keys(), count), f"{count} items")
            await asyncio.sleep(1.5)  # a further poll of each feed: nothing more may come
            assert await client.xlen(Keys().items_stream) == count
        finally:
            await client.aclose()
            err = stop_process(process)
        assert process.returncode == 0, err
        assert not socket_path.exists(), "the embedded Redis must stop with the service"
        return err

    await run_until(12)
    for n in range(3):
        site.put(f"/f{n}.xml", Document(news(n, 6)))
    await run_until(18)
    assert (data_dir / "redis" / "appendonlydir").exists() or \
        (data_dir / "redis" / "items.aof").exists()


@pytest.mark.parametrize("how", ["restart", "crash"])
async def test_redis_going_away_and_back_loses_and_repeats_nothing(how, site, settings, clock,
                                                                   rng, tmp_path):
    """Redis stops (cleanly, or killed right after a write); the collector reports it, then
    carries on when Redis is back: the stream holds every item exactly once."""
    from monitor.store.embedded import EmbeddedRedis

    for n in range(3):
        site.put(f"/f{n}.xml", Document(news(n, 4)))
    cfg = feeds(*[{"id": f"f{n}", "url": site.url(f"/f{n}.xml"), "interval": 300}
                  for n in range(3)])
    server = EmbeddedRedis(tmp_path / "redis")
    local = settings.model_copy(update={"redis_url": await server.start()})
    client = connect(local.redis_url)
    try:
        async with open_collector(local, cfg, client, clock, Metrics(), rng) as collector:
            clock.advance(61)
            await collector.scheduler.run_once()
            if how == "crash":
                server._process.kill()  # within the AOF's one-second window: may lose writes
                server._process.wait()
                server._process = None
            else:
                await server.stop()
            clock.advance(400)
            with pytest.raises((OSError, aioredis.RedisError)):
                await collector.scheduler.run_once()
            for n in range(3):
                site.put(f"/f{n}.xml", Document(news(n, 6)))
            await server.start()
            clock.advance(400)
            await collector.scheduler.run_once()
            ids = await stream_ids(client, Keys(local.key_prefix))
    finally:
        await client.aclose()
        await server.stop()
    assert len(ids) == len(set(ids)) == 18
