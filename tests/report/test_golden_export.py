"""Golden export of the shipped replay sample (monitor/track/samples/replay_sample.jsonl), in
every format. The expected figures are worked out by hand from the sample's items and the
default rules (tracking.yaml), all times Asia/Shanghai, November 2026:

- coal-mine flood, first seen Mon 11-16 10:05, graded 重大 (12 dead): the 5 h and 24 h rules.
  The 应急管理厅 通报 (a website: channel 其他) at 12:20 meets 5 h after 2 h 15 min = 2.25 h;
  the press conference Tue 11-17 10:00 meets 24 h after 23 h 55 min = 23.92 h.
- Erhai sewage, first seen Tue 11-17 09:00, no official answer: 48 h missed.
- property fees: two netizen messages Wed 11-18 09:20 and 14:05, each owed its reply by the
  end of the 2nd working day (Fri 11-20 24:00); the district's reply Fri 11-20 11:00 meets
  both, after 49 h 40 min = 49.67 h and 44 h 55 min = 44.92 h: median 47.29 h, p90 (nearest
  rank, 2nd of 2) 49.67 h.
- policy document Thu 11-19 16:00: interpretation due by the end of Tue 11-24 (Fri, Mon,
  Tue); published Mon 11-23 15:00, after 95 h.
Month: 6 deadlines, 5 met, 1 missed → 5/6 on time.
Official table: events answered in the month 3 (mine, fees, policy); press conferences 1,
none with the principal leader; interviews 0; interpretation articles 1; Weibo/WeChat events
0; events answered by other means 2 (the mine's 通报, the fees' reply).
"""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import load_workbook

from monitor.report.export import export
from monitor.report.period import parse_month

pytestmark = [pytest.mark.redis, pytest.mark.sql]

NOVEMBER = parse_month("2026-11")
# rule → (deadlines, events, met, met late, missed, waived, open, rate, median h, p90 h)
RULES = {
    "authoritative_info_5h": (1, 1, 1, 0, 0, 0, 0, 1.0, 2.25, 2.25),
    "press_conference_24h": (1, 1, 1, 0, 0, 0, 0, 1.0, 23.92, 23.92),
    "response_48h": (1, 1, 0, 0, 1, 0, 0, 0.0, None, None),
    "message_2wd": (2, 1, 2, 0, 0, 0, 0, 1.0, 47.29, 49.67),
    "policy_interpretation_3wd": (1, 1, 1, 0, 0, 0, 0, 1.0, 95.0, 95.0),
}
OFFICIAL = [3, 1, 0, 0, 0, 1, 0, 2]  # the 回应解读 rows, in the 2018 table's order
MONTH_TOTAL = (6, 4, 5, 0, 1, 0, 0, round(5 / 6, 4))


def outcome_tuple(o: dict) -> tuple:
    return (o["deadlines"], o["events"], o["met"], o["met_late"], o["missed"], o["waived"],
            o["open"], o["on_time_rate"], o["median_hours"], o["p90_hours"])


async def test_json(sample_history, tmp_path):
    _, written = export(sample_history, NOVEMBER, "json", tmp_path)
    data = json.loads((tmp_path / "monthly-2026-11.json").read_text(encoding="utf-8"))
    assert {r["rule"]: outcome_tuple(r["outcomes"]) for r in data["rules"]} == RULES
    assert [r["rule"] for r in data["rules"]] == list(RULES)  # the policy's order
    assert [line["count"] for line in data["official"]] == OFFICIAL
    assert outcome_tuple(data["months"][-1]["outcomes"])[:8] == MONTH_TOTAL
    assert [m["month"] for m in data["months"]] == [f"2026-{m:02d}" for m in range(1, 12)]
    assert len(data["events"]) == 4 and data["note"] == ""
    lake = next(e for e in data["events"] if "洱海" in e["title"])
    assert lake["outcomes"] == "response_48h: missed" and lake["responses"] == 0
    assert lake["link"].startswith("http://politics.people.com.cn/")
    assert {p.suffix for p in written} == {".json", ".png"}
    assert (tmp_path / "monthly-2026-11.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_official_figures_trace_to_the_events_of_their_channel(sample_history,
                                                                     sample_events, tmp_path):
    export(sample_history, NOVEMBER, "json", tmp_path)
    data = json.loads((tmp_path / "monthly-2026-11.json").read_text(encoding="utf-8"))
    lines = {line["label"]: line for line in data["official"]}
    by_title = {e.title[:4]: e.id for e in sample_events}
    conference = lines["1. 参加或举办新闻发布会总次数"]
    assert conference["event_ids"] == [by_title["云南镇雄"]]
    assert lines["3. 政策解读稿件发布数"]["event_ids"] == [by_title["云南省人"]]
    assert sorted(lines["5. 其他方式回应事件数"]["event_ids"]) == sorted(
        [by_title["云南镇雄"], by_title["盘龙区某"]])
    assert by_title["大理洱海"] not in lines[next(iter(lines))]["event_ids"]  # unanswered


