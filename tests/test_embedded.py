"""The embedded Redis under supervision: restarted (same AOF) when it dies while clients
carry on, given up on after a run of failed restarts, a server left by a killed run
stopped, one owner per data directory, private files; and the drill: SIGKILL the embedded
Redis under a running `monitor run` while the feed site keeps publishing, then count.

These tests start their own embedded servers, with or without REDIS_URL. Supervisor waits
run on the fake clock; the tests poll briefly only for processes to die or come back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from redis.exceptions import RedisError
from structlog.testing import capture_logs

from monitor.app import run_service
from monitor.errors import StoreError
from monitor.metrics import Metrics
from monitor.store.embedded import EmbeddedRedis, connect
from monitor.store.keys import Keys
from monitor.store.supervise import FIRST_WAIT, MAX_WAIT, RedisSupervisor
from tests.fakesite import Document
from tests.helpers import feeds, service_healthy
from tests.test_processes import free_port, news, stop_process, wait_for, write_feeds

ROOT = Path(__file__).resolve().parents[1]


def alive(pid: int) -> bool:
    """Running and not a zombie: a dead child nobody reaped still shows in /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def servers_on(socket: Path) -> list[int]:
    """Every live redis-server serving this socket (its process title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and "redis-server" in title and str(socket) in title \
                and alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def restarts(metrics: Metrics, outcome: str) -> float:
    return metrics.registry.get_sample_value("yq_embedded_redis_restarts_total",
                                             {"outcome": outcome})


async def _counted(metrics: Metrics) -> bool:
    return restarts(metrics, "ok") + restarts(metrics, "failed") > 0


async def supervisor_waiting(clock) -> None:
    """Until the supervisor has seen the death and waits on the fake clock to restart."""
    async def waiting() -> bool:
        return clock.sleepers > 0
    await wait_for(waiting, "the supervisor to notice the death")


async def test_a_killed_server_is_restarted_on_its_aof_and_a_client_carries_on(tmp_path, clock):
    server = EmbeddedRedis(tmp_path / "redis")
    client = connect(await server.start())
    metrics, stop = Metrics(), asyncio.Event()
    supervisor = RedisSupervisor(server, clock, metrics.redis_restarts)
    task = asyncio.create_task(supervisor.run(stop))
    try:
        await client.set("before", "1")
        aof = server.data_dir / "items.aof"
        await wait_for(lambda: _contains(aof, b"before"), "the AOF's fsync (every second)")
        first = server.pid
        os.kill(first, signal.SIGKILL)
        during = asyncio.create_task(client.set("during", "2"))  # sent while it is down
        await supervisor_waiting(clock)
        clock.advance(FIRST_WAIT)
        assert await during  # redis-py reconnected and retried across the restart
        await wait_for(lambda: _counted(metrics), "the supervisor to count the restart")
        assert server.pid != first and alive(server.pid)
        assert not alive(first)  # reaped, not left a zombie
        assert await client.get("before") == b"1"  # same data directory, same AOF
        assert restarts(metrics, "ok") == 1 and restarts(metrics, "failed") == 0
    finally:
        stop.set()
        await task
        await client.aclose()
        await server.stop()
    assert supervisor.failure is None and servers_on(server.socket) == []


async def _contains(path: Path, data: bytes) -> bool:
    return path.exists() and data in path.read_bytes()


async def test_the_supervisor_gives_up_after_a_run_of_failed_restarts(tmp_path, clock):
    server = EmbeddedRedis(tmp_path / "redis")
    await server.start()
    metrics, stop = Metrics(), asyncio.Event()
    supervisor = RedisSupervisor(server, clock, metrics.redis_restarts, limit=3)
    try:
        with capture_logs() as logs:
            task = asyncio.create_task(supervisor.run(stop))
            os.kill(server.pid, signal.SIGKILL)
            await supervisor_waiting(clock)
            # A damaged AOF: every restart exits at once (as after a disk fault).
            (server.data_dir / "items.aof").write_bytes(b"*garbage\r\n")
            await _advance_until_done(clock, task)
    finally:
        await server.stop()
    assert stop.is_set()  # the rest of the service winds down
    assert "3 restarts in a row failed" in str(supervisor.failure)
    assert str(server.data_dir / "redis.log") in str(supervisor.failure)
    assert (restarts(metrics, "failed"), restarts(metrics, "ok")) == (3, 0)
    events = [e["event"] for e in logs if e["event"].startswith("embedded_redis")]
    assert events == ["embedded_redis_died"] + ["embedded_redis_restart_failed"] * 3 + \
        ["embedded_redis_gave_up"]
    assert servers_on(server.socket) == []


async def _advance_until_done(clock, task: asyncio.Task, timeout: float = 60.0) -> None:
    """Let every wait pass on the fake clock; the restarts themselves take real time."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while not task.done():
        assert loop.time() < give_up, "still not done"
        clock.advance(MAX_WAIT)
        await asyncio.sleep(0.02)


