"""`GET /api/reports/monthly` over a real HTTP server, and the export written on the 1st of
each month by the service (on the injected clock)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from monitor.report.schedule import MonthlyExports
from monitor.web.reports import add_report_routes
from tests.history.conftest import local

pytestmark = [pytest.mark.redis, pytest.mark.sql]


@pytest.fixture
async def client(sample_history):
    app = web.Application()
    add_report_routes(app, sample_history)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def test_the_monthly_report_as_json_and_as_a_workbook(client):
    answer = await client.get("/api/reports/monthly", params={"month": "2026-11"})
    assert answer.status == 200
    data = await answer.json()
    assert data["period"] == "2026-11"
    assert [line["count"] for line in data["official"]] == [3, 1, 0, 0, 0, 1, 0, 2]
    met = {r["rule"]: r["outcomes"]["met"] for r in data["rules"]}
    assert met == {"authoritative_info_5h": 1, "press_conference_24h": 1, "response_48h": 0,
                   "message_2wd": 2, "policy_interpretation_3wd": 1}

    answer = await client.get("/api/reports/monthly",
                              params={"month": "2026-11", "format": "xlsx"})
    assert answer.status == 200
    assert answer.headers["Content-Disposition"] == \
        'attachment; filename="monthly-2026-11.xlsx"'
    book = load_workbook(io.BytesIO(await answer.read()))
    assert book["按规则"]["C4"].value == 1

    answer = await client.get("/api/reports/monthly",
                              params={"month": "2026-11", "format": "csv", "part": "official"})
    body = await answer.read()
    assert body.startswith(b"\xef\xbb\xbf") and "新闻发布会".encode() in body
    answer = await client.get("/api/reports/monthly", params={"month": "2026-11",
                                                              "format": "png"})
    assert answer.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("params, parameter, message", [
    ({}, "month", "month '' is not a month: write it as YYYY-MM, e.g. 2026-11"),
    ({"month": "2026-00"}, "month", "month '2026-00': the month must be 01 to 12"),
    ({"month": "2026-11", "format": "pdf"}, "format",
     "format must be one of json, xlsx, csv, png, not 'pdf'"),
    ({"month": "2026-11", "format": "csv", "part": "x"}, "part",
     "part must be one of rules, by-topic, by-severity, by-region, by-lead-unit, months, "
     "events, official, official-events, not 'x'"),
])
async def test_bad_requests_are_told_what_is_wrong(client, params, parameter, message):
    answer = await client.get("/api/reports/monthly", params=params)
    assert answer.status == 400
    assert await answer.json() == {"status": 400, "error": "Bad Request", "message": message,
                                   "parameter": parameter}


async def test_the_month_is_exported_on_the_first_of_the_next(sample_history, tmp_path):
    exports = MonthlyExports(sample_history, tmp_path / "exports")
    # Started in November: the last month that ended (October) has no export yet.
    october = await exports.run_once(local("2026-11-30T23:00"))
    assert {p.name for p in october} >= {"monthly-2026-10.xlsx", "monthly-2026-10.json"}
    assert await exports.run_once(local("2026-11-30T23:50")) == []  # written once
    assert await exports.run_once(local("2026-12-01T00:30")) == []  # the history catches up
    written = await exports.run_once(local("2026-12-01T01:00"))
    assert sorted(p.name for p in written if p.suffix != ".csv") == [
        "monthly-2026-11.json", "monthly-2026-11.png", "monthly-2026-11.xlsx"]
    assert (tmp_path / "exports" / "monthly-2026-11-rules.csv").exists()
    assert await exports.run_once(local("2026-12-01T01:00") + timedelta(hours=3)) == []  # once
