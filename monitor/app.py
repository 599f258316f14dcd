"""Composition root: the one place that builds the stages and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from aiohttp import web
from sqlalchemy.engine import Engine

from monitor.clock import Clock, SystemClock, sleep_or_stop
from monitor.collect.fetcher import Fetcher
from monitor.collect.health import source_health
from monitor.collect.poller import Backoff, Poller
from monitor.collect.scheduler import Scheduler, worker_name
from monitor.config import FeedsFile, Settings
from monitor.errors import ConfigError, StoreError
from monitor.history.archive import Archiver
from monitor.history.consumer import HistoryConsumer
from monitor.history.db import database_url, open_history
from monitor.history.metrics import HistoryMetrics
from monitor.history.writer import HistoryWriter
from monitor.metrics import Metrics
from monitor.notify import Notifier, load_notify_config
from monitor.notify.forward import AlertForwarder
from monitor.officers import Officers
from monitor.report.schedule import MonthlyExports
from monitor.store.archive import EventEvictor
from monitor.store.desk import IdempotencyStore, SessionStore
from monitor.store.embedded import EmbeddedRedis, connect
from monitor.store.events import EventStore
from monitor.store.items import ItemStore, ensure_groups
from monitor.store.keys import Keys, poll_lease_seconds
from monitor.store.sources import SourceStore, state_counts, utc
from monitor.store.supervise import RedisSupervisor
from monitor.track.actions import Actions
from monitor.track.answers import AnswerStore
from monitor.track.orphans import OrphanStore
from monitor.track.policy import Policy, load_policy
from monitor.track.readmodel import ReadModel
from monitor.track.recompute import (
    calendar_runs_out,
    recompute_provisional,
    warn_if_calendar_runs_out,
)
from monitor.track.summary import summary_source
from monitor.track.timers import TimerRunner
from monitor.track.workdays import WorkCalendar
from monitor.track.worker import EventsWorker, OnTagged
from monitor.urlcheck import is_loopback
from monitor.wall.wiring import build_wall
from monitor.web.alertmanager import add_alertmanager_route
from monitor.web.app import build_app
from monitor.web.auth import Auth
from monitor.web.desk import DeskApp
from monitor.web.page import PageDeps
from monitor.web.reports import add_report_routes, month_links
from monitor.web.write import Desk

log = structlog.get_logger("monitor.app")

MAINTENANCE_SECONDS = 60.0


@contextlib.asynccontextmanager
async def open_redis(settings: Settings,
                     embedded: EmbeddedRedis | None = None) -> AsyncIterator[aioredis.Redis]:
    """The server at REDIS_URL, or the embedded one under the data directory."""
    url = settings.redis_url
    if not url:
        embedded = embedded or EmbeddedRedis(settings.data_dir / "redis")
        url = await embedded.start()
    client = connect(url)
    try:
        try:
            await client.ping()
        except (OSError, aioredis.RedisError) as exc:
            raise StoreError(f"cannot reach Redis at {_safe(url)}: {exc}") from exc
        yield client
    finally:
        await client.aclose()
        if embedded is not None:
            await embedded.stop()


@contextlib.asynccontextmanager
async def supervised(embedded: EmbeddedRedis | None, clock: Clock, metrics: Metrics,
                     stop: asyncio.Event) -> AsyncIterator[None]:
    """While the service runs, restart the embedded Redis if it dies; if it cannot be
    restarted, the supervisor sets `stop` and the service ends with its reason."""
    if embedded is None:
        yield
        return
    supervisor = RedisSupervisor(embedded, clock, metrics.redis_restarts)
    task = asyncio.create_task(supervisor.run(stop))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if supervisor.failure is not None:
            raise supervisor.failure  # the cause, rather than what failed for lack of Redis


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@dataclass
class Collector:
    """The collect stage, wired: what `monitor run` and the tests start."""

    scheduler: Scheduler
    items: ItemStore
    sources: SourceStore
    fetcher: Fetcher


@contextlib.asynccontextmanager
async def open_collector(settings: Settings, feeds: FeedsFile, redis: aioredis.Redis,
                         clock: Clock, metrics: Metrics,
                         rng: random.Random | None = None) -> AsyncIterator[Collector]:
    rng = rng or random.Random()
    keys = Keys(settings.key_prefix)
    items = ItemStore(redis, keys, settings.retention)
    sources = SourceStore(redis, keys, poll_lease_seconds(settings.total_timeout))
    await ensure_groups(redis, keys.items_stream, settings.group_names)
    async with Fetcher(settings, clock.now) as fetcher:
        poller = Poller(fetcher, items, Backoff(settings.backoff_cap, settings.jitter), rng)
        scheduler = Scheduler(feeds.sources, sources, poller, clock, metrics,
                              concurrency=settings.concurrency, rng=rng)
        await scheduler.start()
        yield Collector(scheduler, items, sources, fetcher)


def open_tracking(settings: Settings, policy: Policy, redis: aioredis.Redis,
                  clock: Clock, on_tagged: OnTagged | None = None,
                  metrics: Metrics | None = None) -> tuple[EventsWorker, TimerRunner]:
    """The events worker (a consumer in the 'track' group) and the deadline timers."""
    worker = EventsWorker(redis, Keys(settings.key_prefix), policy, clock,
                          name=worker_name(), retention_seconds=settings.retention,
                          on_tagged=on_tagged,
                          on_lease=_lease_counter(metrics) if metrics else None)
    return worker, TimerRunner(worker.store, worker.tracker, clock)


def _lease_counter(metrics: Metrics):
    def count(wait: float, held: float) -> None:
        metrics.grouping_lease.labels("wait").inc(wait)
        metrics.grouping_lease.labels("held").inc(held)
    return count


async def run_service(settings: Settings, feeds: FeedsFile, stop: asyncio.Event,
                      clock: Clock | None = None, policy: Policy | None = None) -> None:
    """`monitor run`: collectors, events worker, deadline timers, maintenance and the HTTP
    endpoints, until `stop`."""
    clock = clock or SystemClock()
    policy = policy or load_policy(settings.tracking_file)
    officers = Officers.from_path(settings.officers_file)
    refuse_open_bind(settings, officers)
    metrics = Metrics()
    wall = build_wall(metrics.registry, policy, feeds)
    notify_config = load_notify_config(public_url=settings.public_url)
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir / "redis")
    async with opened_history(settings) as history, \
            open_redis(settings, embedded) as redis, \
            supervised(embedded, clock, metrics, stop), \
            open_collector(settings, feeds, redis, clock, metrics) as collector, \
            Notifier(redis, Keys(settings.key_prefix), notify_config, clock,
                     metrics=metrics.registry) as notifier:
        worker, timers = open_tracking(settings, policy, redis, clock, wall.items, metrics)
        provisional = await settle_calendar(worker.store, policy, clock, metrics)
        forwarder = AlertForwarder(redis, Keys(settings.key_prefix), worker.store, notifier,
                                   clock, name=worker.name, on_intent=wall.intents(worker.store))
        read = ReadModel(worker.store, worker.orphans)
        notifier.set_summary_source(summary_source(read))
        desk = build_desk(settings, redis, officers, worker, notifier, read, clock,
                          sources_health(feeds, collector.sources, clock))
        refresher = wall.refresher(read, collector.sources, feeds, redis,
                                   Keys(settings.key_prefix), clock)
        web_app = build_app(redis, metrics, read, notifier, clock, desk,
                            before_scrape=refresher.refresh)
        add_report_routes(web_app, history)
        add_alertmanager_route(web_app, notifier, clock, settings.alertmanager_token)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        log.info("http_listening", address=f"http://{settings.http_host}:{settings.http_port}",
                 page=settings.public_url, officers=len(officers),
                 endpoints=["/", "/events/{id}", "/healthz", "/metrics", "/api/events",
                            "/api/events/{id}", "/api/orphans", "/api/outbox",
                            "/api/openapi.json", "/api/reports/monthly",
                            "/alertmanager/webhook"])
        try:
            await asyncio.gather(collector.scheduler.run(stop), worker.run(stop),
                                 timers.run(stop), forwarder.run(stop), notifier.run(stop),
                                 _maintain(collector, worker.orphans, worker.answers, feeds,
                                           clock, metrics, stop),
                                 _watch_calendar(worker.store, policy, clock, metrics, stop,
                                                 provisional),
                                 *history_loops(settings, history, redis, worker.store, clock,
                                                metrics, stop))
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def opened_history(settings: Settings) -> AsyncIterator[Engine]:
    """The SQL history, migrated first, so a database that cannot be reached stops the start
    before anything runs (in a thread: Alembic blocks)."""
    engine = await asyncio.to_thread(open_history,
                                     database_url(settings.database_url, settings.data_dir))
    try:
        yield engine
    finally:
        engine.dispose()


def history_loops(settings: Settings, history: Engine, redis: aioredis.Redis, store: EventStore,
                  clock: Clock, metrics: Metrics, stop: asyncio.Event) -> list:
    """The SQL history kept current, closed events archived out of Redis, and the monthly
    export written on the 1st."""
    keys = Keys(settings.key_prefix)
    counts = HistoryMetrics(metrics.registry)
    consumer = HistoryConsumer(redis, keys, store, HistoryWriter(history), metrics=counts)
    archiver = Archiver(history, EventEvictor(redis, keys), settings.archive_after, counts)
    exports = MonthlyExports(history, settings.data_dir / "exports")
    return [consumer.run(clock, stop), archiver.run(clock, stop), exports.run(clock, stop)]


def refuse_open_bind(settings: Settings, officers: Officers) -> None:
    """Writes need a named officer; listening beyond this machine with nobody named would
    leave the desk usable by no one and its reads open to no one: say so at start-up."""
    if not is_loopback(settings.http_host) and not len(officers):
        raise ConfigError([
            f"MONITOR_HTTP_HOST={settings.http_host} listens beyond this machine, but "
            f"{settings.officers_file} names no officer: add one with `monitor officers add "
            "NAME --role admin` (or listen on 127.0.0.1)"])


def build_desk(settings: Settings, redis: aioredis.Redis, officers: Officers,
               worker: EventsWorker, notifier: Notifier | None, read: ReadModel, clock: Clock,
               sources=None) -> DeskApp:
    """The officers' desk: auth, the actions (Actions is built here and nowhere else), the
    duty page."""
    keys = Keys(settings.key_prefix)
    secure = settings.public_url.startswith("https://")
    labels = officer_labels()
    actions = Actions(worker.store, worker.tracker, notifier, worker.orphans)
    desk = Desk(actions, clock, IdempotencyStore(redis, keys), notifier, labels)
    page = PageDeps(read, clock, outbox=notifier.status if notifier else None, reports=month_links,
                    sources=sources, labels=labels, secure_cookie=secure)
    auth = Auth(officers, SessionStore(redis, keys), secure,
                loopback_reads=not settings.reads_need_sign_in)
    return DeskApp(auth, desk, page)


def officer_labels() -> dict[str, tuple[str, ...]]:
    """The labels an officer's correction may use: the classifier's taxonomy."""
    from classifiers import taxonomy

    tax = taxonomy.default()
    return {"topic": tax.topics, "incident": tax.incidents, "severity": tax.severities}


def sources_health(feeds: FeedsFile, store: SourceStore, clock: Clock):
    """For the page: each source's health (monitor/collect/health.py) on the service clock."""
    sources = {s.id: s for s in feeds.sources}

    async def rows() -> list[dict]:
        states = await store.load_many(sources)
        now = clock.now().timestamp()
        return [{"id": sid, "name": sources[sid].name,
                 "state": source_health(st, sources[sid].interval, now).value,
                 "last_success": utc(st.last_success),
                 "last_new_item": utc(st.last_new_item_at), "detail": st.last_error[:120]}
                for sid, st in states.items()]

    return rows