async def test_the_service_ends_with_the_reason_when_redis_cannot_be_restarted(
        settings, site, clock, tmp_path):
    site.put("/f0.xml", Document(news(0, 2)))
    local = settings.model_copy(update={"redis_url": None, "data_dir": tmp_path / "var",
                                        "http_port": free_port()})
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(
        local, feeds({"id": "f0", "url": site.url("/f0.xml"), "interval": 60}), stop, clock))
    pid_file = local.data_dir / "redis" / "redis.pid"
    await wait_for(lambda: service_healthy(local.http_port), "the service")
    first = int(pid_file.read_text())
    os.kill(first, signal.SIGKILL)
    while alive(first):  # the supervisor reaps it
        await asyncio.sleep(0.02)
    (local.data_dir / "redis" / "items.aof").write_bytes(b"*garbage\r\n")
    await _advance_until_done(clock, service)
    with pytest.raises(StoreError, match="restarts in a row failed"):
        await service  # `monitor run` prints it as one line and exits 1
    assert servers_on(local.data_dir / "redis" / "redis.sock") == []


# A `monitor` process that started the embedded Redis, then waits to be killed.
OWNER = """
import asyncio, sys, time
from pathlib import Path
from monitor.store.embedded import EmbeddedRedis, connect

async def main():
    url = await EmbeddedRedis(Path(sys.argv[1])).start()
    client = connect(url)
    await client.set("kept", "1")
    await client.aclose()

asyncio.run(main())
print("up", flush=True)
time.sleep(600)
"""


async def test_a_server_left_by_a_killed_run_is_stopped_and_replaced(tmp_path):
    data = tmp_path / "redis"
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(data)], cwd=ROOT,
                             stdout=subprocess.PIPE)
    while owner.stdout.readline() not in (b"up\n", b""):  # after its log lines
        pass
    leftover = int((data / "redis.pid").read_text())
    owner.kill()  # SIGKILL: no goodbye, its redis-server lives on with nobody watching it
    owner.wait()
    assert alive(leftover)
    server = EmbeddedRedis(data)
    try:
        client = connect(await server.start())
        assert server.owned and server.pid != leftover
        assert not alive(leftover) and servers_on(server.socket) == [server.pid]
        assert await client.get("kept") == b"1"  # SIGTERM: it wrote its AOF out first
        await client.aclose()
    finally:
        await server.stop()
        if alive(leftover):
            os.kill(leftover, signal.SIGKILL)
    assert servers_on(server.socket) == []


async def test_one_owner_per_directory_and_a_sharer_takes_over_when_it_goes(tmp_path):
    owner, sharer = EmbeddedRedis(tmp_path / "redis"), EmbeddedRedis(tmp_path / "redis")
    try:
        await owner.start()
        await sharer.start()
        assert (owner.owned, sharer.owned) == (True, False)
        assert servers_on(owner.socket) == [owner.pid]
        assert not await sharer.take_over()  # the owner is alive
        await owner.stop()
        assert await sharer.take_over()
        assert servers_on(owner.socket) == [sharer.pid]
    finally:
        await owner.stop()
        await sharer.stop()
    assert servers_on(owner.socket) == []


async def test_data_files_are_private(tmp_path):
    data = tmp_path / "redis"
    data.mkdir(mode=0o755)
    (data / "items.aof").write_bytes(b"")  # left by an older version, world-readable
    (data / "items.aof").chmod(0o644)
    server = EmbeddedRedis(data)
    client = connect(await server.start())
    try:
        await client.set("k", "v")
        await client.execute_command("BGREWRITEAOF")  # its rewrite files too
        await wait_for(lambda: _rewritten(client), "the AOF rewrite")
        modes = {p.name: p.stat().st_mode & 0o777 for p in data.iterdir() if not p.is_socket()}
    finally:
        await client.aclose()
        await server.stop()
    assert data.stat().st_mode & 0o777 == 0o700
    assert {"items.aof", "redis.log", "redis.conf", "redis.pid"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes


async def _rewritten(client) -> bool:
    info = await client.info("persistence")
    return not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]


