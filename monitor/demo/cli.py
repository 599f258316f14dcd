"""`monitor demo [--keep-running]`."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from monitor.logs import configure


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the whole service on the shipped scenarios, offline, "
                                       "in about a minute")
    demo.add_argument("--keep-running", action="store_true",
                      help="keep the service, the duty page and the robot up afterwards")
    demo.add_argument("--port", type=int, default=0, help="the web app's port (default: free)")
    demo.add_argument("--data-dir", type=Path, default=Path("var/demo"),
                      help="where the demo keeps its Redis, history and exports "
                           "(emptied first; default var/demo)")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo.run import DemoOptions, run_demo

    configure("console", "warning")
    options = DemoOptions(args.data_dir, args.port, args.keep_running)

    async def main() -> None:
        task = asyncio.create_task(run_demo(options))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            print("stopped")

    asyncio.run(main())
    return 0
