"""The read-only JSON API over a real socket: open events by urgency, one event with its
history, and the alert outbox with a refused delivery visible."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from monitor.metrics import Metrics
from monitor.notify.forward import AlertForwarder
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
    assert body["robots"]["office"]["configured"] is True
    assert "office" in str(body["failed"])  # refused for good: visible, not dropped


async def test_outbox_values_are_typed(api, pipeline):
    """Booleans, numbers and ISO-8601 times, not the strings and epoch seconds in Redis."""
    async with api.get("/api/outbox") as response:
        body = await response.json()
    now = pipeline.clock.now()
    office = body["robots"]["office"]
    assert office["last_error"].startswith("bad_key") and office.get("last_ok") is None
    assert datetime.fromisoformat(office["last_error_at"]) <= now
    failed = body["failed"][0]
    assert datetime.fromisoformat(failed["at"]) <= now and failed["status"] == 200
    assert body["pending_total"] == 0
    assert all(datetime.fromisoformat(r["at"]) <= now for r in body["recent"])


@pytest.mark.parametrize(("query", "parameter"), [
    ("/api/events?limit=" + "1" + "0" * 30, "limit"),  # 10^30: a 500 before
    ("/api/events?limit=²", "limit"),  # isdigit() but not int(): a 500 before
    ("/api/events?limit=0", "limit"),
    ("/api/events?days=1000000", "days"),  # a date before year 1: a 500 before
    ("/api/events?days=-3", "days"),
    ("/api/outbox?limit=1001", "limit"),
], ids=str)
async def test_bad_numbers_are_a_json_400_naming_the_parameter(api, query, parameter):
    async with api.get(query) as response:
        assert response.status == 400 and response.content_type == "application/json"
        body = await response.json()
    assert body["parameter"] == parameter and body["status"] == 400
    assert body["message"].startswith(f"{parameter} must be a positive whole number up to ")


async def test_timestamps_are_in_the_clock_zone(api, pipeline):
    pipeline.clock.set(T0 + timedelta(hours=2))
    async with api.get("/api/events") as response:
        body = await response.json()
    assert body["now"].startswith("2026-11-16T")
