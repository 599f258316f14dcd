"""The aiohttp application: health for orchestrators, metrics for Prometheus."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.metrics import Metrics

REDIS_KEY: web.AppKey[aioredis.Redis] = web.AppKey("redis", aioredis.Redis)
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)


def build_app(redis: aioredis.Redis, metrics: Metrics) -> web.Application:
    app = web.Application()
    app[REDIS_KEY] = redis
    app[METRICS_KEY] = metrics
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    return app


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[REDIS_KEY].ping()
    except (OSError, aioredis.RedisError) as exc:
        return web.json_response({"status": "unhealthy", "redis": f"unreachable: {exc}"},
                                 status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS_KEY].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
