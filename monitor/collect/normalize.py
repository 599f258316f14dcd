"""Raw entries → normalised items: stable id, plain text, absolute link, aware times."""

from __future__ import annotations

import email.utils
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from monitor.collect.social import is_board_reply, read_post
from monitor.config import Channel, Source
from monitor.models import Item, RawEntry

# Feeds and pages that give no zone are Chinese sites writing Beijing time.
CHINA_TZ = ZoneInfo("Asia/Shanghai")
SUMMARY_MAX_CHARS = 4000
_TRACKING = re.compile(r"^(utm_|spm$|from$|share_|wfr$)")
# Spaces only around 年/月/日, and no digit just before or after the numbers: the loose
# reading once took "… 2012 07 -0300" for 3 July.
_CN_DATE = re.compile(
    r"(?<!\d)(?:(\d{4})(?:\s*年\s*|[/.\-]))?(\d{1,2})(?:\s*月\s*|[/.\-])(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)
# C0 and C1 control characters (NUL, ESC, ...) other than whitespace, which split() folds.
_CONTROLS = dict.fromkeys(c for c in [*range(0x20), *range(0x7F, 0xA0)]
                          if not chr(c).isspace())


def to_item(raw: RawEntry, source: Source, base_url: str, fetched: datetime) -> Item:
    link = absolute_link(raw.link, base_url)
    published, from_fetch = published_time(raw, fetched)
    if source.channel in (Channel.WEIBO, Channel.WECHAT):
        text = _social_text(raw, source)
    else:
        text = _Text(plain_text(raw.title) or "(无标题)", plain_text(raw.summary_html))
    official = source.official
    if source.channel is Channel.MESSAGE_BOARD:  # netizens' messages, and the board's answers
        official = source.answers or is_board_reply(text.title)
        if source.answers:
            text = _as_answer(text)
            # the list gives the message's time; the answer is known from when it is listed
            published, from_fetch = fetched, True
    return Item(
        # the id keeps the feed's title: a route that changes how it titles posts must not
        # make every post new again
        id=item_id(source.id, raw.guid, link, plain_text(raw.title) or text.title),
        source_id=source.id,
        source_name=source.name,
        title=text.title,
        summary=text.summary[:SUMMARY_MAX_CHARS],
        link=link,
        published=published,
        fetched=fetched,
        published_is_fetch_time=from_fetch,
        official=official,
        channel=source.channel,
        region=source.region,
        quoted=text.quoted[:SUMMARY_MAX_CHARS],
        reposts_own=text.reposts_own,
    )


@dataclass(frozen=True, slots=True)
class _Text:
    title: str
    summary: str
    quoted: str = ""
    reposts_own: bool = False


def _as_answer(text: _Text) -> _Text:
    title = text.title if is_board_reply(text.title) else f"答复：{text.title}"
    return _Text(title, text.summary)


def _social_text(raw: RawEntry, source: Source) -> _Text:
    """A post has no title of its own (a WeChat article has): its first sentence is one."""
    post = read_post(plain_text(raw.title), raw.summary_html)
    title = plain_text(raw.title) if source.channel is Channel.WECHAT and raw.title else None
    own = bool(post.quoted_author) and post.quoted_author in source.name
    return _Text(title or post.title, post.own_words, post.quoted,
                 reposts_own=source.official and own)


def item_id(source_id: str, guid: str | None, link: str | None, title: str) -> str:
    """GUID, else canonical link, else title: hashed with the source, stable across polls."""
    key = (f"guid:{guid.strip()}" if guid and guid.strip()
           else f"link:{canonical_link(link)}" if link
           else f"title:{title}")
    digest = hashlib.blake2b(f"{source_id}\n{key}".encode(), digest_size=12).hexdigest()
    return f"{source_id}:{digest}"


def canonical_link(link: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, sorted query."""
    parts = urlsplit(link.strip())
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _TRACKING.match(k))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/",
                       urlencode(query), ""))


def absolute_link(link: str | None, base_url: str) -> str | None:
    link = (link or "").strip()
    if link.startswith(("http://", "https://")) and " " not in link:
        return link  # already absolute: the common case, skip the join
    if not link or link.lower().startswith(("javascript:", "#")):
        return None
    absolute = urljoin(base_url, link)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def plain_text(fragment: str) -> str:
    """HTML stripped, entities decoded, control characters dropped, whitespace collapsed."""
    if not fragment:
        return ""
    if "<" in fragment:
        tree = HTMLParser(fragment)
        lowered = fragment.lower()
        if "<script" in lowered or "<style" in lowered:  # the query costs more than the parse
            for node in tree.css("script, style"):
                node.decompose()
        top = tree.body or tree.root
        fragment = top.text(separator=" ") if top else ""
    # An ESC in a title would drive the terminal of whoever runs `monitor poll`; a NUL
    # truncates it in C tools and chat clients.
    return " ".join(html.unescape(fragment).translate(_CONTROLS).split())


def printable(text: str) -> str:
    """For terminal output: control and other unprintable characters escaped (\\x1b)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def published_time(raw: RawEntry, fetched: datetime) -> tuple[datetime, bool]:
    """As written (no zone → Beijing time), else the parser's reading. A time that is
    missing, unreadable or after the fetch becomes the fetch time, flagged True."""
    when = parse_time_text(raw.published, fetched) if raw.published else None
    when = when or raw.published_utc
    if when is None or when > fetched:
        return fetched, True
    return when, False


def parse_time_text(text: str, fetched: datetime) -> datetime | None:
    text = text.strip()
    when = _rfc822(text) or _iso(text) or _chinese(text, fetched)
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=CHINA_TZ)


def _rfc822(text: str) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 5322: '-0000' is UTC from a sender that will not say its zone; only a missing
    # zone means local (Beijing) time here.
    return when.replace(tzinfo=UTC) if text.endswith("-0000") else when


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _chinese(text: str, fetched: datetime) -> datetime | None:
    """'2019年5月12日 10:30', '2019-05-12', '[05-12]' (year of the fetch, or the one before)."""
    match = _CN_DATE.search(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
    local_fetch = fetched.astimezone(CHINA_TZ)
    try:
        when = datetime(year or local_fetch.year, month, day, hour or 0, minute or 0, second or 0)
    except ValueError:
        return None
    if year is None and when.replace(tzinfo=CHINA_TZ) > local_fetch:
        when = when.replace(year=when.year - 1)
    return when
