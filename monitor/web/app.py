"""The aiohttp application: health for orchestrators, metrics for Prometheus, and a small
read-only JSON API over events and alert deliveries (officers' actions come with the page)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.clock import Clock, SystemClock
from monitor.metrics import Metrics
from monitor.notify.notifier import Notifier
from monitor.track.readmodel import ReadModel
from monitor.track.replay import event_report

REDIS_KEY: web.AppKey[aioredis.Redis] = web.AppKey("redis", aioredis.Redis)
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
READ_KEY: web.AppKey[ReadModel] = web.AppKey("read", ReadModel)
NOTIFIER_KEY: web.AppKey[Notifier] = web.AppKey("notifier", Notifier)
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("clock", object)


def build_app(redis: aioredis.Redis, metrics: Metrics, read: ReadModel | None = None,
              notifier: Notifier | None = None, clock: Clock | None = None) -> web.Application:
    app = web.Application()
    app[REDIS_KEY] = redis
    app[METRICS_KEY] = metrics
    app[CLOCK_KEY] = clock or SystemClock()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    if read is not None:
        app[READ_KEY] = read
        app.router.add_get("/api/events", open_events)
        app.router.add_get("/api/events/{event_id}", one_event)
    if notifier is not None:
        app[NOTIFIER_KEY] = notifier
        app.router.add_get("/api/outbox", outbox)
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


async def open_events(request: web.Request) -> web.Response:
    """Events that owe a response, the most urgent first; `?days=N` lists all first seen in
    the last N days instead, with their outcomes."""
    read, now = request.app[READ_KEY], request.app[CLOCK_KEY].now()
    if "days" in request.query:
        days = _positive_int(request.query["days"], "days")
        events = await read.in_range(now - timedelta(days=days), now)
        return web.json_response({"events": [event_report(e) for e in events]},
                                 dumps=_dumps)
    rows = await read.open_by_time_left(now, limit=_positive_int(request.query.get("limit",
                                                                                   "200"),
                                                                 "limit"))
    return web.json_response({"now": now.isoformat(), "events": [
        {**event_report(r.event), "urgent_rule": r.rule, "urgent_due": r.due.isoformat(),
         "seconds_left": round(r.seconds_left)} for r in rows]}, dumps=_dumps)


async def one_event(request: web.Request) -> web.Response:
    event = await request.app[READ_KEY].event(request.match_info["event_id"])
    if event is None:
        raise web.HTTPNotFound(text=f"no event {request.match_info['event_id']}")
    return web.json_response({**event_report(event), "history": [
        h.model_dump(mode="json") for h in event.history]}, dumps=_dumps)


async def outbox(request: web.Request) -> web.Response:
    limit = _positive_int(request.query.get("limit", "50"), "limit")
    return web.json_response(await request.app[NOTIFIER_KEY].status(limit), dumps=_dumps)


def _positive_int(value: str, name: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise web.HTTPBadRequest(text=f"{name} must be a positive whole number, not {value!r}")
    return int(value)


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, default=_default)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
