"""`monitor export`: what an operator sees for a malformed month, a month without events and
a month before the service started (valid files with their headers), and the annual table."""

from __future__ import annotations

import asyncio
import csv
import json

import pytest
from openpyxl import load_workbook

from monitor.cli import main
from monitor.logs import configure

pytestmark = [pytest.mark.sql]


@pytest.fixture
def env(monkeypatch, tmp_path, history_url):
    monkeypatch.setenv("DATABASE_URL", history_url)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path / "var"))
    yield tmp_path
    # The command pointed the logs at this test's captured output: point them back.
    configure("console", "warning")


@pytest.mark.redis
async def test_a_month_without_events_and_the_annual_table(env, sample_history, capsys):
    code = await asyncio.to_thread(main, ["export", "--month", "2026-12", "--format", "xlsx"])
    assert code == 0
    assert "note: 2026-12 没有事件" in capsys.readouterr().out
    book = load_workbook(env / "var" / "exports" / "monthly-2026-12.xlsx")
    assert book["按规则"]["A2"].value == "2026-12 没有事件"
    assert book["按规则"].max_row == 3  # title, note, header
    assert [m[0] for m in book["逐月"].iter_rows(min_row=4, values_only=True)][-2:] == \
        ["2026-11", "2026-12"]

    code = await asyncio.to_thread(main, ["export", "--year", "2026", "--format", "json"])
    assert code == 0
    data = json.loads((env / "var" / "exports" / "annual-2026.json").read_text())
    assert data["title"] == "2026年度政务舆情回应情况"
    assert [line["count"] for line in data["official"]] == [3, 1, 0, 0, 0, 1, 0, 2]
    months = {m["month"]: m["outcomes"]["deadlines"] for m in data["months"]}
    assert len(months) == 12 and months["2026-11"] == 6 and sum(months.values()) == 6
    code = await asyncio.to_thread(main, ["export", "--year", "2026"])
    sheet = load_workbook(env / "var" / "exports" / "annual-2026.xlsx")["统计表"]
    rows = [r[:3] for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert rows[:4] == [("二、回应解读情况", None, None),
                        ("(一) 回应公众关注热点或重大舆情数 (不同方式回应同一热点或舆情计1次)",
                         "次", 3),
                        ("(二) 通过不同渠道和方式回应解读的情况", None, None),
                        ("1. 参加或举办新闻发布会总次数", "次", 1)]
    assert rows[-1] == ("5. 其他方式回应事件数", "次", 2)


@pytest.mark.parametrize("month, message", [
    ("2026-13", "month '2026-13': the month must be 01 to 12"),
    ("2026/11", "month '2026/11' is not a month: write it as YYYY-MM, e.g. 2026-11"),
    ("1899-01", "'1899-01': the year must be between 2000 and 2100"),
    ("", "month '' is not a month: write it as YYYY-MM, e.g. 2026-11"),
])
def test_a_malformed_month_is_refused_in_words(env, capsys, month, message):
    assert main(["export", "--month", month]) == 1
    assert capsys.readouterr().err.strip() == f"error: {message}"
    assert not (env / "var" / "exports").exists()  # nothing half written


def test_a_month_before_the_service_started_gives_valid_empty_files(env, capsys):
    assert main(["export", "--month", "2025-01", "--format", "csv", "--out",
                 str(env / "out")]) == 0
    out = capsys.readouterr().out
    assert "note: 2025-01 在本服务开始记录之前，没有数据" in out
    with (env / "out" / "monthly-2025-01-rules.csv").open(encoding="utf-8-sig") as f:
        assert list(csv.reader(f)) == [["规则", "规则名称", "截止数", "事件数", "按时回应",
                                        "超时回应", "未回应", "免于回应", "尚未到期", "按时率",
                                        "用时中位数(小时)", "用时P90(小时)"]]
    assert (env / "out" / "monthly-2025-01.png").stat().st_size > 0
