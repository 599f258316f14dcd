"""/healthz and /metrics over a real socket."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from monitor.metrics import Metrics
from monitor.store.embedded import connect
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
