"""POST /alertmanager/webhook over a real socket, behind the desk's auth middleware as
`monitor run` wires it: Alertmanager's messages become operations alerts that reach the
operators' robot (a fake Slack robot) once per firing and once per resolution."""

from __future__ import annotations

import asyncio
import copy
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from monitor.app import build_desk
from monitor.metrics import Metrics
from monitor.notify import Notifier
from monitor.officers import Officers, load_officers
from monitor.track.readmodel import ReadModel
from monitor.web.alertmanager import add_alertmanager_route
from monitor.web.app import build_app
from tests.notify.conftest import base_config, drain, make_notifier, robots  # noqa: F401
from tests.notify.fakerobots import FakeRobots
from tests.test_processes import free_port
from tests.track.conftest import pipeline  # noqa: F401
from tests.web.conftest import http, write_officers  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "am-7f3c9a1e5b"
PATH = "/alertmanager/webhook"


def message(status: str = "firing", fingerprint: str = "9a1c2f7e03b5d468") -> dict:
    """A webhook message as Alertmanager 0.27 posts it (version 4), for one of our rules."""
    resolved = status == "resolved"
    return {
        "version": "4", "groupKey": '{}:{alertname="YqOutboxStuck"}', "truncatedAlerts": 0,
        "status": status, "receiver": "operators",
        "groupLabels": {"alertname": "YqOutboxStuck"},
        "commonLabels": {"alertname": "YqOutboxStuck", "severity": "critical"},
        "commonAnnotations": {"summary": "告警发件箱停滞"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": status,
            "labels": {"alertname": "YqOutboxStuck", "severity": "critical",
                       "instance": "monitor:8080", "job": "yq-monitor"},
            "annotations": {"summary": "告警发件箱停滞",
                            "description": "3 alerts wait in the outbox and no robot took a "
                                           "message for 15 minutes; see `monitor outbox`."},
            "startsAt": "2026-11-16T02:15:00.000Z",
            "endsAt": "2026-11-16T03:05:00.000Z" if resolved else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=max%28yq_notify_outbox%29",
            "fingerprint": fingerprint,
        }],
    }


@dataclass
class World:
    server: TestServer
    notifier: Notifier
    robots: FakeRobots
    officer_token: str

    def url(self) -> str:
        return str(self.server.make_url(PATH))


def operations_config(fake: FakeRobots) -> dict:
    """The test routes, with operations alerts going to the operators' Slack robot first."""
    config = base_config(fake)
    config["route"]["routes"].insert(0, {"name": "operations",
                                         "match": {"kind": ["operations"]},
                                         "receivers": ["ops"]})
    return config


async def serve(pipeline, robots, make_notifier, settings, tmp_path,  # noqa: F811
                token: str | None) -> World:
    tokens = write_officers(tmp_path / "officers.yaml")
    officers = Officers(load_officers(tmp_path / "officers.yaml"))
    notifier = make_notifier(operations_config(robots))
    worker = await pipeline.worker()
    read = ReadModel(worker.store, worker.orphans)
    app = build_app(pipeline.redis, Metrics(), read, notifier, pipeline.clock,
                    build_desk(settings, pipeline.redis, officers, worker, notifier, read,
                               pipeline.clock))
    add_alertmanager_route(app, notifier, pipeline.clock, token)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return World(server, notifier, robots, tokens["admin"])


@pytest.fixture
async def world(pipeline, robots, make_notifier, settings, tmp_path):  # noqa: F811
    w = await serve(pipeline, robots, make_notifier, settings, tmp_path, TOKEN)
    yield w
    await w.server.close()


async def post(http, world: World, body, token: str | None = TOKEN):  # noqa: F811
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(world.url(), json=body, headers=headers) as response:
        return response.status, await response.json()


def texts(fake: FakeRobots, robot: str) -> list[str]:
    return [m.text for m in fake.robots[robot].messages]


async def test_a_firing_alert_reaches_the_operators_once_though_posted_twice(
        world, http, pipeline):  # noqa: F811
    for _ in range(2):  # Alertmanager retries when it did not see our answer
        assert await post(http, world, message()) == (200, {"received": 1})
    await drain(world.notifier, pipeline.clock)
    [shown] = texts(world.robots, "ops")
    assert "【运维告警】告警发件箱停滞" in shown and "告警中" in shown
    assert "YqOutboxStuck（critical）" in shown and "实例：monitor:8080" in shown
    assert all(not texts(world.robots, r) for r in ("office", "env", "health", "spare"))
    # A later repeat of the same firing group (repeat_interval) is still the same alert.
    pipeline.clock.advance(4 * 3600)
    assert (await post(http, world, message()))[0] == 200
    await drain(world.notifier, pipeline.clock)
    assert len(texts(world.robots, "ops")) == 1


async def test_a_resolved_alert_says_resolved(world, http, pipeline):  # noqa: F811
    await post(http, world, message())
    await drain(world.notifier, pipeline.clock)
    pipeline.clock.advance(timedelta(hours=1).total_seconds())
    for _ in range(2):
        assert (await post(http, world, message("resolved")))[0] == 200
    await drain(world.notifier, pipeline.clock, until=120)
    firing, resolved = texts(world.robots, "ops")
    assert "【运维告警已恢复】告警发件箱停滞" in resolved and "状态：已恢复" in resolved
    assert "恢复：11月16日 11:05（持续 50分钟）" in resolved  # Beijing time
    assert "已恢复" not in firing
    assert "\n".join(texts(world.robots, "ops")).count("已恢复】") == 1  # posted twice


