"""`monitor export --month 2026-11 | --year 2026 [--format xlsx|csv|json] [--out DIR]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.config import load_settings
from monitor.logs import configure
from monitor.report.model import FORMATS
from monitor.report.period import parse_month, parse_year


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("export", help="the monthly or annual response report from the "
                                        "SQL history")
    which = cmd.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", help="YYYY-MM (Asia/Shanghai), e.g. 2026-11")
    which.add_argument("--year", help="YYYY: the annual table in the 2018 report's layout")
    cmd.add_argument("--format", choices=FORMATS, default="xlsx", help="default xlsx")
    cmd.add_argument("--out", type=Path,
                     help="directory to write to (default: <MONITOR_DATA_DIR>/exports)")
    cmd.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    period = parse_month(args.month) if args.month is not None else parse_year(args.year)
    settings = load_settings()
    configure(settings.log_format, settings.log_level)
    # Here, not at the top: SQLAlchemy, Alembic and openpyxl load only for this command.
    from monitor.history.db import database_url, open_history
    from monitor.report.export import export

    engine = open_history(database_url(settings.database_url, settings.data_dir))
    try:
        report, written = export(engine, period, args.format,
                                 args.out or settings.data_dir / "exports")
    finally:
        engine.dispose()
    if report.note:
        print(f"note: {report.note}; the files are written with their headers only")
    for path in written:
        print(path)
    return 0
