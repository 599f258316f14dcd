"""The read-only JSON API over a real socket: open events by urgency, one event with its
history, and the alert outbox with a refused delivery visible."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from monitor.metrics import Metrics
from monitor.track.forward import AlertForwarder
from monitor.track.readmodel import ReadModel
from monitor.web.app import build_app
from tests.notify.conftest import base_config, drain, make_notifier, robots  # noqa: F401
from tests.track.conftest import MESSAGE_AND_MAJOR_ACCIDENT, T0

pytestmark = pytest.mark.redis


@pytest.fixture
async def api(pipeline, robots, make_notifier):  # noqa: F811
    notifier = make_notifier(base_config(robots))
    worker = await pipeline.worker()
    await pipeline.feed(worker, *MESSAGE_AND_MAJOR_ACCIDENT)
    forwarder = AlertForwarder(pipeline.redis, pipeline.keys, worker.store, notifier,
                               pipeline.clock, "w1")
    await forwarder.start()
    await forwarder.run_once()
    robots.robots["office"].removed = True  # the office robot was taken out of its group
    await drain(notifier, pipeline.clock, until=5)
    server = TestServer(build_app(pipeline.redis, Metrics(), ReadModel(worker.store), notifier,
                                  pipeline.clock), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession(base_url=server.make_url("")) as http:
        yield http
    await server.close()


async def test_open_events_most_urgent_first(api, pipeline):
    async with api.get("/api/events") as response:
        body = await response.json()
    assert [e["urgent_rule"] for e in body["events"]] == ["authoritative_info_5h",
                                                          "message_2wd"]
    mine = body["events"][0]
    assert mine["severity"] == "重大" and 5 * 3600 - 60 < mine["seconds_left"] <= 5 * 3600
    async with api.get("/api/events?days=2") as response:
        assert len((await response.json())["events"]) == 2
    async with api.get("/api/events?limit=zero") as response:
        assert response.status == 400 and "positive whole number" in await response.text()


async def test_one_event_with_its_history(api, pipeline):
    async with api.get("/api/events") as response:
        event_id = (await response.json())["events"][0]["id"]
    async with api.get(f"/api/events/{event_id}") as response:
        body = await response.json()
    assert body["id"] == event_id and body["history"][0]["what"] == "opened"
    async with api.get("/api/events/ev-nope") as response:
        assert response.status == 404


async def test_outbox_shows_refused_deliveries(api):
    async with api.get("/api/outbox") as response:
        body = await response.json()
    assert set(body) >= {"pending", "failed", "recent", "robots", "silences"}
    assert body["robots"]["office"]["configured"] == "True"
    assert "office" in str(body["failed"])  # refused for good: visible, not dropped


async def test_timestamps_are_in_the_clock_zone(api, pipeline):
    pipeline.clock.set(T0 + timedelta(hours=2))
    async with api.get("/api/events") as response:
        body = await response.json()
    assert body["now"].startswith("2026-11-16T")
