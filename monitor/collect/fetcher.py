"""HTTP fetching, polite and bounded.

Conditional GET (ETag / Last-Modified), gzip (aiohttp decodes it), a bounded number of
redirects, a connection limit overall and per host, connect/read/total timeouts, a maximum
body size counted after decompression, and Retry-After honoured on 429/503. Every failure
leaves here as a FetchError with a reason and a sentence an operator can act on.

Two sessions: sources that may reach private addresses (`allow_private`) use their own, so
a pooled connection or a cached DNS answer of an intranet source never serves another
source; every other source connects only to public addresses (see addresses.py).
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterable
from datetime import datetime

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from monitor.collect.addresses import AddressPolicy, AddressRefused, GuardedResolver, IPNetwork
from monitor.config import Settings
from monitor.errors import FetchError, FetchReason
from monitor.models import FetchJob, FetchResult

_CHUNK = 64 * 1024


class Fetcher:
    def __init__(self, settings: Settings, now: Callable[[], datetime], *,
                 resolver: AbstractResolver | None = None,
                 exempt_networks: Iterable[IPNetwork] = ()) -> None:
        self._settings = settings
        self._now = now
        self._resolver = resolver  # tests inject one; None means the system's
        self._policy = AddressPolicy(exempt_networks)
        self._sessions: dict[bool, aiohttp.ClientSession] = {}  # by allow_private

    async def __aenter__(self) -> Fetcher:
        inner = self._resolver or DefaultResolver()
        self._sessions = {
            False: self._session_with(GuardedResolver(self._policy, inner),
                                      self._policy.socket_for),
            True: self._session_with(inner, None),
        }
        return self

    def _session_with(self, resolver: AbstractResolver, socket_factory) -> aiohttp.ClientSession:
        s = self._settings
        connector = aiohttp.TCPConnector(limit=s.concurrency, limit_per_host=s.per_host,
                                         ttl_dns_cache=300, resolver=resolver,
                                         socket_factory=socket_factory)
        timeout = aiohttp.ClientTimeout(total=s.total_timeout, sock_connect=s.connect_timeout,
                                        sock_read=s.read_timeout)
        return aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate",
                     "Accept": "application/rss+xml, application/atom+xml, application/xml, "
                               "text/xml, text/html;q=0.9, */*;q=0.8"},
            auto_decompress=True,
        )

    async def __aexit__(self, *exc_info: object) -> None:
        for session in self._sessions.values():
            await session.close()

    async def fetch(self, job: FetchJob) -> FetchResult:
        try:
            return await self._fetch(job)
        except FetchError:
            raise
        except aiohttp.TooManyRedirects as exc:
            raise FetchError(FetchReason.REDIRECTS,
                             f"more than {self._settings.max_redirects} redirects "
                             f"(a redirect loop?) starting at {job.url}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise _connect_error(job, exc) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise FetchError(FetchReason.TIMEOUT,
                             f"no complete answer within the time limit from {job.url}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(FetchReason.BAD_CONTENT,
                             f"the body from {job.url} was cut off or corrupt ({exc})") from exc
        except aiohttp.InvalidURL as exc:
            raise FetchError(FetchReason.OTHER, f"invalid address {exc}",
                             retryable=False) from exc
        except aiohttp.ClientError as exc:
            raise FetchError(FetchReason.CONNECT,
                             f"connection to {job.url} failed ({exc.__class__.__name__}: {exc})"
                             ) from exc

    async def _fetch(self, job: FetchJob) -> FetchResult:
        assert self._sessions, "use `async with Fetcher(...)`"
        headers = {}
        if job.etag:
            headers["If-None-Match"] = job.etag
        if job.last_modified:
            headers["If-Modified-Since"] = job.last_modified
        session = self._sessions[job.allow_private]
        async with session.get(job.url, headers=headers,
                               max_redirects=self._settings.max_redirects) as response:
            final_url = str(response.url)
            if response.status == 304:
                return FetchResult(url=final_url, status=304, not_modified=True,
                                   etag=response.headers.get("ETag") or job.etag,
                                   last_modified=response.headers.get("Last-Modified")
                                   or job.last_modified)
            self._raise_for_status(response, job)
            body = await self._read_limited(response, job)
            return FetchResult(
                url=final_url,
                status=response.status,
                body=body,
                content_type=response.headers.get("Content-Type"),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                headers={k.lower(): v for k, v in response.headers.items()},
            )

    def _raise_for_status(self, response: aiohttp.ClientResponse, job: FetchJob) -> None:
        status = response.status
        if status < 400:
            return
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
            reason = FetchReason.RATE_LIMITED if status == 429 else FetchReason.UNAVAILABLE
            wait = f"; it asks us to wait {retry_after:.0f}s" if retry_after else ""
            raise FetchError(reason, f"{job.url} answered {status} {response.reason}{wait}",
                             retry_after=retry_after, status=status)
        if status >= 500:
            raise FetchError(FetchReason.HTTP_5XX,
                             f"{job.url} answered {status} {response.reason} (server error)",
                             status=status)
        # 4xx other than 429: the address or our access is wrong; retrying soon will not help,
        # but sites do fix pages, so keep polling on the slow backoff rather than giving up.
        raise FetchError(FetchReason.HTTP_4XX,
                         f"{job.url} answered {status} {response.reason}; check the address",
                         status=status)

    async def _read_limited(self, response: aiohttp.ClientResponse, job: FetchJob) -> bytes:
        limit = self._settings.max_body_bytes
        declared = response.content_length
        if declared is not None and declared > limit and not response.headers.get(
            "Content-Encoding"
        ):
            raise FetchError(FetchReason.TOO_LARGE,
                             f"{job.url} is {declared} bytes, over the {limit}-byte limit")
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise FetchError(FetchReason.TOO_LARGE,
                                 f"{job.url} sent more than the {limit}-byte limit; "
                                 "stopped reading")
            chunks.append(chunk)
        return b"".join(chunks)


def _connect_error(job: FetchJob, exc: aiohttp.ClientConnectorError) -> FetchError:
    if isinstance(exc.os_error, AddressRefused):
        return FetchError(FetchReason.REFUSED_ADDRESS,
                          f"source {job.source_id}: refused to connect to {exc.os_error} "
                          f"(fetching {job.url}); if this is an intranet site, set "
                          "allow_private: true for the source in feeds.yaml", retryable=False)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FetchError(FetchReason.DNS, f"cannot resolve the host of {job.url}")
    return FetchError(FetchReason.CONNECT,
                      f"cannot connect to {exc.host}:{exc.port} ({exc.os_error})")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())