async def test_a_new_firing_after_resolution_is_shown_again(world, http, pipeline):  # noqa: F811
    await post(http, world, message())
    await post(http, world, message("resolved"))
    again = message()
    again["alerts"][0]["startsAt"] = "2026-11-16T05:00:00Z"
    await post(http, world, again)
    await drain(world.notifier, pipeline.clock, until=300)
    shown = "\n".join(texts(world.robots, "ops"))
    assert shown.count("【运维告警】") == 2 and shown.count("已恢复】") == 1


async def test_only_the_configured_token_is_accepted(world, http, pipeline):  # noqa: F811
    assert (await post(http, world, message(), token=None))[0] == 401
    assert (await post(http, world, message(), token="not-it"))[0] == 401
    status, body = await post(http, world, message(), token=world.officer_token)
    assert status == 401 and "MONITOR_ALERTMANAGER_TOKEN" in body["message"]
    await drain(world.notifier, pipeline.clock, until=5)
    assert not texts(world.robots, "ops")
    async with http.get(str(world.server.make_url("/healthz"))) as response:
        assert response.status == 200  # still open


@pytest.mark.parametrize("broken, says", [
    (lambda m: m.update(version="3"), "version 4"),
    (lambda m: m["alerts"][0].update(status="pending"), "status must be"),
    (lambda m: m["alerts"][0].pop("fingerprint"), "alerts.0.fingerprint"),
    (lambda m: m["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
], ids=["version", "status", "fingerprint", "startsAt"])
async def test_a_malformed_message_is_refused_in_words(world, http, broken, says):  # noqa: F811
    body = copy.deepcopy(message())
    broken(body)
    status, answer = await post(http, world, body)
    assert status == 400 and says in answer["message"]


async def test_without_a_token_configured_the_route_asks_for_one(
        pipeline, robots, make_notifier, settings, tmp_path, http):  # noqa: F811
    world = await serve(pipeline, robots, make_notifier, settings, tmp_path, None)
    try:
        status, body = await post(http, world, message())
        assert status == 503 and "set MONITOR_ALERTMANAGER_TOKEN" in body["message"]
    finally:
        await world.server.close()


ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


@pytest.mark.skipif(ALERTMANAGER is None,
                    reason="alertmanager missing (apt-get install prometheus-alertmanager)")
async def test_a_real_alertmanager_reaches_the_robot_with_its_token(
        world, http, pipeline, tmp_path):  # noqa: F811
    """Alertmanager itself (Debian's) posts to the route with the token read from a file, as
    alertmanager/alertmanager.yml has it: firing, then resolved, each shown once."""
    port = free_port()
    process = start_alertmanager(tmp_path, port, world.url())
    api = f"http://127.0.0.1:{port}/api/v2/alerts"
    try:
        await wait_until(lambda: ready(http, port), "Alertmanager ready", tmp_path)
        starts = datetime.now(UTC)
        alert = {"labels": {"alertname": "YqServiceDown", "severity": "critical",
                            "instance": "monitor-worker:8080", "job": "yq-monitor"},
                 "annotations": {"summary": "监测服务 monitor-worker:8080 无法抓取"},
                 "startsAt": starts.isoformat()}
        async with http.post(api, json=[alert]) as response:
            assert response.status == 200
        await wait_until(lambda: pending(world, 1), "the firing alert", tmp_path)
        alert["endsAt"] = datetime.now(UTC).isoformat()
        async with http.post(api, json=[alert]) as response:
            assert response.status == 200
        await wait_until(lambda: pending(world, 2), "the resolution", tmp_path)
    finally:
        process.terminate()
        process.wait(10)
    await drain(world.notifier, pipeline.clock, until=120)
    shown = "\n".join(texts(world.robots, "ops"))
    assert shown.count("【运维告警】监测服务 monitor-worker:8080 无法抓取") == 1
    assert shown.count("【运维告警已恢复】监测服务 monitor-worker:8080 无法抓取") == 1


def start_alertmanager(tmp: Path, port: int, webhook: str) -> subprocess.Popen:
    shipped = yaml.safe_load((ROOT / "alertmanager" / "alertmanager.yml").read_text())
    (tmp / "token").write_text(TOKEN + "\n")  # a trailing newline, as `echo` leaves it
    [hook] = shipped["receivers"][0]["webhook_configs"]
    hook.update(url=webhook)
    hook["http_config"]["authorization"]["credentials_file"] = str(tmp / "token")
    shipped["route"].update(group_wait="0s", group_interval="1s")  # seconds, not minutes
    (tmp / "am.yml").write_text(yaml.safe_dump(shipped))
    return subprocess.Popen(
        [ALERTMANAGER, f"--config.file={tmp / 'am.yml'}", f"--storage.path={tmp / 'am'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=(tmp / "am.log").open("wb"))


async def ready(http, port: int) -> bool:  # noqa: F811
    try:
        async with http.get(f"http://127.0.0.1:{port}/-/ready") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def pending(world: World, count: int) -> bool:
    return len(await world.notifier.outbox.pending(100)) >= count


async def wait_until(check, what: str, tmp: Path, seconds: float = 30.0) -> None:
    """Wait in real time for another program (not for a deadline of ours)."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > seconds:
            log = (tmp / "am.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"{what}: not within {seconds:g}s\n{log}")
        await asyncio.sleep(0.05)
