"""/healthz, /metrics and JSON errors over a real socket."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from monitor.metrics import Metrics
from monitor.store.embedded import connect
from monitor.store.events import EventStore
from monitor.track.readmodel import ReadModel
from monitor.web.app import build_app

pytestmark = pytest.mark.redis


async def test_healthz_and_metrics(redis):
    metrics = Metrics()
    metrics.items_new.inc(3)
    server = TestServer(build_app(redis, metrics), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.make_url("/healthz")) as response:
                assert response.status == 200
                assert await response.json() == {"status": "ok", "redis": "ok"}
            async with http.get(server.make_url("/metrics")) as response:
                text = await response.text()
        assert "yq_items_new_total 3.0" in text
        assert 'yq_poll_errors_total{reason="rate_limited"} 0.0' in text
    finally:
        await server.close()


async def test_healthz_reports_unreachable_redis():
    dead = connect("redis://127.0.0.1:1")
    server = TestServer(build_app(dead, Metrics()), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.make_url("/healthz")) as response:
                assert response.status == 503
                body = await response.json()
        assert body["status"] == "unhealthy" and body["redis"].startswith("unreachable")
    finally:
        await server.close()
        await dead.aclose()


async def _get(server: TestServer, method: str, path: str) -> tuple[int, str, dict, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, server.make_url(path)) as response:
            return (response.status, response.content_type, dict(response.headers),
                    await response.json(content_type=None))


async def test_every_error_is_json(redis, keys):
    """404 and 405 from the router and a 500 from a failing store all answer JSON."""
    dead = connect("redis://127.0.0.1:1")  # the store fails: a 500 with a traceback before
    app = build_app(dead, Metrics(), ReadModel(EventStore(dead, keys, 86400)))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        status, kind, _, body = await _get(server, "GET", "/api/nope")
        assert (status, kind, body) == (404, "application/json", {
            "status": 404, "error": "Not Found", "message": "Not Found"})
        status, kind, headers, body = await _get(server, "POST", "/api/events")
        assert (status, kind, body["error"]) == (405, "application/json", "Method Not Allowed")
        assert "GET" in headers["Allow"]
        status, kind, _, body = await _get(server, "GET", "/api/events")
        assert (status, kind, body) == (500, "application/json", {
            "status": 500, "error": "Internal Server Error",
            "message": "internal error; see the service log"})
    finally:
        await server.close()
        await dead.aclose()


async def test_an_unknown_event_is_a_json_404(redis, keys):
    server = TestServer(build_app(redis, Metrics(), ReadModel(EventStore(redis, keys, 86400))),
                        host="127.0.0.1")
    await server.start_server()
    try:
        status, kind, _, body = await _get(server, "GET", "/api/events/ev-nope")
    finally:
        await server.close()
    assert (status, kind, body["message"]) == (404, "application/json", "no event ev-nope")
