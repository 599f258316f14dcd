"""The 回应解读 rows count a principal leader's attendance as an officer recorded it, and read
the title only when nobody said."""

from __future__ import annotations

from datetime import datetime

from monitor.report.official import official_lines


def conference(n: int, title: str, principal: bool | None) -> dict:
    return {"event_id": f"ev{n}", "response_id": f"r{n}", "channel": "新闻发布会",
            "title": title, "link": None, "linked": True, "principal_attended": principal,
            "at": datetime(2026, 11, 3, 10)}


def test_an_officers_record_of_the_principal_decides_over_the_title():
    lines = {line.label: line for line in official_lines([
        conference(1, "昆明市政府新闻发布会", True),  # recorded: the mayor spoke
        conference(2, "市长出席新闻发布会", False),  # recorded: he did not, whatever the title
        conference(3, "州长出席新闻发布会", None),  # not recorded: the title says so
        conference(4, "应急管理局新闻发布会", None),
    ])}
    assert lines["1. 参加或举办新闻发布会总次数"].count == 4
    principal = lines["其中：主要负责同志参加新闻发布会次数"]
    assert (principal.count, principal.event_ids) == (2, ["ev1", "ev3"])
