"""The whole service in one process, as `monitor run` wires it: a fake news feed and a fake
official site → collectors → events worker → API, and the alert reaching a fake robot."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
import yaml

from monitor.app import run_service
from monitor.config import load_feeds
from monitor.track.workdays import CHINA_TZ
from tests.fakesite import Document, rss
from tests.notify.fakerobots import FakeRobots

pytestmark = pytest.mark.redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_news_becomes_an_event_and_an_alert(site, settings, tmp_path, monkeypatch):
    robots = await FakeRobots().start()
    robots.add("office", "wecom")
    now = datetime.now(UTC)
    stamp = format_datetime(now - timedelta(minutes=30))
    site.put("/news.xml", Document(rss("新闻", [
        ("云南镇雄一煤矿发生透水事故 已致12人死亡", "http://e.cn/n/1", stamp),
        ("镇雄煤矿透水事故死亡人数升至12人 救援持续", "http://e.cn/n/2", stamp)])))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"sources": [
        {"id": "news", "name": "新闻网", "kind": "rss", "url": site.url("/news.xml"),
         "interval": "1s", "allow_private": True}]}, allow_unicode=True))
    notify = tmp_path / "notify.yaml"
    notify.write_text(yaml.safe_dump({
        "robots": [{"id": "office", "name": "值班群", "platform": "wecom",
                    "url": robots.url("office")}],
        "route": {"receivers": ["office"]}}, allow_unicode=True))
    monkeypatch.setenv("MONITOR_NOTIFY", str(notify))
    port = free_port()
    config = settings.model_copy(update={"http_port": port})
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(config, load_feeds(feeds), stop))
    try:
        events = await wait_for_events(port)
        reported = await wait_for_history(port, now - timedelta(minutes=30))  # first seen
        for _ in range(200):
            if robots.texts("office"):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(service, 30)
        await robots.stop()
    [event] = events
    assert event["severity"] == "重大" and event["region"] == "昭通市"
    assert len(event["items"]) == 2 and event["urgent_rule"] == "authoritative_info_5h"
    [message] = robots.texts("office")
    assert "镇雄" in message and "5小时内发布权威信息" in message
    assert [e["id"] for e in reported["events"]] == [event["id"]]  # in the SQL history
    assert (tmp_path / "history.sqlite3").exists()


async def wait_for_history(port: int, now: datetime) -> dict:
    """The month's report from the SQL history, once the history consumer wrote the event."""
    month = now.astimezone(CHINA_TZ).strftime("%Y-%m")
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            async with http.get(f"http://127.0.0.1:{port}/api/reports/monthly",
                                params={"month": month}) as response:
                body = await response.json()
                if body["events"]:
                    return body
            await asyncio.sleep(0.1)
    raise AssertionError("the event did not reach the SQL history within 30 s")


async def wait_for_events(port: int) -> list[dict]:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}/api/events") as response:
                    body = await response.json()
                    if body["events"] and len(body["events"][0]["items"]) == 2:
                        return body["events"]
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("no event with both items within 30 s")
