"""The operator's commands: `monitor poll`, `sources`, `run` and `replay`: against the fake
site, and with bad paths and addresses (one line on stderr, exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from monitor.track.replay import SAMPLE
from tests.fakesite import Document, rss

pytestmark = pytest.mark.redis

NEWS = [("昆明市召开新闻发布会", "http://e.cn/1", "2026-11-20 10:00:00"),
        ("大理州通报洱海保护治理进展", "http://e.cn/2", "2026-11-21 09:30:00")]


@pytest.fixture
def feeds_file(site, tmp_path, monkeypatch, settings):
    good = site.put("/good.xml", Document(rss("要闻", NEWS, encoding="gbk"),
                                          content_type="text/xml; charset=iso-8859-1"))
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"sources": [
        {"id": "good", "name": "好源", "kind": "rss", "url": good, "allow_private": True},
        {"id": "down", "name": "坏源", "kind": "rss", "url": site.url("/missing.xml"),
         "allow_private": True},
    ]}, allow_unicode=True))
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("MONITOR_KEY_PREFIX", settings.key_prefix)
    monkeypatch.setenv("MONITOR_LOG_LEVEL", "error")
    return path


async def _cli(*argv: str) -> int:
    import asyncio

    return await asyncio.to_thread(main, list(argv))  # the command runs its own event loop


async def test_poll_prints_the_items_it_would_emit(feeds_file, capsys, redis, keys):
    assert await _cli("poll", "good", "--feeds", str(feeds_file)) == 0
    out = capsys.readouterr().out
    assert "good 好源: HTTP 200" in out and "encoding gb18030 (declared)" in out
    assert "2 entries, 2 new" in out
    assert "NEW   2026-11-21 09:30  大理州通报洱海保护治理进展" in out
    assert await redis.exists(keys.items_stream) == 0  # `poll` shows, it does not emit


async def test_poll_of_a_broken_source_says_why(feeds_file, capsys):
    assert await _cli("poll", "down", "--feeds", str(feeds_file)) == 1
    assert "poll failed (http_4xx)" in capsys.readouterr().err


async def test_poll_of_an_unknown_source_lists_the_known_ones(feeds_file, capsys):
    assert await _cli("poll", "nope", "--feeds", str(feeds_file)) == 2
    assert "no source with id 'nope'; known ids: good, down" in capsys.readouterr().err


async def test_sources_table_shows_state_and_last_error(feeds_file, capsys, settings, redis,
                                                        clock, rng):
    from monitor.app import open_collector
    from monitor.config import load_feeds
    from monitor.metrics import Metrics

    async with open_collector(settings, load_feeds(feeds_file), redis, clock, Metrics(),
                              rng) as collector:
        clock.advance(61)
        await collector.scheduler.run_once()
    from monitor.cli import _print_sources

    await _print_sources(settings, load_feeds(feeds_file), clock)  # on the test's clock
    lines = capsys.readouterr().out.splitlines()
    good = next(line for line in lines if line.startswith("good "))
    down = next(line for line in lines if line.startswith("down "))
    assert " ok " in good and " 2 " in good
    assert "failing x1" in down and "404 Not Found; check the address" in down
    clock.advance(3 * 900 + 1)  # three intervals without a successful poll
    await _print_sources(settings, load_feeds(feeds_file), clock)
    good = next(line for line in capsys.readouterr().out.splitlines()
                if line.startswith("good "))
    assert " silent " in good


ROOT = Path(__file__).resolve().parents[1]
MALFORMED = ("error: environment REDIS_URL: 'localhost:6379' is not a Redis address: use "
             "redis://host:6379/0, rediss://host:6380/0 or unix:///path/to/redis.sock\n")


@pytest.mark.parametrize("argv", [["run"], ["sources"], ["poll", "gov-cn"],
                                  ["replay", str(SAMPLE)]], ids=" ".join)
async def test_a_malformed_redis_url_is_one_line_and_exit_2(argv, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "localhost:6379")  # a traceback from redis-py before
    monkeypatch.setenv("MONITOR_FEEDS", str(ROOT / "feeds.yaml"))
    assert await _cli(*argv) == 2
    assert capsys.readouterr().err == MALFORMED


@pytest.mark.parametrize(("make", "expected"), [
    (lambda tmp: (tmp / "nope.jsonl", None), "{0}/nope.jsonl: cannot read the input file: No "
                                            "such file or directory"),
    (lambda tmp: (SAMPLE, tmp / "no-such-dir" / "r.json"),
     "{0}/no-such-dir/r.json: cannot write the report: No such file or directory"),
    (lambda tmp: (SAMPLE, tmp), "{0}: cannot write the report: Is a directory"),
    (lambda tmp: (SAMPLE, tmp / "conftest.py" / "r.json"),
     "{0}/conftest.py/r.json: cannot write the report: Not a directory"),
], ids=["missing input", "missing report dir", "report is a dir", "under a file"])
async def test_replay_paths_are_checked_before_it_runs(make, expected, tmp_path, settings,
                                                       monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    (tmp_path / "conftest.py").write_text("")
    source, report = make(tmp_path)
    argv = ["replay", str(source)] + (["--report", str(report)] if report else [])
    assert await _cli(*argv) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: " + expected.format(tmp_path) + "\n"
    assert captured.out == ""  # the replay did not run


async def test_replay_leaves_no_empty_report_when_the_check_passes(tmp_path, settings,
                                                                   monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    report = tmp_path / "r.json"
    assert await _cli("replay", str(SAMPLE), "--report", str(report), "--tail", "1h") == 0
    assert report.read_text().startswith("{")
