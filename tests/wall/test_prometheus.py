"""The wall against a real Prometheus: the service runs a scenario on a fast fake clock (fake
feed site, fake robot, real Redis), Prometheus on 127.0.0.1 scrapes it every second with the
repo's alert rules loaded, and every PromQL expression of every panel and rule is evaluated
through the HTTP API. Each wall panel must return data: a panel that queries a metric the
service does not export fails here."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import pytest
import yaml

from monitor.app import run_service
from monitor.clock import FakeClock
from monitor.config import load_feeds
from monitor.wall.dashboards import operator, wall
from monitor.wall.picture import wall_png
from tests.fakesite import Document, rss
from tests.notify.fakerobots import FakeRobots
from tests.test_service import free_port

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "prometheus" / "rules" / "yq.yml"

pytestmark = [pytest.mark.redis, pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus is not installed (apt-get install prometheus)")]


def scenario(now: datetime) -> tuple[list, list]:
    """News of a mine accident six hours old (its 5 h deadline already missed), a pollution
    story and a school story; an official notice about the accident after five and a half."""
    def at(hours: float) -> str:
        return format_datetime(now - timedelta(hours=hours))

    news = [("云南镇雄一煤矿发生透水事故 已致12人死亡", "http://e.cn/n/1", at(6)),
            ("镇雄煤矿透水事故死亡人数升至12人 救援持续", "http://e.cn/n/2", at(5.8)),
            ("洱海流域多处污水直排 村民反映水体发黑发臭", "http://e.cn/n/3", at(2)),
            ("昆明一化工厂夜间偷排废气 周边居民投诉刺鼻气味", "http://e.cn/n/4", at(1))]
    official = [("关于镇雄县煤矿透水事故的情况通报", "http://gov.e.cn/t/1", at(0.5))]
    return news, official


async def test_every_panel_and_rule_evaluates_and_the_wall_has_data(site, settings, tmp_path,
                                                                    monkeypatch):
    now = datetime.now(UTC)
    clock = FakeClock(now)
    robots = await FakeRobots(now=clock.now).start()
    robots.add("office", "wecom")
    notify = tmp_path / "notify.yaml"
    notify.write_text(yaml.safe_dump({
        "robots": [{"id": "office", "name": "值班群", "platform": "wecom",
                    "url": robots.url("office")}],
        "route": {"receivers": ["office"]}}, allow_unicode=True))
    monkeypatch.setenv("MONITOR_NOTIFY", str(notify))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"sources": [
        {"id": "news", "name": "新闻网", "kind": "rss", "url": site.url("/news.xml"),
         "interval": "30s", "allow_private": True},
        {"id": "yn-gov", "name": "云南省人民政府", "kind": "rss", "url": site.url("/gov.xml"),
         "interval": "30s", "allow_private": True, "official": True, "channel": "website"},
        {"id": "broken", "name": "坏掉的源", "kind": "rss", "url": site.url("/broken.xml"),
         "interval": "30s", "allow_private": True}]}, allow_unicode=True))
    site.put("/broken.xml", Document(b"down", status=500))
    for path in ("/news.xml", "/gov.xml"):  # healthy and empty until the scenario starts
        site.put(path, Document(rss("新闻", [])))
    port, prom_port = free_port(), free_port()
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(
        settings.model_copy(update={"http_port": port}), load_feeds(feeds), stop, clock=clock))
    driver = asyncio.create_task(_fast_clock(clock, stop))
    prometheus = await _start_prometheus(tmp_path, port, prom_port)
    api = f"http://127.0.0.1:{prom_port}"
    try:
        async with aiohttp.ClientSession() as http:
            # Zeros first, so that the first events show as an increase.
            await _until(http, api, "count_over_time(yq_events_new_total[1m]) >= 2")
            news, official = scenario(clock.now())
            site.put("/news.xml", Document(rss("新闻", news)))
            site.put("/gov.xml", Document(rss("政府", official)))
            await _until(http, api, 'sum(increase(yq_events_new_total[1m])) > 0')
            await _until(http, api, 'max(yq_source_failing{source="broken"}) == 1')
            await _until(http, api, "count_over_time(yq_events_open[1m]) >= 3")
            await _assert_panels_and_rules(http, api)
            body = await (await http.get(f"http://127.0.0.1:{port}/metrics")).read()
            picture = await asyncio.to_thread(wall_png, api, tmp_path / "wall.png", 180.0)
    finally:
        stop.set()
        driver.cancel()
        await asyncio.wait_for(service, 30)
        await robots.stop()
        prometheus.terminate()
        prometheus.wait(10)
    assert picture.stat().st_size > 10_000
    if out := os.environ.get("WALL_PNG_OUT"):  # to refresh the picture in the README
        shutil.copy(picture, out)
    if PROMTOOL:
        lint = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True)
        assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()


async def _assert_panels_and_rules(http: aiohttp.ClientSession, api: str) -> None:
    empty = []
    for dashboard in (wall(), operator()):
        for panel in dashboard["panels"]:
            results = [await _query(http, api, t["expr"]) for t in panel["targets"]]
            if dashboard["uid"] == "yq-duty-wall" and not any(results):
                empty.append(panel["title"])
    assert empty == [], f"wall panels without data: {empty}"
    for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]:
        for rule in group["rules"]:
            await _query(http, api, rule["expr"])
    async with http.get(f"{api}/api/v1/rules") as response:
        groups = (await response.json())["data"]["groups"]
    loaded = [r for g in groups for r in g["rules"]]
    assert len(loaded) == 7 and all(r["health"] != "err" for r in loaded), loaded


async def _query(http: aiohttp.ClientSession, api: str, expr: str) -> list:
    async with http.get(f"{api}/api/v1/query", params={"query": expr}) as response:
        body = await response.json()
    assert body["status"] == "success", f"{expr}: {body.get('error')}"
    return body["data"]["result"]


async def _until(http: aiohttp.ClientSession, api: str, expr: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 5)):
        with contextlib.suppress(aiohttp.ClientError):
            if await _query(http, api, expr):
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"Prometheus never saw {expr} within {seconds} s")


async def _fast_clock(clock: FakeClock, stop: asyncio.Event) -> None:
    """Ten simulated seconds per real second: polls and timers come round quickly, and the
    service's time stays close to Prometheus's for the time-left panels."""
    while not stop.is_set():
        await asyncio.sleep(0.1)
        clock.advance(1)


async def _start_prometheus(tmp: Path, target_port: int, port: int) -> subprocess.Popen:
    config = tmp / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "yq-monitor", "static_configs": [
            {"targets": [f"127.0.0.1:{target_port}"]}]}]}))
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(tmp / "prometheus.log").open("wb"))
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/-/ready") as response:
                    if response.status == 200:
                        return process
            await asyncio.sleep(0.1)
    process.terminate()
    raise AssertionError(f"Prometheus did not start: {(tmp / 'prometheus.log').read_text()}")
