"""`monitor replay` on the shipped sample: the report format and the outcomes the sample was
written to show (a major accident with rising counts answered in time, reposts of one story
left unanswered, netizen messages answered, a policy document interpreted)."""

from __future__ import annotations

import json

import pytest

from monitor.cli import main
from monitor.errors import ConfigError
from monitor.track.policy import default_policy
from monitor.track.replay import SAMPLE, read_items, replay, report

pytestmark = pytest.mark.redis


async def test_sample_replay_report(redis, keys):
    result = await replay(redis, keys, default_policy(), read_items(SAMPLE))
    data = report(result)
    assert data["version"] == 1 and data["items"] == 18
    events = {e["title"][:6]: e for e in data["events"]}
    assert len(events) == 4  # the sports and entertainment items opened nothing
    mine = events["云南镇雄一煤"]
    assert (mine["severity"], mine["incident"], mine["region"]) == ("重大", "事故灾难", "昭通市")
    assert len(mine["items"]) == 5 and len(mine["responses"]) == 2
    outcomes = {d["rule"]: d["outcome"] for d in mine["deadlines"]}
    assert outcomes["authoritative_info_5h"] == "met"
    assert outcomes["press_conference_24h"] == "met"
    conference = next(d for d in mine["deadlines"] if d["rule"] == "press_conference_24h")
    assert conference["time_to_response_s"] == pytest.approx((23 * 60 + 55) * 60)
    lake = events["大理洱海流域"]
    assert len(lake["items"]) == 4 and lake["deadlines"][0]["outcome"] == "missed"
    assert events["盘龙区某小区"]["deadlines"][0]["outcome"] == "met"
    policy = events["云南省人民政"]
    assert policy["kind"] == "policy" and policy["deadlines"][0]["outcome"] == "met"
    assert set(mine) >= {"id", "topic", "incident", "severity", "region", "first_seen", "items",
                         "responses", "deadlines"}


async def test_cli_writes_the_report(tmp_path, monkeypatch, settings, capsys):
    import asyncio

    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    out = tmp_path / "report.json"
    code = await asyncio.to_thread(main, ["replay", str(SAMPLE), "--report", str(out)])
    assert code == 0
    assert "18 items → 4 events" in capsys.readouterr().out
    assert len(json.loads(out.read_text())["events"]) == 4


def test_bad_replay_lines_are_reported_with_their_line_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"source_id": "a", "title": "t", "published": "2026-11-16T10:00:00+08:00"}\n'
                    '{"source_id": "a", "title": "t", "published": "2026-11-16 10:00"}\n'
                    '{"title": "t", "published": "2026-11-16T10:00:00+08:00"}\n')
    with pytest.raises(ConfigError) as caught:
        read_items(path)
    assert caught.value.problems == [
        f"{path}:2: published: Input should have timezone info",
        f"{path}:3: source_id: Field required",
    ]
