"""A report as tables (header + rows), the shape CSV and XLSX both write: one table a part."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.report.build import DIMENSIONS
from monitor.report.model import Outcomes, Report, RuleLine

OUTCOME_HEADER = ["截止数", "事件数", "按时回应", "超时回应", "未回应", "免于回应", "尚未到期",
                  "按时率", "用时中位数(小时)", "用时P90(小时)"]
PART_NAMES = ("rules", "by-topic", "by-severity", "by-region", "by-lead-unit", "months", "events",
              "official", "official-events")
MAX_CELL = 32_767
# Column kinds, for the XLSX formats: count, percent, hours, text.
OUTCOME_KINDS = ["n"] * 7 + ["pct", "h", "h"]


@dataclass
class Table:
    name: str  # file and sheet name part (ASCII, for file names)
    sheet: str  # sheet title
    header: list[str]
    kinds: list[str]  # per column: n, pct, h, text
    rows: list[list]
    widths: list[int]


def outcome_cells(o: Outcomes) -> list:
    return [o.deadlines, o.events, o.met, o.met_late, o.missed, o.waived, o.open,
            o.on_time_rate, o.median_hours, o.p90_hours]


def tables(report: Report) -> list[Table]:
    parts = [_rules_table("rules", "按规则", report.rules, grouped=False)]
    for dimension, title in DIMENSIONS.items():
        parts.append(_rules_table(f"by-{dimension.replace('_', '-')}", title,
                                  report.breakdowns[dimension], grouped=True))
    parts += [_months_table(report), _events_table(report), _official_table(report),
              _official_events_table(report)]
    return parts


def _rules_table(name: str, sheet: str, lines: list[RuleLine], grouped: bool) -> Table:
    lead = ["分组"] if grouped else []
    rows = [[*([line.group] if grouped else []), line.rule, line.label,
             *outcome_cells(line.outcomes)] for line in lines]
    return Table(name, sheet, [*lead, "规则", "规则名称", *OUTCOME_HEADER],
                 [*(["text"] if grouped else []), "text", "text", *OUTCOME_KINDS], rows,
                 [*([16] if grouped else []), 26, 26, *([10] * 7), 10, 16, 14])


def _months_table(report: Report) -> Table:
    rules = sorted({rule for m in report.months for rule in m.by_rule})
    rows = [[m.month, *outcome_cells(m.outcomes), *(m.by_rule.get(r) for r in rules)]
            for m in report.months]
    return Table("months", "逐月", ["月份", *OUTCOME_HEADER, *(f"按时率 {r}" for r in rules)],
                 ["text", *OUTCOME_KINDS, *(["pct"] * len(rules))], rows,
                 [10, *([10] * 7), 10, 16, 14, *([24] * len(rules))])


def _events_table(report: Report) -> Table:
    header = ["事件", "首次发现", "标题", "主题", "等级", "地区", "牵头单位", "状态", "各时限结果",
              "回应数", "首次回应", "回应渠道", "链接"]
    rows = [[e.id, e.first_seen, e.title, e.topic, e.severity, e.region, e.lead_unit, e.status,
             e.outcomes, e.responses, e.first_response, e.channels, e.link]
            for e in report.events]
    kinds = ["text"] * 9 + ["n"] + ["text"] * 3
    return Table("events", "事件清单", header, kinds, rows,
                 [22, 17, 48, 10, 8, 10, 18, 12, 60, 8, 17, 16, 50])


def _official_table(report: Report) -> Table:
    rows = [[line.label, line.unit, line.count, ids_cell(line.event_ids)]
            for line in report.official]
    return Table("official", "回应解读", ["统计指标", "单位", "统计数", "来自事件"],
                 ["text", "text", "n", "text"], rows, [56, 6, 10, 80])


def _official_events_table(report: Report) -> Table:
    """Each figure of the official table with its events, one a row (however many)."""
    rows = [[line.label, event_id] for line in report.official for event_id in line.event_ids]
    return Table("official-events", "回应解读明细", ["统计指标", "事件"], ["text", "text"], rows,
                 [56, 22])


def ids_cell(ids: list[str]) -> str:
    """The event ids in one cell, within what a spreadsheet cell holds (32,767 characters);
    beyond it, as many as fit and where to find the rest."""
    text = " ".join(ids)
    if len(text) <= MAX_CELL:
        return text
    kept = text[:MAX_CELL - 40].rsplit(" ", 1)[0]
    return f"{kept} … 共{len(ids)}个，全部见「回应解读明细」"


def annual_table(report: Report) -> Table:
    """The statistics table in the layout of the 2018 annual report: its 回应解读 section."""
    rows = [["二、回应解读情况", "", None, ""]]
    rows += [[line.label, line.unit, line.count, ids_cell(line.event_ids)]
             for line in report.official]
    rows.insert(2, ["(二) 通过不同渠道和方式回应解读的情况", "", None, ""])
    return Table("statistics", "统计表", ["统计指标", "单位", "统计数", "来自事件"],
                 ["text", "text", "n", "text"], rows, [56, 6, 10, 80])
