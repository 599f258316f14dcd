"""`monitor wall`: write the dashboards, or draw the wall from Prometheus as a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("wall", help="draw the duty wall's panels from Prometheus as a PNG "
                                      "(a preview without Grafana)")
    cmd.add_argument("--png", type=Path, required=True, help="where to write the picture")
    cmd.add_argument("--prometheus", default="http://127.0.0.1:9090",
                     help="Prometheus base URL (default http://127.0.0.1:9090)")
    cmd.add_argument("--span", type=float, default=3600.0,
                     help="seconds of history for the time series (default 3600)")
    cmd.set_defaults(func=cmd_wall)


def cmd_wall(args: argparse.Namespace) -> int:
    from monitor.wall.picture import wall_png

    out = wall_png(args.prometheus, args.png, span=args.span)
    print(f"wrote {out}")
    return 0
