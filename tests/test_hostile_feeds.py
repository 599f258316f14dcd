"""Hostile and damaged feeds against the collector, the real Redis and the CLI: one bad
entry or byte never costs the feed, garbled text is held back, controls never reach a
terminal, and an unreadable date is never invented."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import yaml

from monitor.app import open_collector
from monitor.cli import main
from monitor.config import load_feeds
from monitor.errors import FetchReason
from monitor.metrics import Metrics
from monitor.store.items import ItemConsumer
from monitor.store.sources import SourceState, SourceStore, state_counts
from tests.fakesite import Document, rss

pytestmark = pytest.mark.redis

NOTICES = [("云南省人民政府关于做好冬春森林防火工作的通知", "http://e.gov.cn/1",
            "Mon, 23 Nov 2026 09:00:00 +0800"),
           ("昭通市镇雄县通报一起交通事故处置情况", "http://e.gov.cn/2",
            "Mon, 23 Nov 2026 10:00:00 +0800"),
           ("红河州持续推进减税降费", "http://e.gov.cn/3", "Mon, 23 Nov 2026 11:00:00 +0800")]


def feeds_yaml(tmp_path, *sources):
    """A feeds.yaml for the fake site on 127.0.0.1, which needs the explicit allowance."""
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"sources": [
        {"name": "测试源", "kind": "rss", "interval": "10m", "allow_private": True, **s}
        for s in sources]}, allow_unicode=True))
    return path


@contextlib.asynccontextmanager
async def collector(settings, redis, clock, rng, path, metrics=None):
    async with open_collector(settings, load_feeds(path), redis, clock, metrics or Metrics(),
                              rng) as c:
        yield c


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("MONITOR_KEY_PREFIX", settings.key_prefix)
    monkeypatch.setenv("MONITOR_LOG_LEVEL", "error")


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))  # the command runs its own event loop


async def test_a_lone_surrogate_reference_spoils_only_its_own_entry(site, settings, redis,
                                                                    clock, rng, tmp_path):
    body = rss("要闻", NOTICES).replace("镇雄县".encode(), b"&#xD800;&#x110000;", 1)
    url = site.put("/feed.xml", Document(body))
    async with collector(settings, redis, clock, rng, feeds_yaml(tmp_path, {"id": "s",
                                                                           "url": url})) as c:
        clock.advance(61)
        [outcome] = await c.scheduler.run_once()
    assert outcome.outcome == "ok"
    titles = sorted(i.title for i in outcome.new_items)
    assert titles == sorted([NOTICES[0][0], "昭通市\ufffd\ufffd通报一起交通事故处置情况",
                             NOTICES[2][0]])


async def test_garbled_text_is_held_back_until_it_decodes(site, settings, redis, keys, clock,
                                                          rng, tmp_path, capsys, cli_env):
    """GBK served as windows-1251 decodes "cleanly" into Cyrillic. Those items would be
    marked seen forever; they wait, and go out once the site sends the right charset."""
    body = rss("要闻", NOTICES, encoding="gbk", declared=None)
    site.put("/gbk.xml", Document(body, content_type="text/xml; charset=windows-1251"))
    path = feeds_yaml(tmp_path, {"id": "gbk", "url": site.url("/gbk.xml")})
    metrics = Metrics()
    async with collector(settings, redis, clock, rng, path, metrics) as c:
        clock.advance(61)
        [held] = await c.scheduler.run_once()
        state = await c.sources.load("gbk")
        assert await cli("sources", "--feeds", str(path)) == 0
        site.put("/gbk.xml", Document(body, content_type="text/xml; charset=gbk"))
        clock.advance(held.state.next_poll - clock.now().timestamp() + 1)
        [fixed] = await c.scheduler.run_once()
    assert held.error.reason is FetchReason.DECODE_SUSPECT and held.new_items == []
    assert "reads as Cyrillic" in state.last_error and "set encoding: cp1251" in state.last_error
    assert state.decode_suspect and state_counts([state])["decode_suspect"] == 1
    assert metrics.poll_errors.labels("decode_suspect")._value.get() == 1
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("gbk "))
    assert " decode_suspect " in row
    assert held.state.next_poll - held.state.last_poll <= 600 * 1.1  # no failure backoff
    assert fixed.outcome == "ok"  # validators were not kept, so no 304 hides the document
    assert sorted(i.title for i in fixed.new_items) == sorted(t for t, _, _ in NOTICES)
    entries = await ItemConsumer(redis, keys, "track", "t1").read()
    assert len(entries) == 3  # nothing garbled was emitted first


async def test_controls_are_stripped_and_escaped_on_the_terminal(site, settings, redis, keys,
                                                                 clock, rng, tmp_path, capsys,
                                                                 cli_env):
    hostile = [("通报\x1b[2J\x00事故\x07", "http://e.gov.cn/x\x1b[31m", NOTICES[0][2])]
    url = site.put("/ctl.xml", Document(rss("要闻", hostile)))
    path = feeds_yaml(tmp_path, {"id": "ctl", "url": url})
    async with collector(settings, redis, clock, rng, path) as c:
        clock.advance(61)
        [outcome] = await c.scheduler.run_once()
        await SourceStore(redis, keys).finish("ctl", "nobody", SourceState(
            failures=1, last_poll=1.0, last_error="site said \x1b]0;pwned\x07"))
    assert [i.title for i in outcome.new_items] == ["通报[2J事故"]
    assert await cli("poll", "ctl", "--feeds", str(path)) == 0
    assert await cli("sources", "--feeds", str(path)) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out
    assert "http://e.gov.cn/x\\x1b[31m" in out and "site said \\x1b]0;pwned\\x07" in out


async def test_an_unreadable_date_is_the_fetch_time_and_says_so(site, settings, redis, clock,
                                                                rng, tmp_path, capsys, cli_env):
    entries = [NOTICES[0], (NOTICES[1][0], NOTICES[1][1], "Seg, 24 Set 2012 07 -0300")]
    url = site.put("/dates.xml", Document(rss("要闻", entries)))
    path = feeds_yaml(tmp_path, {"id": "d", "url": url})
    async with collector(settings, redis, clock, rng, path) as c:
        clock.advance(61)
        [outcome] = await c.scheduler.run_once()
    items = {i.title: i for i in outcome.new_items}
    unreadable, readable = items[NOTICES[1][0]], items[NOTICES[0][0]]
    assert unreadable.published == clock.now() and unreadable.published_is_fetch_time
    assert not readable.published_is_fetch_time and readable.published.month == 11
    assert await cli("poll", "d", "--feeds", str(path)) == 0
    out = capsys.readouterr().out
    assert "* no usable time in the source: the fetch time is shown" in out
