"""`monitor demo`: the whole service on the shipped scenarios, offline, in about a minute.

Everything is real and local: the embedded Redis and the SQLite history under the demo's
data directory, a feed site and a WeCom-like robot on 127.0.0.1, and `run_service` — the
same composition `monitor run` starts — on a simulated clock that the driver moves from one
news item or deadline to the next. Only the clock is simulated; nothing sleeps for a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import yaml

from monitor.clock import FakeClock
from monitor.config import load_feeds, load_settings
from monitor.demo.driver import Driver
from monitor.demo.robot import Message, PrintingRobot
from monitor.demo.scenarios import Scenarios, load_scenarios
from monitor.demo.site import FeedSite
from monitor.domain.events import Event, ItemRef
from monitor.domain.views import event_report
from monitor.officers import Role, issue_token
from monitor.store.embedded import EmbeddedRedis, connect
from monitor.store.events import EventStore
from monitor.store.keys import Keys
from monitor.track.workdays import CHINA_TZ

REPO = Path(__file__).resolve().parents[2]
TAIL = timedelta(days=4)  # after the last item: the workday deadlines run out, reminders stop
EXPORT_WAIT_SECONDS = 90.0
OFFICER = "演示值班员"


@dataclass
class DemoOptions:
    data_dir: Path = Path("var/demo")
    port: int = 0  # 0: a free port
    keep_running: bool = False
    show_messages: bool = True


@dataclass
class DemoResult:
    events: list[Event]
    refs: dict[str, list[ItemRef]]
    items: int
    alerts_raised: int
    messages: list[Message]
    exports: list[Path]
    report: Path
    seconds: float
    outcomes: Counter = field(default_factory=Counter)

    def summary_lines(self) -> list[str]:
        o = self.outcomes
        return [
            f"{self.items} items → {len(self.events)} events",
            f"deadlines: {o['met']} met, {o['met_late']} late, {o['missed']} missed, "
            f"{o['pending'] + o['due_soon']} still running"
            + (f", {o['superseded']} superseded" if o["superseded"] else "")
            + (f", {o['waived']} waived" if o["waived"] else ""),
            f"alerts: {self.alerts_raised} raised, {len(self.messages)} messages delivered "
            "to the robot",
            *(f"export: {p}  (CSV, JSON and chart beside it)" for p in self.exports),
            f"every event with its deadlines: {self.report}",
            f"took {self.seconds:.0f}s",
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> DemoResult:
    started = time.perf_counter()
    data = options.data_dir.resolve()
    if data.exists():
        shutil.rmtree(data)  # each demo starts from nothing
    data.mkdir(parents=True)
    scenarios = load_scenarios()
    clock = FakeClock(scenarios.entries[0].published - timedelta(minutes=5))
    port = options.port or free_port()
    site = await FeedSite(scenarios.feeds).start()
    robot = await PrintingRobot(clock.now, say if options.show_messages else _silent).start()
    embedded = EmbeddedRedis(data / "redis")
    redis_url = await embedded.start()
    redis = connect(redis_url)
    stop = asyncio.Event()
    service = None
    try:
        settings, feeds, token = _configure(data, scenarios, site, robot, redis_url, port)
        from monitor.app import run_service  # late: the whole service loads only here

        service = asyncio.create_task(run_service(settings, feeds, stop, clock=clock))
        await _wait_http(port, service)
        _where_to_look(say, port, token, data)
        keys = Keys(settings.key_prefix)
        driver = Driver(clock, redis, keys, site, [f.id for f in scenarios.feeds])
        end = scenarios.entries[-1].published + TAIL
        await driver.play(scenarios.entries, end)
        await driver.play([], _after_month_end(end))  # the service writes the month's export
        exports = await _wait_exports(data / "exports", _months(scenarios), service)
        result = await _result(redis, keys, robot, exports, data, started,
                               driver.published)
        say("\n== demo summary")
        for line in result.summary_lines():
            say(f"  {line}")
        if options.keep_running:
            say(f"\nstill running: duty page http://127.0.0.1:{port}/ (Ctrl-C stops)")
            await _until_interrupted(service)
        return result
    finally:
        stop.set()
        if service is not None:
            await asyncio.wait_for(asyncio.gather(service, return_exceptions=True), 60)
        await redis.aclose()
        await embedded.stop()
        await robot.stop()
        await site.stop()


def _silent(_: str) -> None:
    pass


def _configure(data: Path, scenarios: Scenarios, site: FeedSite, robot: PrintingRobot,
               redis_url: str, port: int):
    """The demo's own feeds, robot and officer files under its data directory."""
    feeds_file = data / "feeds.yaml"
    feeds_file.write_text(yaml.safe_dump({"sources": [
        {"id": f.id, "name": f.name, "url": site.url(f.id), "interval": "30s",
         "official": f.official, "channel": f.channel,
         **({"region": f.region} if f.region else {}), "allow_private": True}
        for f in scenarios.feeds]}, allow_unicode=True), encoding="utf-8")
    notify_file = data / "notify.yaml"
    notify_file.write_text(yaml.safe_dump({
        "robots": [{"id": "office", "name": "演示值班群", "platform": "wecom",
                    "url": robot.url}],
        "route": {"receivers": ["office"]},
        "quiet": {"group_interval": "60s", "repeat_interval": "4h", "max_repeats": 3},
    }, allow_unicode=True), encoding="utf-8")
    os.environ["MONITOR_NOTIFY"] = str(notify_file)  # run_service reads it from there
    officers_file = data / "officers.yaml"
    token = issue_token(officers_file, OFFICER, Role.ADMIN, create=True)
    tracking = REPO / "tracking.yaml"
    settings = load_settings(
        redis_url=redis_url, data_dir=data, http_host="127.0.0.1", http_port=port,
        public_url=f"http://127.0.0.1:{port}", feeds_file=feeds_file,
        officers_file=officers_file, tracking_file=tracking if tracking.exists() else None,
        key_prefix="yq:demo:", database_url=None, archive_after=400 * 86400.0)
    return settings, load_feeds(feeds_file), token


