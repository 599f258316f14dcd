"""Raw entries → items: ids, links, text and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.collect.normalize import (
    CHINA_TZ,
    absolute_link,
    canonical_link,
    item_id,
    parse_time_text,
    plain_text,
    printable,
    to_item,
)
from monitor.config import Source
from monitor.models import RawEntry

FETCHED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SOURCE = Source(id="yn-gov", name="云南省人民政府", kind="rss", url="https://www.yn.gov.cn/rss.xml",
                official=True, channel="press_conference", region="昆明")


def test_id_prefers_guid_then_canonical_link_then_title():
    by_guid = item_id("s", "urn:1", "http://a.cn/x", "t")
    assert by_guid == item_id("s", "urn:1", "http://b.cn/other", "other title")
    by_link = item_id("s", None, "HTTP://A.cn/x?utm_source=wx&b=2&a=1#top", "t")
    assert by_link == item_id("s", "", "http://a.cn/x?a=1&b=2", "changed title")
    assert item_id("s", None, None, "t") != item_id("s", None, None, "t2")
    assert item_id("s1", "urn:1", None, "t") != item_id("s2", "urn:1", None, "t")
    assert by_guid.startswith("s:")


def test_canonical_link_drops_tracking_and_fragment():
    assert canonical_link("HTTPS://WWW.Gov.CN/a?spm=1&id=3#x") == "https://www.gov.cn/a?id=3"


@pytest.mark.parametrize(("link", "expected"), [
    ("/a/1.html", "https://www.yn.gov.cn/a/1.html"),
    ("2.html", "https://www.yn.gov.cn/zw/2.html"),
    ("//cdn.yn.gov.cn/3.html", "https://cdn.yn.gov.cn/3.html"),
    ("javascript:void(0)", None),
    ("mailto:a@b.cn", None),
    ("", None),
])
def test_links_become_absolute(link, expected):
    assert absolute_link(link, "https://www.yn.gov.cn/zw/index.html") == expected


def test_plain_text_strips_html_and_decodes_entities():
    html = "<p>关于&ldquo;放管服&rdquo;改革<script>x()</script><br/>的&nbsp;通知 &amp; 解读</p>"
    assert plain_text(html) == "关于“放管服”改革 的 通知 & 解读"
    assert plain_text("a &lt;b&gt; c") == "a <b> c"


@pytest.mark.parametrize(("text", "expected"), [
    ("Mon, 23 Nov 2026 10:00:00 +0800", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    ("Mon, 23 Nov 2026 10:00:00", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    ("Mon, 23 Nov 2026 02:00:00 -0000", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    ("2026-11-23T02:00:00Z", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    ("2026-11-23 10:00:00", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    ("2026年11月23日 10:00", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    ("发布时间：2026-11-20", datetime(2026, 11, 19, 16, 0, tzinfo=UTC)),
    ("[11-20]", datetime(2026, 11, 19, 16, 0, tzinfo=UTC)),
    ("12-25", datetime(2025, 12, 24, 16, 0, tzinfo=UTC)),  # no year, would be future: last year
    ("not a date", None),
    ("Seg, 24 Set 2012 07 -0300", None),  # Portuguese; the loose reading made it 3 July
    ("2012 07 -0300", None),
    ("11-205", None),
])
def test_times_without_zone_are_beijing_time(text, expected):
    assert parse_time_text(text, FETCHED) == expected


def test_item_carries_source_facts_and_clamps_future_times():
    raw = RawEntry(title=" 红河州 <b>通报</b> ", link="/a.html", guid=None,
                   summary_html="<p>正文</p>", published="2027-01-01 00:00:00")
    item = to_item(raw, SOURCE, SOURCE.url, FETCHED)
    assert item.title == "红河州 通报" and item.summary == "正文"
    assert item.link == "https://www.yn.gov.cn/a.html"
    assert item.published == FETCHED  # a future time is clamped to the fetch time
    assert (item.official, item.channel, item.region) == (True, "press_conference", "昆明")


def test_missing_time_is_fetch_time_and_parser_reading_is_a_fallback():
    assert to_item(RawEntry(title="t"), SOURCE, SOURCE.url, FETCHED).published == FETCHED
    reading = FETCHED - timedelta(days=1)
    raw = RawEntry(title="t", published="Κυρ, 11 Ιούλ 2004", published_utc=reading)
    assert to_item(raw, SOURCE, SOURCE.url, FETCHED).published == reading
    assert to_item(raw, SOURCE, SOURCE.url, FETCHED).published.tzinfo is not None
    assert CHINA_TZ.key == "Asia/Shanghai"


def test_control_characters_are_dropped_from_text():
    assert plain_text("通报\x1b[2J\x00事故\x07 <b>\x9b续报</b>") == "通报[2J事故 续报"
    assert plain_text("a\tb\r\nc\x0bd\x85e") == "a b c d e"  # whitespace still separates


def test_printable_escapes_what_would_drive_a_terminal():
    assert printable("通报\x1b[2Jx\u202e") == "通报\\x1b[2Jx\\u202e"


@pytest.mark.parametrize(("published", "from_fetch"), [
    ("Mon, 23 Nov 2026 10:00:00 +0800", False),
    ("Seg, 24 Set 2012 07 -0300", True),  # unreadable
    (None, True),  # missing
    ("2027-01-01 00:00:00", True),  # in the future
])
def test_item_says_when_its_time_is_the_fetch_time(published, from_fetch):
    item = to_item(RawEntry(title="t", published=published), SOURCE, SOURCE.url, FETCHED)
    assert item.published_is_fetch_time is from_fetch
    assert (item.published == FETCHED) is from_fetch
