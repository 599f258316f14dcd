"""Real-world feeds and pages from other projects' test suites (../shared/data/feeds).

Every fixture goes through decode → parse → normalise: no exception other than our own
per-feed FetchError may escape, nothing may hang, and the Chinese pages decode to their
real titles, also when re-encoded as GBK/GB18030 with wrong or missing declarations.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.collect.encoding import decode
from monitor.collect.normalize import to_item
from monitor.collect.parse import parse
from monitor.config import Selectors, Source
from monitor.errors import FetchError
from monitor.models import FetchResult
from tests.conftest import SHARED_DATA, needs_shared_data

pytestmark = [needs_shared_data, pytest.mark.data]

FEEDS = SHARED_DATA / "feeds"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
RSS_SOURCE = Source(id="fixture", name="fixture", kind="rss", url="http://127.0.0.1/feed.xml")
_HEADER = re.compile(rb"^Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)

PAGE_TITLES = {
    "detail/china_news1.html": "【中国稳健前行】坚定实施扩大内需战略 -中新网",
    "detail/netease_news1.html": "美国新冠肺炎确诊病例超278万例 死亡129227例_网易新闻",
    "list/netease_international_news.html": "国际新闻_网易新闻中心",
    "list/netease_rolling_news.html": "最新滚动新闻_网易新闻中心",
    "list/rtfund_xxpl.html": "信息披露_融通基金管理有限公司",
    "list/tencent_important_news.html": "新闻中心-腾讯网",
    "list/hrfund_announcement.html": "信息披露_资讯中心_华融基金",
}


def feed_files() -> list[Path]:
    if not FEEDS.is_dir():
        return []
    files = [p for p in (FEEDS / "feedparser" / "tests").rglob("*") if p.is_file()]
    files += [p for p in (FEEDS / "miniflux").rglob("testdata/*") if p.is_file()]
    return sorted(files)


def run_pipeline(body: bytes, content_type: str | None, source: Source = RSS_SOURCE) -> list:
    result = FetchResult(url=source.url, status=200, body=body, content_type=content_type)
    try:
        entries, _ = parse(result, source)
    except FetchError as exc:
        assert str(exc), "a per-feed error must say what is wrong"
        return []
    return [to_item(entry, source, result.url, NOW) for entry in entries]


def test_every_feed_fixture_parses_or_fails_cleanly():
    files = feed_files()
    assert len(files) > 2000
    parsed = failed = 0
    for path in files:
        body = path.read_bytes()
        header = _HEADER.search(body[:2000])
        content_type = header.group(1).decode("latin-1") if header else None
        items = run_pipeline(body, content_type)
        parsed += bool(items)
        failed += not items
        for item in items:
            assert item.published <= NOW and item.published.tzinfo is not None
    assert parsed > 1000, (parsed, failed)


@pytest.mark.parametrize("name", ["http_application_atom_xml_gb2312_charset.xml",
                                  "http_application_atom_xml_gb2312_charset_overrides_encoding.xml",
                                  "http_application_atom_xml_gb2312_encoding.xml"])
def test_gb2312_feed_fixtures_are_read_as_feeds(name):
    body = (FEEDS / "feedparser/tests/encoding" / name).read_bytes()
    content_type = _HEADER.search(body).group(1).decode() if _HEADER.search(body) else None
    result = FetchResult(url=RSS_SOURCE.url, status=200, body=body, content_type=content_type)
    entries, decoded = parse(result, RSS_SOURCE)  # raises if not recognised as a feed
    assert entries == [] and decoded.encoding in ("utf-8", "gb18030")


@pytest.mark.parametrize(("name", "expected"), [
    ("encoding/testdata/koi8r.xml", "Пример RSS ленты"),
    ("encoding/testdata/iso-8859-1.xml", "Café"),
    ("encoding/testdata/utf8-incorrect-prolog.xml", "Café"),
    ("encoding/testdata/invalid-prolog.xml", "Café"),
    ("encoding/testdata/windows-1252.xml", "Euro €"),
    ("encoding/testdata/windows-1252-incorrect-prolog.xml", "Euro €"),
])
def test_miniflux_encoding_cases_decode_to_their_text(name, expected):
    body = (FEEDS / "miniflux/internal/reader" / name).read_bytes()
    assert expected in decode(body, None).text


@pytest.mark.parametrize(("name", "title"), sorted(PAGE_TITLES.items()))
@pytest.mark.parametrize("encoding", ["as-is", "gbk", "gb18030"])
def test_chinese_pages_decode_to_their_titles(name, title, encoding):
    """The pages are stored as UTF-8 while many declare gbk/gb2312; re-encoded as GBK or
    GB18030 their declarations are true, or (for the UTF-8-declaring ones) wrong."""
    raw = (FEEDS / "gerapy_auto_extractor/samples" / name).read_bytes()
    body = raw if encoding == "as-is" else raw.decode("utf-8").encode(encoding, "replace")
    for content_type in (None, "text/html; charset=ISO-8859-1", "text/html; charset=utf-8"):
        decoded = decode(body, content_type)
        node = LexborHTMLParser(decoded.text).css_first("title")
        assert node is not None and node.text().strip() == title, (content_type, decoded)


def test_chinese_list_pages_go_through_the_page_parser():
    source = Source(id="page", name="page", kind="page", url="http://127.0.0.1/list/",
                    selectors=Selectors(item="li", title="a", link="a"))
    total = 0
    for path in sorted((FEEDS / "gerapy_auto_extractor/samples/list").glob("*.html")):
        items = run_pipeline(path.read_bytes(), "text/html", source)
        assert all(i.link is None or i.link.startswith("http") for i in items)
        total += len(items)
    assert total > 100
