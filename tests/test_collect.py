"""The collector against the fake feed site, the real Redis and a fake clock."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from monitor.app import open_collector
from monitor.errors import FetchReason
from monitor.metrics import Metrics
from monitor.store.items import ItemConsumer
from tests.fakesite import Document, atom, list_page, rdf, rss
from tests.helpers import PAGE_SELECTORS, feeds

pytestmark = pytest.mark.redis

NEWS = [("昆明市召开新闻发布会通报暴雨灾情", "http://example.gov.cn/a/1.html",
         "Mon, 23 Nov 2026 09:00:00 +0800"),
        ("红河州持续推进减税降费", "http://example.gov.cn/a/2.html",
         "Mon, 23 Nov 2026 10:00:00 +0800")]


@contextlib.asynccontextmanager
async def collector_for(settings, redis, clock, rng, *sources):
    async with open_collector(settings, feeds(*sources), redis, clock, Metrics(), rng) as c:
        yield c


async def poll_all(collector, clock, seconds: float = 61):
    """Move past every first poll (spread over up to 60 s) and poll what is due."""
    clock.advance(seconds)
    return {o.source_id: o for o in await collector.scheduler.run_once()}


@pytest.mark.parametrize("builder", [rss, atom, rdf], ids=["rss", "atom", "rdf"])
async def test_feed_formats_become_items_once(builder, site, settings, redis, keys, clock, rng):
    url = site.put("/feed.xml", Document(builder("政府要闻", NEWS)))
    async with collector_for(settings, redis, clock, rng,
                             {"id": "s1", "url": url, "official": True,
                              "channel": "press_conference", "region": "昆明"}) as c:
        first = await poll_all(c, clock)
        assert first["s1"].outcome == "ok"
        assert sorted(i.title for i in first["s1"].new_items) == sorted(t for t, _, _ in NEWS)
        item = first["s1"].new_items[0]
        assert item.official and item.channel == "press_conference" and item.region == "昆明"
        assert item.published.utcoffset() is not None
        first_at = clock.now().timestamp()
        clock.advance(700)
        second = await c.scheduler.run_once()
        assert [o.new_items for o in second] == [[]]
        state = await c.sources.load("s1")  # what the page's "quiet" test reads
        assert state.last_new_item_at == state.first_success == first_at
        assert state.last_success == clock.now().timestamp()
    consumer = ItemConsumer(redis, keys, "track", "t1")
    entries = await consumer.read()
    assert len(entries) == 2


async def test_conditional_get_uses_validators_and_304(site, settings, redis, clock, rng):
    url = site.put("/feed.xml", Document(rss("t", NEWS)))
    async with collector_for(settings, redis, clock, rng, {"id": "s1", "url": url}) as c:
        await poll_all(c, clock)
        clock.advance(700)
        [outcome] = await c.scheduler.run_once()
    assert outcome.outcome == "not_modified"
    first, second = site.hits_for("/feed.xml")
    assert first.if_none_match is None
    assert second.if_none_match == Document(rss("t", NEWS)).etag
    assert second.if_modified_since is not None and second.status == 304


async def test_new_entry_after_change_is_the_only_new_item(site, settings, redis, clock, rng):
    url = site.put("/feed.xml", Document(rss("t", NEWS[:1])))
    async with collector_for(settings, redis, clock, rng, {"id": "s1", "url": url}) as c:
        await poll_all(c, clock)
        site.put("/feed.xml", Document(rss("t", NEWS)))
        clock.advance(700)
        [outcome] = await c.scheduler.run_once()
    assert [i.title for i in outcome.new_items] == [NEWS[1][0]]


async def test_list_page_with_relative_links_and_chinese_dates(site, settings, redis, clock, rng):
    rows = [("省政府常务会议研究部署营商环境工作", "/zw/1.html", "2026-11-20"),
            ("关于生态环境保护督察整改的情况说明", "zw/2.html", "11-21")]
    url = site.put("/list/index.html", Document(list_page(rows), content_type="text/html"))
    async with collector_for(settings, redis, clock, rng,
                             {"id": "p1", "kind": "page", "url": url,
                              "selectors": PAGE_SELECTORS}) as c:
        outcome = (await poll_all(c, clock))["p1"]
    items = {i.title: i for i in outcome.new_items}
    assert set(items) == {t for t, _, _ in rows}
    assert items[rows[0][0]].link == site.url("/zw/1.html")
    assert items[rows[1][0]].link == site.url("/list/zw/2.html")
    published = items[rows[1][0]].published
    assert (published.year, published.month, published.day) == (2026, 11, 21)
    assert published.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("encoding", "content_type", "declared"),
    [
        ("gbk", "application/rss+xml", "same"),  # honest declaration, no HTTP charset
        ("gbk", "application/rss+xml; charset=utf-8", "utf-8"),  # both claims wrong
        ("gb18030", "text/xml", None),  # no declaration anywhere
        ("gb2312", "text/xml; charset=iso-8859-1", "iso-8859-1"),  # server default Latin-1
        ("gb18030", "application/xml; charset=gb2312", "gb2312"),  # GB18030-only chars as GB2312
    ],
    ids=["gbk-declared", "gbk-as-utf8", "gb18030-undeclared", "gb2312-as-latin1",
         "gb18030-as-gb2312"],
)
async def test_chinese_encodings_decode_to_the_right_titles(encoding, content_type, declared,
                                                            site, settings, redis, clock, rng):
    titles = [("云南省人民政府关于做好冬春森林防火工作的通知", "http://e.gov.cn/1", "2026-11-20"),
              ("昭通市镇雄县通报一起交通事故处置情况", "http://e.gov.cn/2", "2026-11-21")]
    if encoding == "gb18030":  # 𠀀 and 㐀 exist only in GB18030, not GBK/GB2312
        titles.append(("丽江古城㐀字路牌更新 𠀀", "http://e.gov.cn/3", "2026-11-22"))
    body = rss("要闻", titles, encoding=encoding, declared=declared)
    url = site.put("/gb.xml", Document(body, content_type=content_type))
    async with collector_for(settings, redis, clock, rng, {"id": "gb", "url": url}) as c:
        outcome = (await poll_all(c, clock))["gb"]
    assert outcome.outcome == "ok", outcome.error
    assert sorted(i.title for i in outcome.new_items) == sorted(t for t, _, _ in titles)


async def test_gbk_list_page_with_wrong_meta_charset(site, settings, redis, clock, rng):
    rows = [("曲靖市开展食品安全专项整治行动", "/a.html", "2026-11-20")]
    body = list_page(rows, encoding="gbk", meta="utf-8")
    url = site.put("/gbk.html", Document(body, content_type="text/html; charset=utf-8"))
    async with collector_for(settings, redis, clock, rng,
                             {"id": "p", "kind": "page", "url": url,
                              "selectors": PAGE_SELECTORS}) as c:
        outcome = (await poll_all(c, clock))["p"]
    assert [i.title for i in outcome.new_items] == [rows[0][0]]


async def test_gzip_bodies_are_decoded(site, settings, redis, clock, rng):
    site.put("/z.xml", Document(rss("t", NEWS)))
    async with collector_for(settings, redis, clock, rng,
                             {"id": "z", "url": site.url("/gzip/z.xml")}) as c:
        outcome = (await poll_all(c, clock))["z"]
    assert len(outcome.new_items) == 2


async def test_retry_after_is_honoured(site, settings, redis, clock, rng):
    url = site.put("/busy.xml", Document(b"slow down", status=429,
                                         headers={"Retry-After": "7200"}, conditional=False))
    async with collector_for(settings, redis, clock, rng, {"id": "b", "url": url}) as c:
        outcome = (await poll_all(c, clock))["b"]
        assert outcome.error.reason is FetchReason.RATE_LIMITED
        assert outcome.state.next_poll - clock.now().timestamp() >= 7200
        site.put("/busy.xml", Document(rss("t", NEWS)))
        clock.advance(7100)
        assert await c.scheduler.run_once() == []  # still inside the wait it asked for
        clock.advance(200)
        [outcome] = await c.scheduler.run_once()
    assert outcome.outcome == "ok" and len(site.hits_for("/busy.xml")) == 2


async def test_server_errors_back_off_exponentially_with_a_cap(site, settings, redis, clock, rng):
    url = site.put("/down.xml", Document(b"oops", status=500, conditional=False))
    async with collector_for(settings, redis, clock, rng,
                             {"id": "d", "url": url, "interval": 600}) as c:
        delays = []
        outcome = (await poll_all(c, clock))["d"]
        for _ in range(8):
            delay = outcome.state.next_poll - clock.now().timestamp()
            delays.append(delay)
            clock.advance(delay + 0.001)  # timedelta keeps microseconds only
            [outcome] = await c.scheduler.run_once()
    assert outcome.state.failures == 9
    assert outcome.state.last_error.endswith("answered 500 Internal Server Error (server error)")
    assert 540 <= delays[0] <= 660 and 1080 <= delays[1] <= 1320
    assert all(b > a for a, b in zip(delays[:5], delays[1:6], strict=True))
    assert max(delays) <= settings.backoff_cap * 1.1


@pytest.mark.parametrize(
    ("path", "document", "reason", "words"),
    [
        ("/bad.xml", Document(b"<<< this & that >>> {not: xml}", conditional=False),
         FetchReason.PARSE, "not a readable feed"),
        ("/empty.xml", Document(b"   \n", conditional=False), FetchReason.EMPTY, "empty document"),
        ("/html.xml", Document(b"<!DOCTYPE html><html><body><p>login</p></body></html>",
                               content_type="text/html", conditional=False),
         FetchReason.PARSE, "HTML page, not a feed"),
        ("/big.xml", Document(b"<rss>" + b" " * 400_000 + b"</rss>", conditional=False),
         FetchReason.TOO_LARGE, "limit"),
        ("/missing.xml", None, FetchReason.HTTP_4XX, "404 Not Found; check the address"),
        ("/redirect-loop/0", None, FetchReason.REDIRECTS, "redirect loop"),
        ("/slow-headers", None, FetchReason.TIMEOUT, "time limit"),
        ("/slow-body", None, FetchReason.TIMEOUT, "time limit"),
        ("/endless", None, FetchReason.TOO_LARGE, "limit"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_broken_sources_fail_in_plain_words(path, document, reason, words, site, settings,
                                                  redis, clock, rng):
    if document:
        site.put(path, document)
    async with collector_for(settings, redis, clock, rng, {"id": "x", "url": site.url(path)}) as c:
        outcome = (await poll_all(c, clock))["x"]
    assert outcome.outcome == "error"
    assert outcome.error.reason is reason
    assert words in outcome.state.last_error
    assert outcome.state.failures == 1


async def test_truncated_feed_keeps_the_entries_it_has(site, settings, redis, clock, rng):
    body = rss("t", NEWS)
    url = site.put("/cut.xml", Document(body[: body.index(b"</item>") + 7]))
    async with collector_for(settings, redis, clock, rng, {"id": "x", "url": url}) as c:
        outcome = (await poll_all(c, clock))["x"]
    assert [i.title for i in outcome.new_items] == [NEWS[0][0]]


async def test_endless_body_under_a_large_limit_times_out(site, settings, redis, clock, rng):
    big = settings.model_copy(update={"max_body_bytes": 10**9})
    async with collector_for(big, redis, clock, rng, {"id": "x", "url": site.url("/endless")}) as c:
        outcome = (await poll_all(c, clock))["x"]
    assert outcome.error.reason is FetchReason.TIMEOUT


async def test_bounded_redirects_are_followed(site, settings, redis, clock, rng):
    site.put("/feeds/redirected.xml", Document(rss("t", NEWS)))
    async with collector_for(settings, redis, clock, rng,
                             {"id": "r", "url": site.url("/redirect/3")}) as c:
        outcome = (await poll_all(c, clock))["r"]
    assert outcome.outcome == "ok" and len(outcome.new_items) == 2


async def test_one_broken_source_does_not_delay_the_others(site, settings, redis, clock, rng):
    """A source that hangs holds one slot; the healthy ones are polled and emitted meanwhile."""
    import asyncio

    healthy = [site.put(f"/ok{i}.xml", Document(rss("t", [(f"新闻{i}", f"http://e.cn/{i}",
                                                           "2026-11-20")])))
               for i in range(3)]
    sources = [{"id": f"ok{i}", "url": u} for i, u in enumerate(healthy)]
    sources.append({"id": "hang", "url": site.url("/slow-headers")})
    site.slow_seconds = 30
    stop = asyncio.Event()
    async with collector_for(settings, redis, clock, rng, *sources) as c:
        clock.advance(61)
        runner = asyncio.create_task(c.scheduler.run(stop))
        for _ in range(200):
            states = await c.sources.load_many([f"ok{i}" for i in range(3)])
            if all(s.last_success for s in states.values()):
                break
            await asyncio.sleep(0.01)
        hang_state = await c.sources.load("hang")
        stop.set()
        await runner
    assert all(s.items_total == 1 for s in states.values())
    assert hang_state.last_poll == 0  # still in flight when the others were done


async def test_per_host_connection_limit_is_respected(site, settings, redis, clock, rng):
    for n in range(6):
        site.put(f"/h{n}.xml", Document(rss("t", [(f"新闻{n}", f"http://e.cn/{n}", "2026-11-20")])))
    limited = settings.model_copy(update={"per_host": 2, "concurrency": 16})
    sources = [{"id": f"h{n}", "url": site.url(f"/delay/h{n}.xml")} for n in range(6)]
    async with collector_for(limited, redis, clock, rng, *sources) as c:
        outcomes = await poll_all(c, clock)
    assert all(o.outcome == "ok" for o in outcomes.values())
    assert site.delayed_max == 2
