"""`monitor notify test ROUTE` and `monitor outbox`.

    monitor notify test office        send a test message to robot `office` and print its answer
    monitor notify test environment   (a route name) every robot of that route
    monitor outbox [--limit N] [--json]   pending, failed and recent deliveries, robot health
    monitor outbox --retry-failed [ROBOT] send refused alerts again once the robot is fixed
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path

from monitor.clock import SystemClock
from monitor.config import load_settings
from monitor.errors import ConfigError
from monitor.logs import configure
from monitor.notify.config import NotifyConfig, Route, load_notify_config
from monitor.notify.outbox import Record
from monitor.notify.render import CHINA
from monitor.notify.statusview import typed_status


def register(sub: argparse._SubParsersAction) -> None:
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--notify", type=Path,
                        help="notify config (default: $MONITOR_NOTIFY, else notify.yaml)")
    notify = sub.add_parser("notify", help="chat-robot notifications")
    notify_sub = notify.add_subparsers(title="notify commands")
    test = notify_sub.add_parser("test", parents=[config],
                                 help="send a test message to a robot (or every robot of a "
                                      "route) and print the platform's answer")
    test.add_argument("route", metavar="ROUTE", help="a robot id or a route name")
    test.set_defaults(func=cmd_notify_test)
    outbox = sub.add_parser("outbox", parents=[config],
                            help="pending, failed and recent chat-robot deliveries")
    outbox.add_argument("--limit", type=int, default=20, help="rows per section (default 20)")
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.add_argument("--retry-failed", nargs="?", const="*", metavar="ROBOT",
                        help="send refused alerts again (all, or one robot's) once the robot "
                             "is fixed")
    outbox.set_defaults(func=cmd_outbox)


def robots_for(config: NotifyConfig, name: str) -> list[str]:
    """The receivers of the route with that name ("default": the top route), else the robot
    with that id. A route wins over a robot of the same name: the test is of the route."""
    found: list[Route] = []

    def walk(node: Route) -> None:
        if node.name == name or (name == "default" and node is config.route):
            found.append(node)
        for child in node.routes:
            walk(child)

    walk(config.route)
    if found and found[0].receivers:
        return list(found[0].receivers)
    if any(r.id == name for r in config.robots):
        return [name]
    robots = ", ".join(r.id for r in config.robots) or "none"
    raise ConfigError([f"no robot or route named {name!r} (robots: {robots})"
                       + (f"; route {name!r} has no receivers" if found else "")])


def _setup(args: argparse.Namespace):
    settings = load_settings()
    configure(settings.log_format, settings.log_level)
    return settings, load_notify_config(args.notify)


def cmd_notify_test(args: argparse.Namespace) -> int:
    settings, config = _setup(args)
    robots = robots_for(config, args.route)
    if robots != [args.route]:
        print(f"route {args.route}: robots {', '.join(robots)}")
    return asyncio.run(_send_tests(settings, config, robots))


async def _send_tests(settings, config: NotifyConfig, robots: list[str]) -> int:
    import aiohttp

    from monitor.notify.notifier import send_test

    failures = 0
    records = []
    async with aiohttp.ClientSession() as session:
        for robot_id in robots:
            target = config.targets[robot_id]
            now = SystemClock().now()
            answer = await send_test(config, robot_id, now, session)
            failures += not answer.delivered
            print(f"{robot_id} ({target.robot.platform}, {target.robot.name}): "
                  f"{answer.outcome} ({answer.reason}) {answer.detail}")
            if answer.status:
                print(f"  HTTP {answer.status}: {answer.body.strip()[:500]}")
            records.append(Record(f"test:{robot_id}:{int(now.timestamp())}", robot_id,
                                  str(target.robot.platform), ["test"], str(answer.outcome),
                                  str(answer.reason), now.timestamp(), answer.detail,
                                  answer.status, "测试消息 (monitor notify test)"))
    await _log_tests(settings, records)
    return 1 if failures else 0


async def _log_tests(settings, records: list) -> None:
    """The answers in the delivery log, so `monitor outbox` shows the test beside the
    alerts; a test still counts when Redis cannot be reached (it says so)."""
    from monitor.app import open_redis
    from monitor.errors import MonitorError
    from monitor.notify.outbox import Outbox
    from monitor.store.keys import Keys

    try:
        async with open_redis(settings) as redis:
            outbox = Outbox(redis, Keys(settings.key_prefix))
            for record in records:
                await outbox.log(record)
    except (MonitorError, OSError) as exc:
        print(f"(not written to the delivery log shown by `monitor outbox`: {exc})")


def cmd_outbox(args: argparse.Namespace) -> int:
    settings, config = _setup(args)
    return asyncio.run(_print_outbox(settings, config, args.limit, args.json,
                                     args.retry_failed))


async def _print_outbox(settings, config: NotifyConfig, limit: int, as_json: bool,
                        retry: str | None = None) -> int:
    from monitor.app import open_redis
    from monitor.notify.notifier import Notifier
    from monitor.store.keys import Keys

    async with open_redis(settings) as redis:
        notifier = Notifier(redis, Keys(settings.key_prefix), config, SystemClock())
        if retry:
            requeued = await notifier.retry_failed(None if retry == "*" else retry)
            print(f"requeued {len(requeued)} refused alert(s)"
                  + (": " + ", ".join(requeued[:10]) if requeued else ""))
        status = await notifier.status(limit)
        await notifier.aclose()
    if as_json:
        print(json.dumps(typed_status(status, CHINA), ensure_ascii=False, indent=2))
        return 0
    print("times are Beijing time (UTC+8)")
    print(f"PENDING ({status['pending_total']})")
    _table([("ENTRY", "DUE", "ATTEMPTS", "LAST ERROR")] + [
        (p["entry"], _local(p["due"]), p.get("attempts", "0"), p.get("last_error", "-"))
        for p in status["pending"]])
    print(f"\nFAILED ({len(status['failed'])})")
    _table([("ENTRY", "AT", "REASON", "DETAIL")] + [
        (f["entry"], _local(f["at"]), f["reason"], f["detail"]) for f in status["failed"]])
    print("\nRECENT")
    _table([("AT", "ROBOT", "OUTCOME", "REASON", "ALERTS", "TITLE")] + [
        (_local(r["at"]), r["robot"], r["outcome"], r["reason"], str(len(r["keys"])),
         r.get("title") or ", ".join(r["keys"][:3])) for r in status["recent"]])
    print("\nROBOTS")
    _table([("ROBOT", "CONFIGURED", "LAST OK", "LAST ERROR")] + [
        (rid, h.get("configured", "?"), _local(float(h.get("last_ok", 0) or 0)),
         h.get("last_error", "-")) for rid, h in status["robots"].items()])
    if status["silences"]:
        print("\nSILENCES")
        _table([("ID", "UNTIL", "MATCH", "REASON")] + [
            (s["id"], s["until"], " ".join(f"{k}={s[k]}" for k in ("event_id", "topic", "route")
                                           if s.get(k)), s["reason"])
            for s in status["silences"]])
    return 0


def _local(ts: float) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, CHINA).strftime("%m-%d %H:%M:%S")


def _table(rows: list[tuple[str, ...]]) -> None:
    if len(rows) == 1:
        print("  (none)")
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False))
              + "  " + str(row[-1]))