async def test_csv(sample_history, tmp_path):
    _, written = export(sample_history, NOVEMBER, "csv", tmp_path)
    rules_file = tmp_path / "monthly-2026-11-rules.csv"
    assert rules_file.read_bytes()[:3] == b"\xef\xbb\xbf"  # the BOM: Excel reads UTF-8
    with rules_file.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["规则", "规则名称", "截止数"]
    got = {r[0]: tuple(r[2:]) for r in rows[1:]}
    assert got == {rule: tuple("" if v is None else str(v) for v in expected)
                   for rule, expected in RULES.items()}
    with (tmp_path / "monthly-2026-11-official.csv").open(encoding="utf-8-sig") as f:
        assert [int(r[2]) for r in list(csv.reader(f))[1:]] == OFFICIAL
    assert len([p for p in written if p.suffix == ".csv"]) == 9
    with (tmp_path / "monthly-2026-11-official-events.csv").open(encoding="utf-8-sig") as f:
        pairs = list(csv.reader(f))[1:]
    assert len(pairs) == sum(OFFICIAL)  # each counted event on a row of its own


async def test_xlsx(sample_history, tmp_path):
    export(sample_history, NOVEMBER, "xlsx", tmp_path)
    book = load_workbook(tmp_path / "monthly-2026-11.xlsx")
    assert book.sheetnames == ["按规则", "按主题", "按等级", "按地区", "按牵头单位", "逐月",
                               "事件清单", "回应解读", "回应解读明细", "图表"]
    sheet = book["按规则"]
    assert sheet.freeze_panes == "A4"
    assert [c.value for c in sheet[3]][:3] == ["规则", "规则名称", "截止数"]
    got = {row[0]: tuple(row[2:]) for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert got == RULES
    assert sheet["J4"].number_format == "0.0%" and sheet["K4"].number_format == "0.00"
    assert sheet.column_dimensions["B"].width == 26
    assert [row[2] for row in book["回应解读"].iter_rows(min_row=4, values_only=True)] == \
        OFFICIAL
    charts = book["图表"]._charts
    assert [type(c).__name__ for c in charts] == ["BarChart", "LineChart"]
    topics = {r[0]: r[1] for r in book["图表"].iter_rows(min_row=2, max_row=6,
                                                          values_only=True) if r[0]}
    assert topics["生态环境"] == 0.0  # the lake: its one deadline missed


async def test_the_same_month_exported_twice_is_the_same(sample_history, tmp_path):
    for fmt in ("json", "csv"):
        _, first = export(sample_history, NOVEMBER, fmt, tmp_path / "a", picture=False)
        _, second = export(sample_history, NOVEMBER, fmt, tmp_path / "b", picture=False)
        for one, two in zip(first, second, strict=True):
            assert one.read_bytes() == two.read_bytes(), one.name
    # A workbook records when it was saved: the same cells, not the same bytes.
    export(sample_history, NOVEMBER, "xlsx", tmp_path / "a", picture=False)
    export(sample_history, NOVEMBER, "xlsx", tmp_path / "b", picture=False)
    books = [load_workbook(tmp_path / d / "monthly-2026-11.xlsx") for d in "ab"]
    for name in books[0].sheetnames:
        assert list(books[0][name].values) == list(books[1][name].values), name
