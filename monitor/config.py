"""One validated configuration: feeds.yaml (the sources) and the environment (the settings).

feeds.yaml is read into strict models (unknown keys are errors). Every problem is reported
with the file, the line and the field, all at once, so an operator fixes the file in one go.
"""

from __future__ import annotations

import codecs
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.errors import ConfigError
from monitor.urlcheck import http_address, listen_url, redis_address
from monitor.yamlconfig import duplicate_ids, load_yaml_model

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """'90s', '15m', '1h', '1d' or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90s, 15m or 1h")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 15m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Kind(StrEnum):
    RSS = "rss"  # RSS, Atom and RDF feeds
    PAGE = "page"  # an HTML list page read with CSS selectors


class Channel(StrEnum):
    WEBSITE = "website"
    PRESS_CONFERENCE = "press_conference"
    INTERVIEW = "interview"
    POLICY_INTERPRETATION = "policy_interpretation"
    WEIBO = "weibo"
    WECHAT = "wechat"
    MESSAGE_BOARD = "message_board"
    NEWS = "news"


class Selectors(BaseModel):
    """CSS selectors for a list page; title/link/date are looked up inside each item."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    item: str
    title: str = "a"
    link: str = "a"
    link_attr: str = "href"
    date: str | None = None


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    name: Annotated[str, Field(min_length=1)]
    kind: Kind = Kind.RSS
    url: str | None = None
    # A route of RSSHub (Weibo users, WeChat accounts, message boards …) instead of a url,
    # e.g. /weibo/user/1234567890: resolved against RSSHUB_URL (resolve_routes).
    rsshub: str | None = None
    # Other addresses of the same feed, tried in order when the first one fails (for a
    # route: the same route on the other RSSHub instances of RSSHUB_URL).
    mirrors: tuple[str, ...] = ()
    interval: Duration = 900.0
    # A message board's list of answered messages (e.g. RSSHub /people/liuyan/<id>/4): each
    # entry is the board's answer (答复) to the message at its link, first seen at this poll.
    answers: bool = False
    official: bool = False
    channel: Channel = Channel.NEWS
    region: str | None = None
    group: str | None = None
    encoding: str | None = None
    selectors: Selectors | None = None
    # Intranet sites only: lets this source (and its redirects) reach loopback, private,
    # link-local and other non-public addresses, which are refused otherwise (SSRF).
    allow_private: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        return None if url is None else _http(url)

    @field_validator("mirrors")
    @classmethod
    def _http_mirrors(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(map(_http, urls))

    @field_validator("rsshub")
    @classmethod
    def _route(cls, route: str | None) -> str | None:
        if route is not None and (not route.startswith("/") or "://" in route
                                  or any(c.isspace() for c in route)):
            raise ValueError(f"{route!r} is not an RSSHub route; write the path only, "
                             "e.g. /weibo/user/1234567890")
        return route

    @field_validator("interval")
    @classmethod
    def _sane_interval(cls, seconds: float) -> float:
        if seconds < 1:
            raise ValueError("interval must be at least 1s")
        return seconds

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            return codecs.lookup(name).name
        except LookupError:
            raise ValueError(f"unknown encoding {name!r} (e.g. gb18030, gbk, utf-8)") from None

    @model_validator(mode="after")
    def _one_address(self) -> Source:
        if (self.url is None) == (self.rsshub is None):
            raise ValueError("give either url (an address) or rsshub (a route), not both"
                             if self.url else "give url (an address) or rsshub (a route)")
        if self.rsshub is not None and self.kind is not Kind.RSS:
            raise ValueError("an rsshub route is a feed: kind must be rss")
        if self.answers and self.channel is not Channel.MESSAGE_BOARD:
            raise ValueError("answers: true is for a message board (channel: message_board)")
        return self

    @model_validator(mode="after")
    def _selectors_match_kind(self) -> Source:
        if self.kind is Kind.PAGE and self.selectors is None:
            raise ValueError("a page source needs selectors (item, title, link, date)")
        if self.kind is Kind.RSS and self.selectors is not None:
            raise ValueError("selectors are only for kind: page")
        return self


class FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    sources: list[Source]

    def by_id(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources)
        raise ConfigError([f"no source with id {source_id!r}; known ids: {known}"])


def _http(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) address")
    return url


def resolve_routes(feeds: FeedsFile, bases: list[str]) -> tuple[FeedsFile, list[str]]:
    """RSSHub routes as addresses on the instances of RSSHUB_URL (the first, then the
    others as mirrors). Without any instance such sources cannot be polled: they are left
    out, and their ids returned so that start-up and check-config can name them."""
    resolved, unresolved = [], []
    for source in feeds.sources:
        if source.rsshub is None:
            resolved.append(source)
        elif not bases:
            unresolved.append(source.id)
        else:
            urls = [base.rstrip("/") + source.rsshub for base in bases]
            resolved.append(source.model_copy(update={
                "url": urls[0], "rsshub": None, "mirrors": (*urls[1:], *source.mirrors)}))
    return feeds.model_copy(update={"sources": resolved}), unresolved


def load_feeds(path: Path) -> FeedsFile:
    """Read and validate feeds.yaml; raise ConfigError listing every problem."""
    return load_yaml_model(path, FeedsFile, checks=(duplicate_ids("sources"),))


class Settings(BaseSettings):
    """Settings from the environment; the names are the ones an operator sets."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    # Where officers open the page; alerts link to {public_url}/events/<id>. Unset: the
    # listen address and port (see _default_public_url).
    public_url: str = Field(default="", alias="MONITOR_PUBLIC_URL")
    officers_file: Path = Field(default=Path("officers.yaml"), alias="MONITOR_OFFICERS")
    # Reads (the page, GET /api/…) are open from loopback unless this is set: behind a
    # reverse proxy on the same machine every visitor looks like loopback.
    reads_need_sign_in: bool = Field(default=False, alias="MONITOR_READS_NEED_SIGN_IN")
    # The bearer token Alertmanager sends to POST /alertmanager/webhook; unset: the route
    # answers 503 (monitor/web/alertmanager.py).
    alertmanager_token: SecretStr | None = Field(default=None,
                                                 alias="MONITOR_ALERTMANAGER_TOKEN")
    # One or more RSSHub instances, comma-separated: routes go to the first, then the next.
    rsshub_url: str | None = Field(default=None, alias="RSSHUB_URL")
    feeds_file: Path = Field(default=Path("feeds.yaml"), alias="MONITOR_FEEDS")
    tracking_file: Path | None = Field(default=Path("tracking.yaml"), alias="MONITOR_TRACKING")
    data_dir: Path = Field(default=Path("var"), alias="MONITOR_DATA_DIR")
    key_prefix: str = Field(default="yq:", alias="MONITOR_KEY_PREFIX")
    http_host: str = Field(default="127.0.0.1", alias="MONITOR_HTTP_HOST")
    http_port: int = Field(default=8080, ge=0, le=65535, alias="MONITOR_HTTP_PORT")
    user_agent: str = Field(
        default="yuqing-monitor/0.1 (+public-opinion response monitor; polite polling)",
        alias="MONITOR_USER_AGENT",
    )
    concurrency: int = Field(default=16, ge=1, le=1000, alias="MONITOR_CONCURRENCY")
    per_host: int = Field(default=2, ge=1, le=100, alias="MONITOR_PER_HOST_CONCURRENCY")
    connect_timeout: Duration = Field(default=10.0, alias="MONITOR_CONNECT_TIMEOUT")
    read_timeout: Duration = Field(default=20.0, alias="MONITOR_READ_TIMEOUT")
    total_timeout: Duration = Field(default=60.0, alias="MONITOR_TOTAL_TIMEOUT")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, alias="MONITOR_MAX_BODY_BYTES")
    max_redirects: int = Field(default=5, ge=0, le=20, alias="MONITOR_MAX_REDIRECTS")
    retention: Duration = Field(default=90 * 86400.0, alias="MONITOR_ITEM_RETENTION")
    backoff_cap: Duration = Field(default=6 * 3600.0, alias="MONITOR_BACKOFF_CAP")
    jitter: float = Field(default=0.1, ge=0, le=0.5, alias="MONITOR_JITTER")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")  # SQL history
    archive_after: Duration = Field(default=30 * 86400.0, alias="MONITOR_ARCHIVE_AFTER")
    consumer_groups: str = Field(default="track", alias="MONITOR_CONSUMER_GROUPS")
    log_format: Literal["json", "console"] = Field(default="json", alias="MONITOR_LOG_FORMAT")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", alias="MONITOR_LOG_LEVEL"
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_address(cls, url: str | None) -> str | None:
        return redis_address(url) if url else None  # empty: the embedded server

    @field_validator("rsshub_url")
    @classmethod
    def _rsshub_addresses(cls, value: str | None) -> str | None:
        for base in (value or "").split(","):
            if base.strip():
                http_address(base.strip())
        return value

    @property
    def rsshub_bases(self) -> list[str]:
        return [b.strip().rstrip("/") for b in (self.rsshub_url or "").split(",") if b.strip()]

    @field_validator("database_url")
    @classmethod
    def _database_address(cls, url: str | None) -> str | None:
        from monitor.history.db import check_database_url  # late: SQLAlchemy only when set

        return check_database_url(url) if url else None  # empty: the SQLite file

    @field_validator("public_url")
    @classmethod
    def _public_address(cls, url: str) -> str:
        return http_address(url).rstrip("/") if url else ""

    @model_validator(mode="after")
    def _default_public_url(self) -> Settings:
        if not self.public_url:
            self.public_url = listen_url(self.http_host, self.http_port)
        return self

    @property
    def group_names(self) -> list[str]:
        return [g.strip() for g in self.consumer_groups.split(",") if g.strip()]


def env_file() -> Path | None:
    """The env file every `monitor` command reads under the environment: $MONITOR_ENV_FILE,
    else `.env` in the working directory if there is one. So `monitor outbox`, `monitor
    sources` … started beside `make run` see the service's settings without repeating them."""
    named = os.environ.get("MONITOR_ENV_FILE")
    if named:
        if not Path(named).is_file():
            raise ConfigError([f"environment MONITOR_ENV_FILE: {named} does not exist"])
        return Path(named)
    return Path(".env") if Path(".env").is_file() else None


def environment() -> dict[str, str]:
    """The process environment over the env file's values (the environment wins)."""
    from dotenv import dotenv_values  # pydantic-settings' own env-file reader

    path = env_file()
    values = dotenv_values(path) if path else {}
    return {**{k: v for k, v in values.items() if v is not None}, **os.environ}


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and the env file (and overrides); ConfigError names
    the variable."""
    try:
        return Settings(_env_file=env_file(), **overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "settings"
            alias = Settings.model_fields[field].alias if field in Settings.model_fields else field
            problems.append(f"environment {alias}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigError(problems) from exc