# ── the drill ────────────────────────────────────────────────────────────────────────────


async def test_sigkill_of_the_embedded_redis_mid_run_loses_and_repeats_nothing(site, tmp_path):
    """4 feeds publish 15 items each while `monitor run` polls them every second; once
    about a third are in, the embedded redis-server is SIGKILLed. Every item must arrive
    exactly once and the events worker must have read them all."""
    for n in range(4):
        site.put(f"/f{n}.xml", Document(news(n, 3)))
    data_dir, port = tmp_path / "var", free_port()
    process = _start_embedded_service(write_feeds(tmp_path / "feeds.yaml", site, 4), data_dir,
                                      port)
    pid_file, socket = data_dir / "redis" / "redis.pid", data_dir / "redis" / "redis.sock"
    client = connect(f"unix://{socket}")
    loop = asyncio.get_running_loop()
    try:
        await wait_for(lambda: _at_least(client, 12), "the first items", timeout=60)
        publisher = asyncio.create_task(_publish(site, feeds=4, upto=15))
        await wait_for(lambda: _at_least(client, 20), "more items")
        first = int(pid_file.read_text())
        killed_at = loop.time()
        os.kill(first, signal.SIGKILL)
        await wait_for(lambda: _serving_again(pid_file, first, client), "a new redis-server")
        restart_seconds = loop.time() - killed_at
        await publisher
        await wait_for(lambda: _at_least(client, 60), "every item", timeout=60)
        await asyncio.sleep(1.5)  # one more poll of each feed: nothing further may arrive
        titles = await _titles(client)
        await wait_for(lambda: _all_tracked(client), "the events worker", timeout=60)
        metrics = await _metrics(port)
    finally:
        await client.aclose()
        err = stop_process(process)
    print(f"\nembedded Redis SIGKILL drill: back in {restart_seconds:.2f} s, "
          f"{len(titles)} items in the stream, {len(set(titles))} distinct")
    assert Counter(titles) == Counter(f"来源{f}的新闻{n}" for f in range(4) for n in range(15))
    assert 'yq_embedded_redis_restarts_total{outcome="ok"} 1.0' in metrics
    assert process.returncode == 0, err
    assert not alive(first) and servers_on(socket) == [] and not socket.exists()


def _start_embedded_service(feeds_file: Path, data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"MONITOR_FEEDS": str(feeds_file), "MONITOR_DATA_DIR": str(data_dir),
                "MONITOR_HTTP_PORT": str(port), "MONITOR_LOG_LEVEL": "warning",
                "MONITOR_JITTER": "0", "MONITOR_TOTAL_TIMEOUT": "3",
                "MONITOR_CONNECT_TIMEOUT": "2", "MONITOR_READ_TIMEOUT": "2"})
    return subprocess.Popen([sys.executable, "-m", "monitor", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def _publish(site, feeds: int, upto: int) -> None:
    """One more item on every feed each 0.3 s, through the kill and the restart."""
    for count in range(4, upto + 1):
        for n in range(feeds):
            site.put(f"/f{n}.xml", Document(news(n, count)))
        await asyncio.sleep(0.3)


async def _at_least(client, n: int) -> bool:
    try:
        return await client.xlen(Keys().items_stream) >= n
    except (OSError, RedisError):  # Redis is being restarted
        return False


async def _serving_again(pid_file: Path, first: int, client) -> bool:
    try:
        return int(pid_file.read_text()) != first and bool(await client.ping())
    except (OSError, ValueError, RedisError):  # not back yet
        return False


async def _titles(client) -> list[str]:
    import json

    entries = await client.xrange(Keys().items_stream)
    return [json.loads(fields[b"item"])["title"] for _, fields in entries]


async def _all_tracked(client) -> bool:
    last = (await client.xrevrange(Keys().items_stream, count=1))[0][0]
    [group] = [g for g in await client.xinfo_groups(Keys().items_stream)
               if g["name"] == b"track"]
    return group["pending"] == 0 and group["last-delivered-id"] == last


async def _metrics(port: int) -> str:
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{port}/metrics") as response:
        return await response.text()
