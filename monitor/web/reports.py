"""`GET /api/reports/monthly?month=2026-11[&format=json|xlsx|csv|png][&part=rules]`: the
monthly report from the SQL history, as JSON (default), a workbook, one CSV part or the
picture. The duty page's download button points here."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import Engine

from monitor.report.build import build_report
from monitor.report.export import export_stem
from monitor.report.formats import write_csv, write_xlsx
from monitor.report.model import Report
from monitor.report.period import PeriodError, parse_month
from monitor.report.picture import write_png
from monitor.report.tabular import PART_NAMES
from monitor.track.workdays import CHINA_TZ

HISTORY_KEY: web.AppKey[Engine] = web.AppKey("history", Engine)
FORMATS = ("json", "xlsx", "csv", "png")
_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "csv": "text/csv; charset=utf-8", "png": "image/png"}


@dataclasses.dataclass(frozen=True)
class MonthLinks:
    downloads: list[tuple[str, str]]  # (label, address) of the workbook downloads
    picture: str  # the month's PNG


def month_links(now: datetime) -> MonthLinks:
    """This month's and last month's workbooks, and this month's picture, as the duty page
    links them (months in Beijing time, as the report counts them)."""
    this = now.astimezone(CHINA_TZ).date().replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    base = "/api/reports/monthly?month="
    return MonthLinks(
        downloads=[(f"下载本月报表（{this:%Y年%m月}，XLSX）", f"{base}{this:%Y-%m}&format=xlsx"),
                   (f"下载上月报表（{last:%Y年%m月}，XLSX）", f"{base}{last:%Y-%m}&format=xlsx")],
        picture=f"{base}{this:%Y-%m}&format=png")


def add_report_routes(app: web.Application, history: Engine) -> None:
    app[HISTORY_KEY] = history
    app.router.add_get("/api/reports/monthly", monthly_report)


async def monthly_report(request: web.Request) -> web.Response:
    try:
        period = parse_month(request.query.get("month", ""))
    except PeriodError as exc:
        return _bad("month", str(exc))
    fmt = request.query.get("format", "json")
    if fmt not in FORMATS:
        return _bad("format", f"format must be one of {', '.join(FORMATS)}, not {fmt[:20]!r}")
    part = request.query.get("part", "rules")
    if fmt == "csv" and part not in PART_NAMES:
        return _bad("part", f"part must be one of {', '.join(PART_NAMES)}, not {part[:20]!r}")
    report = await asyncio.to_thread(build_report, request.app[HISTORY_KEY], period)
    if fmt == "json":
        return web.json_response(dataclasses.asdict(report),
                                 dumps=lambda d: json.dumps(d, ensure_ascii=False))
    body, name = await asyncio.to_thread(_render, report, fmt, part, export_stem(period))
    return web.Response(body=body, headers={
        "Content-Type": _TYPES[fmt], "Content-Disposition": f'attachment; filename="{name}"'})


def _render(report: Report, fmt: str, part: str, stem: str) -> tuple[bytes, str]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / stem
        if fmt == "xlsx":
            path = write_xlsx(report, base.with_suffix(".xlsx"))[0]
        elif fmt == "png":
            path = write_png(report, base.with_suffix(".png"))[0]
        else:
            path = next(p for p in write_csv(report, base) if p.stem.endswith(f"-{part}"))
        return path.read_bytes(), path.name


def _bad(parameter: str, message: str) -> web.Response:
    body = {"status": 400, "error": HTTPStatus(400).phrase, "message": message,
            "parameter": parameter}
    return web.json_response(body, status=400, dumps=lambda d: json.dumps(d, ensure_ascii=False))