async def _wait_http(port: int, service: asyncio.Task) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if service.done():
                service.result()  # the service's own error, in its words
                raise RuntimeError("the service stopped during start-up")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the web app did not answer on port {port} within 60 s")


def _where_to_look(say: Callable[[str], None], port: int, token: str, data: Path) -> None:
    base = f"http://127.0.0.1:{port}"
    say("== 舆情回应监测 demo: three scenarios (a week of news, an earthquake, three accidents "
        "on one day) published by a local feed site over simulated days")
    say(f"  duty page   {base}/        (reads are open from this machine)")
    say(f"  sign in     {base}/login   officer {OFFICER}, one-time token:\n              {token}")
    say(f"  metrics     {base}/metrics")
    say(f"  API         {base}/api/events   {base}/api/openapi.json")
    say(f"  data        {data} (Redis, SQLite history, exports)")
    say("  the robot's messages follow as the duty group would see them; --keep-running keeps "
        "the service up afterwards")


def _after_month_end(when: datetime) -> datetime:
    """01:10 on the 1st of the next month (Asia/Shanghai): the monthly export is due."""
    local = when.astimezone(CHINA_TZ)
    first = (local.replace(day=28) + timedelta(days=4)).replace(day=1, hour=1, minute=10,
                                                                 second=0, microsecond=0)
    return first


def _months(scenarios: Scenarios) -> list[str]:
    return sorted({e.published.astimezone(CHINA_TZ).strftime("%Y-%m")
                   for e in scenarios.entries})


async def _wait_exports(folder: Path, months: list[str], service: asyncio.Task) -> list[Path]:
    """The XLSX of every month the scenarios cover (written last, so the month is done)."""
    found: list[Path] = []
    deadline = time.monotonic() + EXPORT_WAIT_SECONDS
    while time.monotonic() < deadline and not service.done():
        found = sorted(folder.glob("*.xlsx")) if folder.exists() else []
        mine = [p for p in found if any(m in p.name for m in months)]
        if len(mine) == len(months):
            return mine
        await asyncio.sleep(0.2)
    return [p for p in found if any(m in p.name for m in months)]


async def _result(redis, keys: Keys, robot: PrintingRobot, exports: list[Path], data: Path,
                  started: float, items: int) -> DemoResult:
    store = EventStore(redis, keys, retention_seconds=400 * 86400)
    everything = datetime.min.replace(tzinfo=CHINA_TZ)
    events = await store.load_many(await store.ids_by_first_seen(everything, datetime.max
                                                                 .replace(tzinfo=CHINA_TZ)))
    events = [e for e in events if not e.merged_into]
    refs = {e.id: await store.item_refs(e) for e in events}
    outcomes = Counter(d.state.value for e in events for d in e.deadlines)
    report = data / "demo-report.json"
    report.write_text(json.dumps({"events": [event_report(e, refs[e.id]) for e in events]},
                                 ensure_ascii=False, indent=2), encoding="utf-8")
    return DemoResult(events, refs, items, await redis.xlen(keys.alerts_out), robot.messages,
                      exports, report, time.perf_counter() - started, outcomes)


async def _until_interrupted(service: asyncio.Task) -> None:
    try:
        await asyncio.shield(service)
    except asyncio.CancelledError:
        pass
