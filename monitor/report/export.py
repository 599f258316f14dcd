"""An export of a month or a year: the report built once, written in the asked format, with
the month's picture beside it. File names say the period, so a second export of the same
month replaces the first with the same content."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from monitor.report.build import build_report
from monitor.report.formats import write_csv, write_json, write_xlsx
from monitor.report.model import Report
from monitor.report.period import Period
from monitor.report.picture import write_png


def export_stem(period: Period) -> str:
    return f"annual-{period.name}" if period.month is None else f"monthly-{period.name}"


def export(engine: Engine, period: Period, fmt: str, out_dir: Path,
           picture: bool = True) -> tuple[Report, list[Path]]:
    report = build_report(engine, period)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / export_stem(period)
    annual = period.month is None
    if fmt == "xlsx":
        written = write_xlsx(report, stem.with_suffix(".xlsx"), annual=annual)
    elif fmt == "csv":
        written = write_csv(report, stem, annual=annual)
    elif fmt == "json":
        written = write_json(report, stem.with_suffix(".json"))
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if picture:
        written += write_png(report, stem.with_suffix(".png"))
    return report, written
