"""Fetched documents → raw entries: feeds through feedparser, list pages through CSS selectors."""

from __future__ import annotations

import calendar
import io
import re
from datetime import UTC, datetime

import feedparser
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from monitor.collect.encoding import Decoded, as_utf8_xml, decode
from monitor.config import Kind, Selectors, Source
from monitor.errors import FetchError, FetchReason
from monitor.models import FetchResult, RawEntry

_UTF8_XML = {"content-type": "application/xml; charset=utf-8"}
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def parse(result: FetchResult, source: Source) -> tuple[list[RawEntry], Decoded]:
    if not result.body.strip():
        raise FetchError(FetchReason.EMPTY, f"{result.url} returned an empty document")
    decoded = decode(result.body, result.content_type, source.encoding)
    if source.kind is Kind.PAGE:
        assert source.selectors is not None  # the config requires them for pages
        return parse_page(decoded.text, source.selectors), decoded
    return parse_feed(decoded, result.url), decoded


def parse_feed(decoded: Decoded, url: str) -> list[RawEntry]:
    # A file-like object, never bytes or str: feedparser would treat a body that looks like
    # a path or an address as one, and read it.
    xml = _CHAR_REF.sub(_no_impossible_chars, as_utf8_xml(decoded))
    parsed = feedparser.parse(io.BytesIO(xml), response_headers=_UTF8_XML,
                              sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        # A feed with no entries is fine; a document that is not a feed at all is not.
        raise FetchError(FetchReason.PARSE, f"{url} is not a readable feed: "
                         f"{_bozo_words(parsed.get('bozo_exception'), decoded.text)}")
    return [_feed_entry(entry) for entry in parsed.entries]


def _no_impossible_chars(ref: re.Match) -> bytes:
    """A character reference to a lone surrogate (&#xD800;) or past U+10FFFF makes
    feedparser raise, losing the whole feed: it becomes U+FFFD, in that entry only."""
    hex_digits, digits = ref.groups()
    code = int(hex_digits, 16) if hex_digits else int(digits)
    return ref.group(0) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else b"&#xFFFD;"


def _bozo_words(exc: Exception | None, text: str) -> str:
    if text.lstrip()[:200].lower().startswith(("<!doctype html", "<html")):
        return "the address returns an HTML page, not a feed (moved, or a login/captcha page?)"
    return f"invalid XML ({exc})" if exc else "no RSS, Atom or RDF structure found"


def _feed_entry(entry: feedparser.FeedParserDict) -> RawEntry:
    parsed_time = entry.get("published_parsed") or entry.get("updated_parsed") \
        or entry.get("created_parsed")
    return RawEntry(
        title=entry.get("title", "") or "",
        link=entry.get("link") or None,
        guid=entry.get("id") or None,
        summary_html=_summary(entry),
        published=entry.get("published") or entry.get("updated") or entry.get("created"),
        published_utc=(datetime.fromtimestamp(calendar.timegm(parsed_time), UTC)
                       if parsed_time else None),
    )


def _summary(entry: feedparser.FeedParserDict) -> str:
    if entry.get("summary"):
        return entry["summary"]
    for content in entry.get("content") or []:
        if content.get("value"):
            return content["value"]
    return ""


def parse_page(html: str, selectors: Selectors) -> list[RawEntry]:
    tree = HTMLParser(html)
    entries = []
    for node in tree.css(selectors.item):
        title_node = node.css_first(selectors.title) if selectors.title else node
        link_node = node.css_first(selectors.link)
        title = _text(title_node)
        if not title:
            continue
        link = link_node.attributes.get(selectors.link_attr) if link_node else None
        date_node = node.css_first(selectors.date) if selectors.date else None
        entries.append(RawEntry(title=title, link=link or None,
                                published=_text(date_node) or None))
    if not entries and not tree.css_first(selectors.item):
        raise FetchError(FetchReason.PARSE,
                         f"no element matches the item selector {selectors.item!r}; "
                         "the page layout may have changed")
    return entries


def _text(node: Node | None) -> str:
    if node is None:
        return ""
    return " ".join((node.attributes.get("title") or node.text(separator=" ")).split())
