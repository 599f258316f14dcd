"""The two Grafana dashboards, as code: the duty wall (Chinese, few panels, big numbers) and
the operators' pipeline view. `python -m monitor.wall.dashboards` writes dashboards/*.json;
a test checks the committed files are what this module builds.

Panels are laid out row by row (`Row`), so positions are computed and cannot overlap.
Service-state gauges are the same in every process and are aggregated with `max`;
counters happen in one process each and are summed (see monitor/wall/metrics.py).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from monitor.track.policy import default_policy

DATASOURCE = {"type": "prometheus", "uid": "yq-prometheus"}
SCHEMA_VERSION = 39  # what Grafana 11.1 (the pinned image) exports
OUT = Path(__file__).resolve().parents[2] / "dashboards"
RED, ORANGE, YELLOW, GREEN, BLUE = "red", "orange", "yellow", "green", "blue"
WINDOW_NAMES = {"overdue": ("已超时", RED), "1h": ("1小时内到期", ORANGE),
                "6h": ("6小时内到期", YELLOW), "24h": ("24小时内到期", BLUE),
                "later": ("24小时以上", GREEN)}


@dataclass
class Panel:
    title: str
    kind: str  # stat, table, bargauge, timeseries, text
    exprs: list[tuple[str, str]]  # (PromQL, legend)
    width: int
    unit: str | None = None
    steps: list[tuple[float | None, str]] = field(default_factory=lambda: [(None, GREEN)])
    instant: bool = False
    options: dict = field(default_factory=dict)
    mappings: list[dict] = field(default_factory=list)
    overrides: list[dict] = field(default_factory=list)
    minmax: tuple[float, float] | None = None
    transformations: list[dict] = field(default_factory=list)


@dataclass
class Row:
    height: int
    panels: list[Panel]


def build(uid: str, title: str, rows: list[Row], tags: list[str], refresh: str,
          time_from: str) -> dict:
    panels, y, next_id = [], 0, 1
    for row in rows:
        x = 0
        for panel in row.panels:
            panels.append(_panel(panel, next_id, {"x": x, "y": y, "w": panel.width,
                                                  "h": row.height}))
            x += panel.width
            next_id += 1
        y += row.height
    return {"uid": uid, "title": title, "tags": tags, "timezone": "browser", "editable": False,
            "graphTooltip": 1, "time": {"from": time_from, "to": "now"}, "refresh": refresh,
            "schemaVersion": SCHEMA_VERSION, "version": 1, "links": [],
            "templating": {"list": []}, "annotations": {"list": []}, "panels": panels}


def _panel(p: Panel, panel_id: int, grid: dict) -> dict:
    defaults: dict = {"thresholds": {"mode": "absolute", "steps": [
        {"color": color, "value": value} for value, color in p.steps]},
        "color": {"mode": "thresholds"}, "mappings": p.mappings}
    if p.unit:
        defaults["unit"] = p.unit
    if p.minmax:
        defaults["min"], defaults["max"] = p.minmax
    targets = [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr,
                "legendFormat": legend, "instant": p.instant, "range": not p.instant,
                **({"format": "table"} if p.kind == "table" else {})}
               for i, (expr, legend) in enumerate(p.exprs)]
    return {"id": panel_id, "type": p.kind, "title": p.title, "gridPos": grid,
            "datasource": DATASOURCE, "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": p.overrides},
            "options": p.options, "transformations": p.transformations}


BIG = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
       "colorMode": "background", "graphMode": "none", "textMode": "value_and_name",
       "justifyMode": "center", "text": {"valueSize": 96, "titleSize": 28}}


def _rule_names() -> dict[str, str]:
    policy = default_policy()
    names = {r.id: r.label for r in policy.rules}
    names["follow_up"] = policy.follow_up.label
    return names


def _text_mapping(names: dict[str, tuple[str, str] | str]) -> list[dict]:
    options = {}
    for key, name in names.items():
        text, color = name if isinstance(name, tuple) else (name, None)
        options[key] = {"text": text, **({"color": color} if color else {})}
    return [{"type": "value", "options": options}]


def wall() -> dict:
    """What the duty officers read across the room."""
    rules = _rule_names()
    awaiting = "max by (window, rule) (yq_events_awaiting_response)"
    table_overrides = [
        {"matcher": {"id": "byName", "options": "window"},
         "properties": [{"id": "displayName", "value": "剩余时间"},
                        {"id": "mappings", "value": _text_mapping(WINDOW_NAMES)},
                        {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
        {"matcher": {"id": "byName", "options": "rule"},
         "properties": [{"id": "displayName", "value": "回应要求"},
                        {"id": "mappings", "value": _text_mapping(rules)}]},
        {"matcher": {"id": "byName", "options": "Value"},
         "properties": [{"id": "displayName", "value": "事件数"}]}]
    rows = [
        Row(7, [
            Panel("待回应事件", "stat", [(f"sum({awaiting}) or vector(0)", "待回应")], 6,
                  steps=[(None, GREEN), (1, YELLOW)], options=BIG, instant=True),
            Panel("已超时未回应", "stat",
                  [('sum(max by (rule) (yq_events_awaiting_response{window="overdue"})) '
                    "or vector(0)", "已超时")], 6, steps=[(None, GREEN), (1, RED)],
                  options=BIG, instant=True),
            Panel("本月逾期", "stat",
                  [('sum(max by (rule, state) (yq_deadlines{state=~"missed|met_late"})) '
                    "or vector(0)", "逾期")], 6, steps=[(None, GREEN), (1, RED)],
                  options=BIG, instant=True),
            Panel("最紧迫剩余时间", "stat",
                  [("min(yq_deadline_next_due_timestamp_seconds > 0) - time()", "剩余")], 6,
                  unit="s", steps=[(None, RED), (0, ORANGE), (3600, YELLOW), (6 * 3600, GREEN)],
                  options=BIG, instant=True),
        ]),
        Row(9, [
            Panel("待回应事件 · 按剩余时间", "table", [(awaiting, "")], 12, instant=True,
                  overrides=table_overrides,
                  transformations=[{"id": "organize", "options": {
                      "excludeByName": {"Time": True},
                      "indexByName": {"window": 0, "rule": 1, "Value": 2}}}],
                  options={"showHeader": True, "cellHeight": "lg",
                           "footer": {"show": False},
                           "sortBy": [{"displayName": "剩余时间", "desc": False}]},
                  steps=[(None, GREEN)]),
            Panel("本月按时回应率（目标100%）", "bargauge",
                  [("max by (rule) (yq_deadlines_on_time_ratio)", "{{rule}}")], 12,
                  unit="percentunit", minmax=(0, 1), instant=True,
                  steps=[(None, RED), (0.9, YELLOW), (1, GREEN)],
                  mappings=[],
                  overrides=[{"matcher": {"id": "byName", "options": rule},
                              "properties": [{"id": "displayName", "value": name}]}
                             for rule, name in rules.items()],
                  options={"orientation": "horizontal", "displayMode": "basic",
                           "showUnfilled": True, "text": {"titleSize": 22, "valueSize": 30},
                           "reduceOptions": {"calcs": ["lastNotNull"], "values": False}}),
        ]),
        Row(9, [
            Panel("新增事件 · 按主题与等级（每小时）", "timeseries",
                  [("sum by (grade, topic) (increase(yq_events_new_total[1h])) > 0",
                    "{{grade}} {{topic}}")], 14,
                  options={"legend": {"displayMode": "list", "placement": "right"}}),
            Panel("事件地区分布（前5）", "bargauge",
                  [("topk(5, max by (region) (yq_events_open_by_region))", "{{region}}")],
                  10, instant=True, steps=[(None, BLUE)],
                  options={"orientation": "horizontal", "displayMode": "basic",
                           "text": {"titleSize": 22, "valueSize": 30},
                           "reduceOptions": {"calcs": ["lastNotNull"], "values": False}}),
        ]),
        Row(7, [
            Panel("信息源异常（故障 / 沉寂）", "stat",
                  [('sum(max by (state) (yq_sources{state!="ok"})) or vector(0)', "故障"),
                   ("max(yq_sources_silent) or vector(0)", "沉寂")], 6,
                  steps=[(None, GREEN), (1, ORANGE)], options=BIG, instant=True),
            Panel("异常信息源", "stat",
                  [("max by (source) (yq_source_failing) == 1", "{{source}} 故障"),
                   ("max by (source) (yq_source_silent) == 1", "{{source}} 沉寂")], 10,
                  steps=[(None, RED)], instant=True,
                  options={**BIG, "text": {"valueSize": 28, "titleSize": 22},
                           "textMode": "name"}),
            Panel("告警推送", "stat",
                  [('round(sum(increase(yq_notify_messages_total{outcome="delivered"}[1h]))) '
                    "or vector(0)", "1小时送达"),
                   ("max(yq_notify_outbox_pending) or vector(0)", "待发送"),
                   ("max(yq_notify_failed_entries) or vector(0)", "发送失败")], 8,
                  steps=[(None, GREEN)], instant=True,
                  options={**BIG, "text": {"valueSize": 48, "titleSize": 20}},
                  overrides=[{"matcher": {"id": "byFrameRefID", "options": "C"},
                              "properties": [{"id": "thresholds", "value": {
                                  "mode": "absolute", "steps": [{"color": GREEN, "value": None},
                                                                {"color": RED, "value": 1}]}}]}]),
        ]),
    ]
    return build("yq-duty-wall", "舆情回应值班墙", rows, ["yq", "wall"], "30s", "now-24h")


def operator() -> dict:
    """The pipeline for whoever keeps the service running."""
    rate = "sum by ({by}) (rate({metric}[5m]))"

    def p95(metric: str, by: str = "") -> str:
        by = f", {by}" if by else ""
        return f"histogram_quantile(0.95, sum by (le{by}) (rate({metric}_bucket[5m])))"

    def series(title: str, exprs: list[tuple[str, str]], width: int = 8, unit: str | None = None,
               ) -> Panel:
        return Panel(title, "timeseries", exprs, width, unit=unit)

    rows = [
        Row(4, [
            Panel("Targets up", "stat", [("sum(up{job=\"yq-monitor\"})", "up")], 6,
                  steps=[(None, RED), (1, GREEN)], instant=True),
            Panel("Wall refresh errors (1h)", "stat",
                  [("sum(increase(yq_wall_refresh_errors_total[1h]))", "errors")], 6,
                  steps=[(None, GREEN), (1, RED)], instant=True),
            Panel("Embedded Redis restarts (1h)", "stat",
                  [("sum(increase(yq_embedded_redis_restarts_total[1h]))", "restarts")], 6,
                  steps=[(None, GREEN), (1, ORANGE), (3, RED)], instant=True),
            Panel("Calendar known until", "stat", [("max(yq_calendar_known_until_year)",
                                                    "year")], 6, instant=True),
        ]),
        Row(8, [
            series("Polls by outcome", [(rate.format(by="outcome", metric="yq_polls_total"),
                                         "{{outcome}}")], unit="ops"),
            series("Poll errors by reason", [(rate.format(by="reason",
                                                          metric="yq_poll_errors_total"),
                                              "{{reason}}")], unit="ops"),
            series("Fetch time p95", [(p95("yq_fetch_seconds"), "p95"),
                                      ("max(yq_poll_lag_seconds)", "most overdue source")],
                   unit="s"),
        ]),
        Row(8, [
            series("Items new / seen", [("sum(rate(yq_items_new_total[5m]))", "new"),
                                        ("sum(rate(yq_items_seen_total[5m]))", "seen")],
                   unit="ops"),
            series("Items classified by relevance",
                   [(rate.format(by="relevance", metric="yq_items_classified_total"),
                     "{{relevance}}"),
                    (rate.format(by="head", metric="yq_items_low_confidence_total"),
                     "low confidence ({{head}})")], unit="ops"),
            series("Classification batch time p95",
                   [(p95("yq_classification_batch_duration_seconds"), "p95")], unit="s"),
        ]),
        Row(8, [
            series("Stream lag (unread)", [("max by (stream, group) (yq_stream_lag_entries)",
                                            "{{stream}}/{{group}}")]),
            series("Stream pending (unacknowledged)",
                   [("max by (stream, group) (yq_stream_pending_entries)",
                     "{{stream}}/{{group}}")]),
            series("Sources by state", [("max by (state) (yq_sources)", "{{state}}"),
                                        ("max(yq_sources_silent)", "silent")]),
        ]),
        Row(8, [
            series("Robot messages by outcome",
                   [(rate.format(by="platform, outcome", metric="yq_notify_messages_total"),
                     "{{platform}} {{outcome}}")], unit="ops"),
            series("Notify latency p95", [(p95("yq_notify_latency_seconds"), "p95")], unit="s"),
            series("Outbox", [("max(yq_notify_outbox_pending)", "pending"),
                              ("max(yq_notify_failed_entries)", "failed")]),
        ]),
        Row(8, [
            series("Time to response p50 by rule",
                   [("histogram_quantile(0.5, sum by (le, rule) "
                     "(rate(yq_response_duration_seconds_bucket[1d])))", "{{rule}}")], unit="s"),
            series("Process CPU", [("rate(process_cpu_seconds_total{job=\"yq-monitor\"}[5m])",
                                    "{{instance}}")], unit="percentunit"),
            series("Process memory", [("process_resident_memory_bytes{job=\"yq-monitor\"}",
                                       "{{instance}}")], unit="bytes"),
        ]),
    ]
    return build("yq-pipeline", "舆情回应监测 · pipeline", rows, ["yq", "operator"], "1m",
                 "now-6h")


DASHBOARDS = {"wall.json": wall, "operator.json": operator}


def render(build_fn) -> str:
    return json.dumps(build_fn(), ensure_ascii=False, indent=2) + "\n"


def main(out: Path = OUT) -> int:
    for name, build_fn in DASHBOARDS.items():
        (out / name).write_text(render(build_fn), encoding="utf-8")
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
