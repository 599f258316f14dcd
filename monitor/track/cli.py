"""`monitor recompute-deadlines`: provisional due times recomputed by the calendar as now
entered (tracking.yaml `calendar:` or a newer chinesecalendar)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from monitor.clock import SystemClock
from monitor.config import load_settings
from monitor.logs import configure
from monitor.store.events import EventStore
from monitor.store.keys import Keys
from monitor.track.policy import load_policy
from monitor.track.recompute import recompute_provisional
from monitor.track.workdays import WorkCalendar


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("recompute-deadlines",
                         help="recompute provisional working-day due times once a year's "
                              "calendar is entered in tracking.yaml")
    cmd.add_argument("--tracking", type=Path, help="tracking policy file (default: "
                     "$MONITOR_TRACKING, else tracking.yaml)")
    cmd.set_defaults(func=cmd_recompute_deadlines)


def cmd_recompute_deadlines(args: argparse.Namespace) -> int:
    from monitor.app import open_redis

    settings = load_settings()
    configure(settings.log_format, settings.log_level)
    policy = load_policy(args.tracking or settings.tracking_file)

    async def run():
        async with open_redis(settings) as redis:
            store = EventStore(redis, Keys(settings.key_prefix), settings.retention)
            return await recompute_provisional(store, policy, SystemClock().now())

    result = asyncio.run(run())
    print(f"calendar known until {WorkCalendar(policy.calendar).known_until_year()}; "
          f"{result.events_checked} open events had provisional due times; "
          f"{result.due_times_changed} due times changed; "
          f"{result.still_provisional} deadlines still provisional")
    return 0
