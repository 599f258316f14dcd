"""An event that has left Redis is still there for whoever follows an old alert's link: the
API and the duty page answer it from the SQL history, read-only and marked as archived."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from monitor.clock import FakeClock
from monitor.domain.events import EventStatus
from monitor.history.archive import Archiver
from monitor.history.consumer import HistoryConsumer
from monitor.history.writer import HistoryWriter
from monitor.metrics import Metrics
from monitor.store.archive import EventEvictor
from monitor.store.events import EventStore
from monitor.track.readmodel import ReadModel
from monitor.web import page
from monitor.web.app import build_app
from monitor.web.reports import add_report_routes
from tests.history.conftest import local, make_event, new

pytestmark = [pytest.mark.redis, pytest.mark.sql]

DAY = 86400


@pytest.fixture
async def archived_http(redis, keys, history):
    store = EventStore(redis, keys, DAY)
    old = make_event("old", local("2026-09-01T09:00"), status=EventStatus.CLOSED)
    await store.save(new(old))
    await HistoryConsumer(redis, keys, store, HistoryWriter(history)).run_once()
    archiver = Archiver(history, EventEvictor(redis, keys), after_seconds=30 * DAY)
    assert await archiver.run_once(local("2026-11-01T00:00")) == 1
    assert await store.load("old") is None  # only the history holds it now

    clock = FakeClock(local("2026-11-01T00:00"))
    read = ReadModel(store)
    app = build_app(redis, Metrics(), read, clock=clock)
    page.add_routes(app, page.PageDeps(read, clock))
    add_report_routes(app, history)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession(base_url=server.make_url("")) as http:
        yield http
    await server.close()


async def test_the_api_answers_an_archived_event_from_the_history(archived_http):
    async with archived_http.get("/api/events/old") as response:
        assert response.status == 200
        body = await response.json()
    assert body["archived"] is True and body["left_redis_at"].startswith("2026-10-31T16:00")
    assert body["status"] == "closed" and body["topic"] == "生态环境"
    assert [(d["rule"], d["outcome"]) for d in body["deadlines"]] == [("response_48h", "met")]
    assert body["deadlines"][0]["time_to_response_s"] == 3 * 3600
    assert [r["title"] for r in body["responses"]] == ["关于old的情况通报"]
    assert [h["what"] for h in body["history"]] == ["opened", "closed"]
    async with archived_http.get("/api/events/never") as response:
        assert response.status == 404


async def test_the_duty_page_shows_an_archived_event_read_only(archived_http):
    async with archived_http.get("/events/old") as response:
        assert response.status == 200
        html = await response.text()
    assert "已归档" in html and "2026-11-01 00:00" in html  # left Redis, Beijing time
    assert "已按时回应" in html and "关于old的情况通报" in html and "值班员张三" in html
    assert "<form" not in html  # nothing to act on
    async with archived_http.get("/events/never") as response:
        assert response.status == 404
