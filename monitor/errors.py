"""The exception tree of the service.

    MonitorError                 anything the service reports to an operator
     ├── ConfigError             feeds.yaml or environment is wrong (carries every problem)
     ├── StoreError              Redis is unreachable or the embedded server will not start
     └── FetchError              one poll of one source failed
          reason: FetchReason    a fixed word that becomes a metric label
          retryable: bool        whether waiting and polling again can help
          retry_after: float     seconds the site asked us to wait (429/503), if any

Foreign exceptions (aiohttp, feedparser, redis) are mapped to these at the boundary and
chained with `from exc`, so logs keep the cause while callers handle one tree.
"""

from __future__ import annotations

from enum import StrEnum


class MonitorError(Exception):
    """Base of every error the service reports in plain words."""


class ConfigError(MonitorError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class StoreError(MonitorError):
    pass


class FetchReason(StrEnum):
    DNS = "dns"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    REDIRECTS = "redirects"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    BAD_CONTENT = "bad_content"
    EMPTY = "empty"
    PARSE = "parse"
    REFUSED_ADDRESS = "refused_address"  # a private/loopback/... address, not allowed (SSRF)
    DECODE_SUSPECT = "decode_suspect"  # decoded text in the wrong script: items held back
    OTHER = "other"


class FetchError(MonitorError):
    def __init__(
        self,
        reason: FetchReason,
        message: str,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status

    @property
    def message(self) -> str:
        return str(self)