async def _maintain(collector: Collector, orphans: OrphanStore, answers: AnswerStore,
                    feeds: FeedsFile, clock: Clock, metrics: Metrics, stop: asyncio.Event) -> None:
    """Trim the item stream, the answers still waiting for an event and those kept to be
    re-matched (track/answers.py) to the retention period, and refresh the source gauges."""
    while not stop.is_set():
        try:
            trimmed = await collector.items.trim(clock.now())
            if trimmed:
                log.info("items_trimmed", entries=trimmed)
            if forgotten := await orphans.trim(clock.now().timestamp()):
                log.info("waiting_answers_trimmed", answers=forgotten)
            if kept_no_longer := await answers.trim(clock.now().timestamp()):
                log.info("attached_answers_trimmed", answers=kept_no_longer,
                         why="past the retention period: no longer re-matched to new events")
            states = await collector.sources.load_many(s.id for s in feeds.sources)
            for name, count in state_counts(states.values()).items():
                metrics.sources.labels(name).set(count)
        except (OSError, aioredis.RedisError) as exc:
            log.error("maintenance_failed", error=str(exc))
        await sleep_or_stop(clock, MAINTENANCE_SECONDS, stop)


async def settle_calendar(store: EventStore, policy: Policy, clock: Clock,
                           metrics: Metrics) -> int:
    """At start-up: warn while the calendar runs out within 60 days, and recompute the open
    provisional due times that the calendar as now entered can settle; the count left."""
    now = clock.now()
    warn_if_calendar_runs_out(policy, now)
    result = await recompute_provisional(store, policy, now)
    if result.events_checked:
        log.info("provisional_deadlines_recomputed", events=result.events_checked,
                 due_times_changed=result.due_times_changed,
                 still_provisional=result.still_provisional)
    _set_calendar_gauges(metrics, policy, result.still_provisional)
    return result.still_provisional


async def _watch_calendar(store: EventStore, policy: Policy, clock: Clock, metrics: Metrics,
                          stop: asyncio.Event, counted: int) -> None:
    """Keep the provisional-deadline count current for the wall. Counting reads every open
    event, so it runs only while a deadline can be provisional: the next 60 days reach a year
    nobody entered, or some deadline still was at the last count."""
    while not stop.is_set():
        await sleep_or_stop(clock, MAINTENANCE_SECONDS, stop)
        if not counted and not calendar_runs_out(policy, clock.now()):
            continue
        try:
            result = await recompute_provisional(store, policy, clock.now(), write=False)
            counted = result.still_provisional
            _set_calendar_gauges(metrics, policy, counted)
        except (OSError, aioredis.RedisError) as exc:
            log.error("calendar_count_failed", error=str(exc))


def _set_calendar_gauges(metrics: Metrics, policy: Policy, provisional: int) -> None:
    metrics.calendar_known_until.set(WorkCalendar(policy.calendar).known_until_year())
    metrics.deadlines_provisional.set(provisional)
