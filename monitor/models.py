"""Typed records passed between the stages: fetch job → fetch result → items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from monitor.config import Channel


@dataclass(frozen=True, slots=True)
class FetchJob:
    source_id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    allow_private: bool = False  # the source may reach private addresses (an intranet site)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A completed HTTP exchange: a body, or `not_modified` for a 304."""

    url: str  # the final address after redirects; relative links resolve against it
    status: int
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as the parser found it, before normalisation."""

    title: str
    link: str | None = None
    guid: str | None = None
    summary_html: str = ""
    published: str | None = None  # the text as written in the feed or page
    published_utc: datetime | None = None  # the parser's own reading, when it has one


class Item(BaseModel):
    """A normalised entry: the unit every later stage consumes."""

    model_config = ConfigDict(frozen=True)

    id: str
    source_id: str
    source_name: str
    title: str
    summary: str
    link: str | None
    published: AwareDatetime
    fetched: AwareDatetime
    # True when the source gave no usable time (missing, unreadable or in the future) and
    # `published` is the fetch time, not the source's word.
    published_is_fetch_time: bool = False
    official: bool
    channel: Channel
    region: str | None = None
    quoted: str = ""  # what a social post reposts (转发), apart from the account's own words
    reposts_own: bool = False  # an official account reposting its own earlier post
