"""`monitor wall --png OUT.png`: the wall's panels re-plotted from Prometheus `query_range`
data with matplotlib, on the dashboard's own 24-column grid — a preview of what the wall
shows, for a reviewer without Grafana (Grafana itself renders only single panels, and only
with its image-renderer plugin)."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import MonitorError

PX_PER_COLUMN, PX_PER_ROW, DPI = 80, 30, 100
COLORS = {"red": "#d44a3a", "orange": "#ff9830", "yellow": "#e0b400", "green": "#299c46",
          "blue": "#3274d9"}


@dataclass
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]  # (unix seconds, value)

    @property
    def last(self) -> float:
        return self.points[-1][1]


class Prometheus:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        params = urllib.parse.urlencode({"query": expr, "start": start, "end": end,
                                         "step": step})
        body = self._get(f"/api/v1/query_range?{params}")
        return [Series(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
                for r in body["data"]["result"]]

    def _get(self, path: str) -> dict:
        try:
            with urllib.request.urlopen(self.url + path, timeout=self.timeout) as response:
                return json.load(response)
        except OSError as exc:  # URLError, HTTPError (a bad query answers 400), timeouts
            raise MonitorError(f"cannot query Prometheus at {self.url}: {exc}") from exc


def panel_data(prometheus: Prometheus, dashboard: dict, end: float, span: float,
               ) -> dict[int, list[list[Series]]]:
    """Each panel's targets, queried over the last `span` seconds."""
    step = max(1.0, span / 120)
    return {p["id"]: [prometheus.query_range(t["expr"], end - span, end, step)
                      for t in p.get("targets", [])] for p in dashboard["panels"]}


