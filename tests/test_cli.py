"""The operator's commands: `monitor poll` and `monitor sources`, against the fake site."""

from __future__ import annotations

import pytest
import yaml

from monitor.cli import main
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
        {"id": "good", "name": "好源", "kind": "rss", "url": good},
        {"id": "down", "name": "坏源", "kind": "rss", "url": site.url("/missing.xml")},
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
    assert await _cli("sources", "--feeds", str(feeds_file)) == 0
    lines = capsys.readouterr().out.splitlines()
    good = next(line for line in lines if line.startswith("good "))
    down = next(line for line in lines if line.startswith("down "))
    assert " ok " in good and " 2 " in good
    assert "failing x1" in down and "404 Not Found; check the address" in down
