"""feeds.yaml and the environment: one clear message per problem, with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_feeds, load_settings, parse_duration
from monitor.errors import ConfigError

DATA = Path(__file__).parent / "testdata"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("unknown_key", [":6: sources[0] (id=gov).intervall: unknown key (allowed: id, name, kind, "
                         "url, interval, official, channel, region, group, encoding, selectors)"]),
        ("duration", [":6: sources[0] (id=gov).interval: 'fifteen minutes' is not a duration; "
                      "write e.g. 90s, 15m or 1h"]),
        ("url", [":5: sources[0] (id=gov).url: 'ftp://www.gov.cn/feed.xml' is not an http(s) "
                 "address"]),
        ("page_without_selectors", [":2: sources[0] (id=list): a page source needs selectors "
                                    "(item, title, link, date)"]),
        ("duplicate_id", [":6: sources[1] (id=gov).id: duplicate id, first used on line 2"]),
        ("encoding", [":6: sources[0] (id=gov).encoding: unknown encoding 'gbk-ish' "
                      "(e.g. gb18030, gbk, utf-8)"]),
        ("channel", [":6: sources[0] (id=gov).channel: Input should be 'website', "
                     "'press_conference', 'interview', 'policy_interpretation', 'weibo', "
                     "'wechat', 'message_board' or 'news'"]),
        ("yaml", [":4: not valid YAML: expected ',' or ']', but got ':' (while parsing a flow "
                  "sequence that starts on line 3)"]),
        ("many", [":2: sources[0] (id=Gov Site).id: String should match pattern "
                  "'^[a-z0-9][a-z0-9_.-]{0,63}$'",
                  ":4: sources[0] (id=Gov Site).kind: Input should be 'rss' or 'page'",
                  ":7: sources[1].id: Field required"]),
    ],
)
def test_each_bad_file_gets_its_exact_messages(name, expected):
    path = DATA / f"feeds.bad_{name}.yaml"
    with pytest.raises(ConfigError) as caught:
        load_feeds(path)
    assert caught.value.problems == [f"{path}{line}" for line in expected]


def test_missing_file_is_named():
    with pytest.raises(ConfigError, match="nope.yaml: cannot read the file"):
        load_feeds(Path("nope.yaml"))


def test_shipped_feeds_file_is_valid_and_large_enough():
    feeds = load_feeds(ROOT / "feeds.yaml")
    assert len(feeds.sources) >= 12
    assert any(s.channel == "press_conference" for s in feeds.sources)
    assert {s.kind for s in feeds.sources} == {"rss", "page"}


@pytest.mark.parametrize(("text", "seconds"),
                         [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), (30, 30),
                          ("1.5h", 5400), ("500ms", 0.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_bad_environment_names_the_variable():
    with pytest.raises(ConfigError) as caught:
        load_settings(MONITOR_HTTP_PORT="eighty", MONITOR_CONCURRENCY=0)
    assert caught.value.problems == [
        "environment MONITOR_HTTP_PORT: Input should be a valid integer, unable to parse string "
        "as an integer",
        "environment MONITOR_CONCURRENCY: Input should be greater than or equal to 1",
    ]


def test_check_config_prints_every_problem_and_fails(capsys):
    assert main(["check-config", "--feeds", str(DATA / "feeds.bad_many.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("3 problem(s):")
    assert "id=Gov Site).kind" in err and "sources[1].id: Field required" in err


def test_check_config_accepts_the_shipped_file(capsys):
    assert main(["check-config", "--feeds", str(ROOT / "feeds.yaml")]) == 0
    assert "OK, 16 sources" in capsys.readouterr().out