def render(dashboard: dict, data: dict[int, list[list[Series]]], out: Path,
           when: datetime | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _chinese_font(matplotlib)
    columns = 24
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"]) + 2
    fig = plt.figure(figsize=(columns * PX_PER_COLUMN / DPI, rows * PX_PER_ROW / DPI),
                     facecolor="#111217")
    stamp = (when or datetime.now(UTC)).astimezone().strftime("%Y-%m-%d %H:%M")
    title = f"{dashboard['title']}  ·  {stamp}  ·  预览（Prometheus 数据重绘）"
    fig.text(0.01, 1 - 0.8 / rows, title, color="white", fontsize=16, va="center")
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        box = (g["x"] / columns, 1 - (g["y"] + 2 + g["h"]) / rows, g["w"] / columns, g["h"] / rows)
        ax = fig.add_axes(_inset(box))
        ax.set_facecolor("#181b1f")
        ax.set_title(panel["title"], color="white", fontsize=14, loc="left")
        DRAW.get(panel["type"], _draw_timeseries)(ax, panel, data.get(panel["id"], []))
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # a missing font is said once (cjk_font), not per glyph
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(out, dpi=DPI * 0.6, facecolor=fig.get_facecolor())
    plt.close(fig)
    return out


def _inset(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return x + 0.004, y + 0.01, w - 0.008, h - 0.06


def _chinese_font(matplotlib) -> None:
    from monitor.report.picture import cjk_font

    found = cjk_font()
    matplotlib.rcParams["font.sans-serif"] = [*([found] if found else []), "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _defaults(panel: dict) -> dict:
    return panel.get("fieldConfig", {}).get("defaults", {})


def _color(panel: dict, value: float, steps: list | None = None) -> str:
    steps = steps or _defaults(panel).get("thresholds", {}).get("steps", [])
    color = "green"
    for step in steps:
        if step["value"] is None or value >= step["value"]:
            color = step["color"]
    return COLORS.get(color, color)


def _format(panel: dict, value: float) -> str:
    unit = _defaults(panel).get("unit")
    if value != value:  # NaN
        return "—"
    if unit == "percentunit":
        return f"{value:.0%}"
    if unit == "s":
        sign, left = ("-" if value < 0 else ""), abs(value)
        return f"{sign}{int(left // 3600)}小时{int(left % 3600 // 60)}分"
    return f"{value:g}"


def legend(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template) \
        or ",".join(f"{k}={v}" for k, v in labels.items() if k != "__name__")


def _names(panel: dict, field: str) -> dict[str, dict]:
    """Value mappings (text, colour) an override gives a table column or a series name."""
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        if override["matcher"].get("options") == field:
            for prop in override["properties"]:
                if prop["id"] == "mappings":
                    return prop["value"][0]["options"]
    return {}


def _display_names(panel: dict) -> dict[str, str]:
    names = {}
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        for prop in override["properties"]:
            if prop["id"] == "displayName":
                names[override["matcher"].get("options")] = prop["value"]
    return names


def _draw_stat(ax, panel: dict, targets: list[list[Series]]) -> None:
    _bare(ax)
    shown = [(t, s) for t, found in zip(panel["targets"], targets, strict=False) for s in found]
    if not shown:
        ax.text(0.5, 0.5, "无", color="#8e8e8e", fontsize=28, ha="center", va="center",
                transform=ax.transAxes)
        return
    width = 1 / len(shown)
    for i, (target, series) in enumerate(shown):
        value = series.last
        color = _color(panel, value)
        ax.add_patch(_rect((i * width + 0.01, 0.04), width - 0.02, 0.8, color))
        name = legend(target.get("legendFormat", ""), series.labels)
        big = len(shown) <= 2 and panel["options"].get("textMode") != "name"
        ax.text(i * width + width / 2, 0.5, _format(panel, value) if panel["options"].get(
            "textMode") != "name" else name, color="white", ha="center", va="center",
            fontsize=44 if big else 16, weight="bold", transform=ax.transAxes)
        if panel["options"].get("textMode") != "name":
            ax.text(i * width + width / 2, 0.12, name, color="white", ha="center",
                    fontsize=12, transform=ax.transAxes)


def _rect(xy, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, color=color)


def _draw_table(ax, panel: dict, targets: list[list[Series]]) -> None:
    _bare(ax)
    windows, rules = _names(panel, "window"), _names(panel, "rule")
    order = list(windows)
    rows = sorted((s for found in targets for s in found),
                  key=lambda s: order.index(s.labels.get("window")) if s.labels.get("window")
                  in order else len(order))
    if not rows:
        ax.text(0.5, 0.5, "暂无待回应事件", color="#8e8e8e", fontsize=20, ha="center",
                transform=ax.transAxes)
        return
    height = min(0.16, 0.9 / (len(rows) + 1))
    headers = ("剩余时间", "回应要求", "事件数")
    for col, header in enumerate(headers):
        ax.text((0.02, 0.3, 0.88)[col], 0.95, header, color="#cccccc", fontsize=13,
                transform=ax.transAxes, va="top")
    for i, series in enumerate(rows):
        y = 0.95 - height * (i + 1.2)
        window = windows.get(series.labels.get("window"), {})
        color = COLORS.get(window.get("color", ""), "#444444")
        ax.add_patch(_rect((0.01, y - height * 0.45), 0.27, height * 0.9, color))
        ax.text(0.02, y, window.get("text", series.labels.get("window")), color="white",
                fontsize=14, va="center", transform=ax.transAxes, weight="bold")
        rule = series.labels.get("rule", "")
        ax.text(0.3, y, rules.get(rule, {}).get("text", rule), color="white", fontsize=13,
                va="center", transform=ax.transAxes)
        ax.text(0.88, y, f"{series.last:g}", color="white", fontsize=16, va="center",
                transform=ax.transAxes, weight="bold")


def _draw_bargauge(ax, panel: dict, targets: list[list[Series]]) -> None:
    _bare(ax)
    shown = [(legend(t.get("legendFormat", ""), s.labels), s.last)
             for t, found in zip(panel["targets"], targets, strict=False) for s in found]
    names = _display_names(panel)
    top = _defaults(panel).get("max") or max((v for _, v in shown), default=1) or 1
    for i, (name, value) in enumerate(shown):
        y = 0.85 - i * (0.8 / max(len(shown), 1))
        ax.text(0.01, y, names.get(name, name), color="white", fontsize=12, va="center",
                transform=ax.transAxes)
        ax.add_patch(_rect((0.42, y - 0.05), 0.45, 0.1, "#2a2d33"))
        ax.add_patch(_rect((0.42, y - 0.05), 0.45 * max(0.0, min(1.0, value / top)), 0.1,
                           _color(panel, value)))
        ax.text(0.89, y, _format(panel, value), color="white", fontsize=14, va="center",
                transform=ax.transAxes, weight="bold")


def _draw_timeseries(ax, panel: dict, targets: list[list[Series]]) -> None:
    ax.tick_params(colors="#aaaaaa", labelsize=9)
    for spine in ax.spines.values():
        spine.set_color("#333333")
    for target, found in zip(panel["targets"], targets, strict=False):
        for series in found:
            times = [datetime.fromtimestamp(t) for t, _ in series.points]
            ax.plot(times, [v for _, v in series.points], linewidth=2,
                    label=legend(target.get("legendFormat", ""), series.labels))
    if ax.lines:
        ax.legend(fontsize=9, loc="upper left", facecolor="#181b1f", labelcolor="white",
                  framealpha=0.6)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))


DRAW = {"stat": _draw_stat, "table": _draw_table, "bargauge": _draw_bargauge,
        "timeseries": _draw_timeseries}


def wall_png(prometheus_url: str, out: Path, span: float = 3600.0,
             dashboard_file: Path | None = None) -> Path:
    from monitor.wall.dashboards import wall

    dashboard = (json.loads(dashboard_file.read_text(encoding="utf-8")) if dashboard_file
                 else wall())
    end = datetime.now(UTC).timestamp()
    data = panel_data(Prometheus(prometheus_url), dashboard, end, span)
    return render(dashboard, data, out)
