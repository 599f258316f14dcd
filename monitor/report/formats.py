"""Writing a report: JSON (the records), CSV (one UTF-8-with-BOM file a part, so Excel opens
Chinese correctly) and XLSX (openpyxl: a sheet a part, frozen headers, widths, number and
percent formats, a bar chart of the on-time rate by topic and a line of the monthly rate)."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from monitor.report.build import ALL_RULES
from monitor.report.model import Report
from monitor.report.tabular import Table, annual_table, tables

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_NUMBER_FORMATS = {"n": "0", "pct": "0.0%", "h": "0.00"}
HEADER_ROW = 3  # row 1: the title, row 2: the note (why it is empty), row 3: the header
_TITLE, _BOLD = Font(bold=True, size=13), Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="center")


def report_json(report: Report) -> str:
    return json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2)


def write_json(report: Report, path: Path) -> list[Path]:
    path.write_text(report_json(report) + "\n", encoding="utf-8")
    return [path]


def write_csv(report: Report, stem: Path, annual: bool = False) -> list[Path]:
    """One file a part: <stem>-rules.csv, <stem>-by-topic.csv … (headers even when empty)."""
    written = []
    for table in _parts(report, annual):
        path = stem.with_name(f"{stem.name}-{table.name}.csv")
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(table.header)
            writer.writerows([_csv_cell(v) for v in row] for row in table.rows)
        written.append(path)
    return written


def _csv_cell(value):
    return "" if value is None else value


def write_xlsx(report: Report, path: Path, annual: bool = False) -> list[Path]:
    # Write-only: rows stream to the file as they come (a year lists 50,000 events).
    book = Workbook(write_only=True)
    for table in _parts(report, annual):
        _sheet(book.create_sheet(table.sheet), table, report)
    _charts(book.create_sheet("图表"), report)
    book.properties.creator = "舆情回应监测"
    book.save(path)
    return [path]


def _parts(report: Report, annual: bool) -> list[Table]:
    return ([annual_table(report)] if annual else []) + tables(report)


def _sheet(ws: WriteOnlyWorksheet, table: Table, report: Report) -> None:
    """Title, note, header (frozen), then the rows with each column's format."""
    for column, width in enumerate(table.widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.append([_styled(ws, f"{report.title} — {table.sheet}", font=_TITLE)])
    ws.append([report.note])
    ws.append([_styled(ws, name, font=_BOLD, alignment=_WRAP) for name in table.header])
    formats = [_NUMBER_FORMATS.get(kind) for kind in table.kinds]
    for row in table.rows:
        ws.append([_styled(ws, value, number_format=fmt) if fmt and value is not None
                   else value for value, fmt in zip(row, formats, strict=True)])


def _styled(ws: WriteOnlyWorksheet, value, **style) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _charts(ws: WriteOnlyWorksheet, report: Report) -> None:
    """Two small tables and their charts: the on-time rate by topic, and by month."""
    topics = [line for line in report.breakdowns["topic"] if line.rule == ALL_RULES]
    ws.column_dimensions["A"].width = 14
    ws.freeze_panes = "A2"
    ws.append(["主题", "按时率"])
    for line in topics:
        ws.append([line.group, _percent(ws, line.outcomes.on_time_rate)])
    ws.append([])
    month_row = len(topics) + 3
    ws.append(["月份", "按时率"])
    for month in report.months:
        ws.append([month.month, _percent(ws, month.outcomes.on_time_rate)])
    if topics:
        bar = BarChart()
        bar.type, bar.title = "col", "按主题的按时率"
        bar.y_axis.number_format, bar.y_axis.scaling.min, bar.y_axis.scaling.max = "0%", 0, 1
        bar.add_data(Reference(ws, min_col=2, min_row=1, max_row=len(topics) + 1),
                     titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(topics) + 1))
        ws.add_chart(bar, "D2")
    if report.months:
        line = LineChart()
        line.title = "逐月按时率"
        line.y_axis.number_format, line.y_axis.scaling.min, line.y_axis.scaling.max = "0%", 0, 1
        last = month_row + len(report.months)
        line.add_data(Reference(ws, min_col=2, min_row=month_row, max_row=last),
                      titles_from_data=True)
        line.set_categories(Reference(ws, min_col=1, min_row=month_row + 1, max_row=last))
        ws.add_chart(line, "D20")


def _percent(ws: WriteOnlyWorksheet, rate: float | None):
    return None if rate is None else _styled(ws, rate, number_format="0.0%")
