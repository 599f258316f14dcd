"""The aiohttp application: health for orchestrators, metrics for Prometheus, a read-only
JSON API over events and alert deliveries, and (with `desk`) the officers' write API, duty
page and OpenAPI document behind one auth middleware (monitor/web/desk.py).

Every error answer is JSON: `{"status": 400, "error": "Bad Request", "message": …}`, plus
`"parameter"` when a query parameter is wrong. A bug answers 500 the same way; its
traceback goes to the log, not to the client."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import redis.asyncio as aioredis
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.clock import Clock, SystemClock
from monitor.domain.views import event_report
from monitor.metrics import Metrics
from monitor.notify.notifier import Notifier
from monitor.notify.statusview import typed_status
from monitor.track.readmodel import ReadModel
from monitor.web.archived import archived_event
from monitor.web.auth import authenticate
from monitor.web.desk import DeskApp

REDIS_KEY: web.AppKey[aioredis.Redis] = web.AppKey("redis", aioredis.Redis)
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
READ_KEY: web.AppKey[ReadModel] = web.AppKey("read", ReadModel)
NOTIFIER_KEY: web.AppKey[Notifier] = web.AppKey("notifier", Notifier)
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("clock", object)
BEFORE_SCRAPE_KEY: web.AppKey[Callable] = web.AppKey("before_scrape", object)
MAX_LIMIT = 1000  # rows per answer
MAX_DAYS = 3660  # ten years: more than any retention, and far from datetime's limits

log = structlog.get_logger("monitor.web")


def build_app(redis: aioredis.Redis, metrics: Metrics, read: ReadModel | None = None,
              notifier: Notifier | None = None, clock: Clock | None = None,
              desk: DeskApp | None = None,
              before_scrape: Callable[[], Awaitable[None]] | None = None) -> web.Application:
    app = web.Application(middlewares=[json_errors, authenticate] if desk else [json_errors])
    app[REDIS_KEY] = redis
    app[METRICS_KEY] = metrics
    app[CLOCK_KEY] = clock or SystemClock()
    if before_scrape is not None:  # the wall's gauges, read from Redis when scraped
        app[BEFORE_SCRAPE_KEY] = before_scrape
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    if read is not None:
        app[READ_KEY] = read
        app.router.add_get("/api/events", open_events)
        app.router.add_get("/api/events/{event_id}", one_event)
        app.router.add_get("/api/orphans", waiting_answers)
    if notifier is not None:
        app[NOTIFIER_KEY] = notifier
        app.router.add_get("/api/outbox", outbox)
    if desk is not None:
        desk.install(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[REDIS_KEY].ping()
    except (OSError, aioredis.RedisError) as exc:
        return web.json_response({"status": "unhealthy", "redis": f"unreachable: {exc}"},
                                 status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


async def metrics_handler(request: web.Request) -> web.Response:
    if (before := request.app.get(BEFORE_SCRAPE_KEY)) is not None:
        await before()
    body = generate_latest(request.app[METRICS_KEY].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def open_events(request: web.Request) -> web.Response:
    """Events that owe a response, the most urgent first; `?days=N` lists all first seen in
    the last N days instead, with their outcomes."""
    read, now = request.app[READ_KEY], request.app[CLOCK_KEY].now()
    if "days" in request.query:
        days = _query_int(request, "days", 1, MAX_DAYS)
        events = await read.in_range(now - timedelta(days=days), now)
        return web.json_response({"events": [event_report(e) for e in events]},
                                 dumps=_dumps)
    limit = _query_int(request, "limit", 200, MAX_LIMIT)
    rows = await read.open_by_time_left(now, limit=limit)
    return web.json_response({"now": now.isoformat(), "events": [
        {**event_report(r.event), "urgent_rule": r.rule, "urgent_due": r.due.isoformat(),
         "seconds_left": round(r.seconds_left)} for r in rows]}, dumps=_dumps)


async def one_event(request: web.Request) -> web.Response:
    read = request.app[READ_KEY]
    event = await read.event(request.match_info["event_id"])
    if event is None:
        if archived := await archived_event(request.app, request.match_info["event_id"]):
            return web.json_response(archived, dumps=_dumps)
        raise web.HTTPNotFound(text=f"no event {request.match_info['event_id']}")
    return web.json_response({**event_report(event, await read.items_of(event)), "history": [
        h.model_dump(mode="json") for h in event.history]}, dumps=_dumps)


async def waiting_answers(request: web.Request) -> web.Response:
    """Official answers (通报, 回复 …) that matched no open event yet: kept, not dropped, and
    attached when the event they answer opens; an officer can see and link them."""
    limit = _query_int(request, "limit", 200, MAX_LIMIT)
    items = await request.app[READ_KEY].waiting_answers(limit)
    return web.json_response({"answers": [
        {"id": i.id, "source_id": i.source_id, "title": i.title, "link": i.link,
         "published": i.published.isoformat(), "channel": i.channel}
        for i in items]}, dumps=_dumps)


async def outbox(request: web.Request) -> web.Response:
    limit = _query_int(request, "limit", 50, MAX_LIMIT)
    status = await request.app[NOTIFIER_KEY].status(limit)
    zone = request.app[CLOCK_KEY].now().tzinfo or UTC
    return web.json_response(typed_status(status, zone), dumps=_dumps)


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        allow = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}  # for 405
        return _error(exc.status, exc.text.removeprefix(f"{exc.status}: "), headers=allow)
    except Exception:  # a bug: the client gets JSON, the log gets the traceback
        log.exception("api_failed", method=request.method, path=request.path)
        return _error(500, "internal error; see the service log")


def _query_int(request: web.Request, name: str, default: int, maximum: int) -> int:
    value = request.query.get(name)
    if value is None:
        return default
    # ASCII digits only: str.isdigit() accepts '²', which int() refuses (a 500 before); the
    # length check keeps int() away from 10^30 and from its 4300-digit limit.
    if value.isascii() and value.isdigit() and len(value) <= 9 and 1 <= int(value) <= maximum:
        return int(value)
    raise web.HTTPBadRequest(
        text=_dumps(_error_body(400, f"{name} must be a positive whole number up to "
                                     f"{maximum}, not {value[:40]!r}") | {"parameter": name}),
        content_type="application/json")


def _error(status: int, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response(_error_body(status, message), status=status, headers=headers,
                             dumps=_dumps)


def _error_body(status: int, message: str) -> dict:
    return {"status": status, "error": HTTPStatus(status).phrase, "message": message}


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, default=_default)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
