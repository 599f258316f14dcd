"""The `monitor` command: parse arguments, load config, hand over to the app."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import structlog

from monitor.clock import Clock, SystemClock
from monitor.collect.fetcher import Fetcher
from monitor.collect.health import SourceHealth, source_health
from monitor.collect.normalize import CHINA_TZ, printable, to_item
from monitor.collect.parse import parse
from monitor.collect.poller import garbled
from monitor.config import (
    FeedsFile,
    Settings,
    Source,
    load_feeds,
    load_settings,
    resolve_routes,
)
from monitor.demo.cli import register as register_demo
from monitor.errors import ConfigError, FetchError, MonitorError
from monitor.logs import configure
from monitor.models import FetchJob, Item
from monitor.notify.audit import check_notify_config
from monitor.notify.cli import register as register_notify
from monitor.officers_cli import register as register_officers
from monitor.report.cli import register as register_report
from monitor.store.items import ItemStore
from monitor.store.keys import Keys, delete_prefix
from monitor.store.sources import SourceState, SourceStore
from monitor.track.cli import register as register_track
from monitor.track.policy import load_policy
from monitor.wall.cli import register as register_wall

log = structlog.get_logger("monitor.cli")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ConfigError as exc:
        if len(exc.problems) == 1:  # one line, so a wrapper script's log shows the cause
            print(f"error: {exc.problems[0]}", file=sys.stderr)
        else:
            print("configuration problems:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
        return 2
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description="舆情回应监测")
    feeds = argparse.ArgumentParser(add_help=False)
    feeds.add_argument("--feeds", type=Path,
                       help="feeds file (default: $MONITOR_FEEDS, else feeds.yaml)")
    sub = parser.add_subparsers(title="commands")
    sub.add_parser("run", parents=[feeds], help="run the service").set_defaults(func=cmd_run)
    sub.add_parser("check-config", parents=[feeds],
                   help="validate feeds.yaml and the environment").set_defaults(
        func=cmd_check_config)
    poll = sub.add_parser("poll", parents=[feeds],
                          help="poll one source once and print what it would emit")
    poll.add_argument("source_id")
    poll.set_defaults(func=cmd_poll)
    sub.add_parser("sources", parents=[feeds],
                   help="table of sources and their polling state").set_defaults(
        func=cmd_sources)
    replay = sub.add_parser("replay", parents=[feeds],
                            help="run recorded items through the pipeline under a simulated "
                                 "clock")
    replay.add_argument("file", type=Path, help="JSON lines, one item each")
    replay.add_argument("--speed", type=float, default=0.0,
                        help="simulated seconds per real second (default: as fast as possible)")
    replay.add_argument("--report", type=Path, help="write every event and outcome as JSON")
    replay.add_argument("--tail", default="72h",
                        help="how long to run the clock after the last item (default 72h)")
    replay.add_argument("--tracking", type=Path, help="tracking policy file (default: "
                        "$MONITOR_TRACKING, else tracking.yaml, else built-in defaults)")
    replay.add_argument("--keep", action="store_true",
                        help="keep the replay's Redis keys (printed) for inspection")
    replay.set_defaults(func=cmd_replay)
    _register_classifiers(sub)
    register_notify(sub)
    register_track(sub)
    register_officers(sub)
    register_wall(sub)
    register_report(sub)
    register_demo(sub)
    return parser


def _register_classifiers(sub: argparse._SubParsersAction) -> None:
    try:
        from classifiers.cli import register
    except ImportError:  # the classifiers package has not landed yet
        return
    register(sub)


def _load(args: argparse.Namespace) -> tuple[Settings, FeedsFile]:
    settings = load_settings()
    configure(settings.log_format, settings.log_level)
    feeds, unresolved = resolve_routes(load_feeds(args.feeds or settings.feeds_file),
                                       settings.rsshub_bases)
    if unresolved:
        log.warning("rsshub_url_unset", sources_not_polled=unresolved,
                    hint=_needs_rsshub(unresolved))
    return settings, feeds


def _feed_warnings(feeds: FeedsFile, settings: Settings) -> list[str]:
    warnings = []
    _, unresolved = resolve_routes(feeds, settings.rsshub_bases)
    if unresolved:
        warnings.append(_needs_rsshub(unresolved))
    placeholders = [s.id for s in feeds.sources if PLACEHOLDER in (s.rsshub or s.url or "")]
    if placeholders:
        warnings.append(f"{len(placeholders)} source(s) hold a placeholder account id "
                        f"({PLACEHOLDER}…) that must be replaced by the real one, or they will "
                        f"fail: {', '.join(placeholders)}")
    return warnings


PLACEHOLDER = "VERIFY-ID"  # feeds.yaml's mark for an account id not yet looked up


def _needs_rsshub(ids: list[str]) -> str:
    return (f"{len(ids)} source(s) are RSSHub routes and RSSHUB_URL is not set, so they are "
            f"not polled: {', '.join(ids)}; set RSSHUB_URL to your RSSHub instance(s), "
            "e.g. http://rsshub:1200 (see README, 'Weibo, WeChat and message boards')")


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.app import run_service

    settings, feeds = _load(args)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_service(settings, feeds, stop)

    asyncio.run(run())
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    problems: list[str] = []
    settings = _checked(problems, load_settings)
    path = args.feeds or (settings.feeds_file if settings else Path("feeds.yaml"))
    feeds = _checked(problems, load_feeds, path)
    tracking = settings.tracking_file if settings else None
    policy = _checked(problems, load_policy, tracking)
    notify, warnings = _checked(problems, check_notify_config) or (None, [])
    problems = list(dict.fromkeys(problems))  # MONITOR_PUBLIC_URL is read in two places
    if problems:
        print(f"{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
    if feeds and settings:
        warnings = [*warnings, *_feed_warnings(feeds, settings)]
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if problems:
        return 1
    kinds = Counter(s.kind.value for s in feeds.sources)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"{path}: OK, {len(feeds.sources)} sources ({summary}); "
          f"{sum(s.official for s in feeds.sources)} official")
    print(f"{tracking if tracking and tracking.exists() else 'tracking (built-in defaults)'}: "
          f"OK, {len(policy.enabled_rules)} deadline rules")
    robots = notify.targets.values()
    missing = sorted(t.robot.id for t in robots if not t.configured)
    print(f"notify: OK, {len(robots)} robots, {len(robots) - len(missing)} configured"
          + (f" (not yet: {', '.join(missing)})" if missing else ""))
    if warning := loopback_links_warning(settings, len(robots) - len(missing)):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def loopback_links_warning(settings: Settings, configured_robots: int) -> str | None:
    """Alerts go to phones: a link to 127.0.0.1 opens nothing there."""
    from urllib.parse import urlsplit

    from monitor.urlcheck import is_loopback

    host = urlsplit(settings.public_url).hostname or ""
    if configured_robots and is_loopback(host):
        return (f"alert links point at {settings.public_url}, which only this machine "
                "reaches; set MONITOR_PUBLIC_URL to the address officers open (e.g. "
                "https://yq.example.gov.cn)")
    return None


def _checked(problems: list[str], load, *args):
    """`load(*args)`, or None with its problems added: check-config reports every file."""
    try:
        return load(*args)
    except ConfigError as exc:
        problems += exc.problems
        return None


def cmd_poll(args: argparse.Namespace) -> int:
    settings, feeds = _load(args)
    source = feeds.by_id(args.source_id)
    return asyncio.run(_poll_once(settings, source))


async def _poll_once(settings: Settings, source: Source) -> int:
    clock = SystemClock()
    now = clock.now()
    async with Fetcher(settings, clock.now) as fetcher:
        try:
            result = await fetcher.fetch(FetchJob(source.id, source.url,
                                                  allow_private=source.allow_private))
            entries, decoded = parse(result, source)
        except FetchError as exc:
            print(f"{source.id}: poll failed ({exc.reason.value}): {printable(str(exc))}",
                  file=sys.stderr)
            return 1
    items = [to_item(e, source, result.url, now) for e in entries]
    new_ids, note = await _unseen_ids(settings, items)
    repaired = f", {decoded.replaced} bad bytes replaced" if decoded.replaced else ""
    print(f"{source.id} {source.name}: HTTP {result.status}, {len(result.body)} bytes, "
          f"encoding {decoded.encoding} ({decoded.method}{repaired}), {len(items)} entries, "
          f"{len(new_ids)} new{note}")
    if suspect := garbled(decoded, items):
        print(f"decode_suspect: {suspect}")
    if any(item.published_is_fetch_time for item in items):
        print("* no usable time in the source: the fetch time is shown")
    for item in items:
        mark = "NEW " if item.id in new_ids else "seen"
        when = _local(item.published) + ("*" if item.published_is_fetch_time else " ")
        print(f"{mark}  {when} {printable(item.title)}\n      {printable(item.link or '-')}  "
              f"[{item.id}]")
    return 0


async def _unseen_ids(settings: Settings, items: list[Item]) -> tuple[set[str], str]:
    from monitor.app import open_redis

    try:
        async with open_redis(settings) as redis:
            store = ItemStore(redis, Keys(settings.key_prefix), settings.retention)
            return {i.id for i in await store.unseen(items)}, ""
    except MonitorError as exc:
        return {i.id for i in items}, f" (cannot check what was seen: {exc})"


def cmd_sources(args: argparse.Namespace) -> int:
    settings, feeds = _load(args)
    return asyncio.run(_print_sources(settings, feeds))


async def _print_sources(settings: Settings, feeds: FeedsFile,
                         clock: Clock | None = None) -> int:
    from monitor.app import open_redis

    async with open_redis(settings) as redis:
        store = SourceStore(redis, Keys(settings.key_prefix))
        ids = [s.id for s in feeds.sources]
        states = await store.load_many(ids)
        holders = await store.lease_holders(ids)
    rows = [("SOURCE", "STATE", "LAST SUCCESS", "NEXT POLL", "ITEMS", "LAST ERROR")]
    now = (clock or SystemClock()).now().timestamp()
    print("times are Beijing time (UTC+8)")
    for source in feeds.sources:
        rows.append(_source_row(source, states[source.id], holders[source.id], now))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def _source_row(source: Source, state: SourceState, holder: str | None,
                now: float) -> tuple[str, ...]:
    health = source_health(state, source.interval, now)
    if holder:
        status = "polling"
    elif not state.last_poll:
        status = "never polled"
    elif health in (SourceHealth.FAILING, SourceHealth.SILENT) and state.failures:
        status = f"{health.value} x{state.failures}"
    else:
        status = health.value  # ok, silent, quiet (nothing new for a week), decode_suspect
    return (source.id, status, _local_ts(state.last_success), _local_ts(state.next_poll),
            str(state.items_total), printable(state.last_error) or "-")


def cmd_replay(args: argparse.Namespace) -> int:
    from monitor.track.replay import read_items

    settings = load_settings()
    configure(settings.log_format, "warning")
    _check_replay_paths(args.file, args.report)
    items = read_items(args.file)
    if not items:
        print(f"{args.file}: no items", file=sys.stderr)
        return 1
    policy = load_policy(args.tracking or settings.tracking_file)
    return asyncio.run(_replay(settings, policy, items, args))


def _check_replay_paths(source: Path, report: Path | None) -> None:
    """Before the replay runs, so a typo does not cost a whole run: the input can be read,
    and the report can be written (opened for appending, so nothing is overwritten yet)."""
    try:
        source.open("rb").close()
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read the input file: {exc.strerror}"]) from exc
    if report is None:
        return
    existed = report.exists()
    try:
        report.open("a").close()
    except OSError as exc:
        raise ConfigError([f"{report}: cannot write the report: {exc.strerror}"]) from exc
    if not existed:
        report.unlink()


async def _replay(settings: Settings, policy, items: list[Item], args: argparse.Namespace) -> int:
    import uuid
    from datetime import timedelta

    from monitor.app import open_redis
    from monitor.config import parse_duration
    from monitor.track.replay import replay, summary_lines, write_report

    keys = Keys(f"{settings.key_prefix}replay:{uuid.uuid4().hex[:8]}:")
    async with open_redis(settings) as redis:
        try:
            result = await replay(redis, keys, policy, items,
                                  tail=timedelta(seconds=parse_duration(args.tail)),
                                  speed=args.speed)
        finally:
            if not args.keep:
                await delete_prefix(redis, keys.prefix)
    for line in summary_lines(result):
        print(line)
    if args.report:
        write_report(result, args.report)
        print(f"report: {args.report}")
    if args.keep:
        print(f"kept Redis keys under {keys.prefix}")
    return 0


def _local_ts(ts: float) -> str:
    return _local(datetime.fromtimestamp(ts, CHINA_TZ)) if ts else "-"


def _local(when: datetime) -> str:
    return when.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
