"""The month as a picture (matplotlib): the on-time rate per rule and per topic, and the
time-to-respond distribution with the 5 h / 24 h / 48 h lines."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import structlog

from monitor.report.build import ALL_RULES
from monitor.report.model import Report

log = structlog.get_logger("monitor.report")

DEADLINE_HOURS = (5, 24, 48)
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
              "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC")
_CJK_FILES = re.compile(r"(?i)wqy|cjk|sourcehan|simhei|msyh|pingfang")


@functools.cache
def cjk_font() -> str | None:
    """A font with Chinese glyphs, when the machine has one (the labels are Chinese).
    matplotlib knows the fonts of its cache, written the first time it ran: a font
    installed since (the Dockerfile's, or `.ci/run`'s) is looked for on disk and added."""
    from matplotlib import font_manager

    found = _known_cjk_font(font_manager)
    if found is None:
        for path in font_manager.findSystemFonts():
            if _CJK_FILES.search(Path(path).name):
                font_manager.fontManager.addfont(path)
        found = _known_cjk_font(font_manager)
    if found is None:
        log.warning("no_chinese_font", consequence="Chinese labels in the pictures show as "
                    "empty boxes", fix="install a Chinese font (Debian: fonts-wqy-microhei or "
                    "fonts-noto-cjk) and run again")
    return found


def _known_cjk_font(font_manager) -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


def write_png(report: Report, path: Path) -> list[Path]:
    # Imported here: matplotlib takes a second to load, which no other command should wait for.
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    font = cjk_font()
    fonts = {"font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    with matplotlib.rc_context(fonts):
        _draw(report, path)
    return [path]


def _draw(report: Report, path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 9), dpi=100)
    rules, topics, spread = figure.subplots(3, 1)
    figure.suptitle(report.title + (f"（{report.note}）" if report.note else ""))
    _rates(rules, [(line.rule, line.outcomes.on_time_rate) for line in report.rules],
           "on-time rate per rule")
    _rates(topics, [(line.group, line.outcomes.on_time_rate)
                    for line in report.breakdowns["topic"] if line.rule == ALL_RULES],
           "on-time rate per topic")
    _spread(spread, report.durations_hours)
    with warnings.catch_warnings():  # without a CJK font (said once, in cjk_font) each
        warnings.simplefilter("ignore", UserWarning)  # missing glyph would warn again
        figure.tight_layout()
        figure.savefig(path, format="png", metadata={"Software": None})


def _rates(axes, pairs: list[tuple[str, float | None]], title: str) -> None:
    names = [name for name, _ in pairs]
    axes.bar(names, [rate or 0.0 for _, rate in pairs], color="#4477aa")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.tick_params(axis="x", labelsize=8)


def _spread(axes, durations: dict[str, list[float]]) -> None:
    hours = [h for values in durations.values() for h in values]
    if hours:
        axes.hist(hours, bins=min(40, max(5, len(hours))), color="#66ccee")
    for limit in DEADLINE_HOURS:
        axes.axvline(limit, color="#ee6677", linestyle="--")
        axes.text(limit, 0.95, f"{limit}h", color="#ee6677",
                  transform=axes.get_xaxis_transform())
    axes.set_xlabel("hours to respond")
    axes.set_title("time to respond")
