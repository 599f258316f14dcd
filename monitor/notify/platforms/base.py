"""What every platform module provides, and the one place a request goes over HTTP.

A platform module has `request(target, payload, now) -> Request` (address, headers, body,
signed at `now`) and `classify(status, headers, body) -> Answer`. Three of the platforms
answer errors inside an HTTP 200 body, so the body is always read and classified.

    Answer.outcome   delivered | retry (rate-limited, busy, 5xx, timeout) | permanent
    Answer.reason    a NotifyReason: the `reason` label of the failure metrics
    Answer.unknown   the request went out and no answer came: the platform may have shown it
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

import aiohttp

from monitor.clock import Clock

T = TypeVar("T")

MAX_ANSWER_BYTES = 64 * 1024


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"


class NotifyReason(StrEnum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    BUSY = "busy"
    HTTP_5XX = "http_5xx"
    TIMEOUT = "timeout"
    CONNECT = "connect"
    BAD_RESPONSE = "bad_response"  # a 200 whose body is not the platform's answer
    BAD_KEY = "bad_key"  # token/key wrong, or the robot was removed from the group
    ROBOT_DISABLED = "robot_disabled"
    ROBOT_REMOVED = "robot_removed"
    KEYWORD_MISSING = "keyword_missing"
    BAD_SIGNATURE = "bad_signature"
    CLOCK_SKEW = "clock_skew"
    IP_NOT_ALLOWED = "ip_not_allowed"
    BAD_PAYLOAD = "bad_payload"
    HTTP_4XX = "http_4xx"
    NOT_CONFIGURED = "not_configured"
    OTHER = "other"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    reason: NotifyReason
    detail: str = ""  # the platform's code and message, never the URL (it holds the key)
    retry_after: float | None = None
    status: int = 0
    body: str = ""
    unknown: bool = False  # sent, but no answer: the next attempt says it may be a repeat

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def delivered(status: int, body: str, detail: str = "ok") -> Answer:
    return Answer(Outcome.DELIVERED, NotifyReason.OK, detail, status=status, body=body)


def retry(reason: NotifyReason, detail: str, status: int = 0, body: str = "",
          retry_after: float | None = None, unknown: bool = False) -> Answer:
    return Answer(Outcome.RETRY, reason, detail, retry_after, status, body, unknown)


def permanent(reason: NotifyReason, detail: str, status: int = 0, body: str = "") -> Answer:
    return Answer(Outcome.PERMANENT, reason, detail, None, status, body)


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {
        "Content-Type": "application/json; charset=utf-8"})

    def __repr__(self) -> str:  # the URL carries the robot's key
        return f"Request({len(self.body)} bytes)"


def json_body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def http_status_answer(status: int, headers: dict[str, str], body: str) -> Answer | None:
    """Answers decided by the HTTP status alone (429, 5xx, 4xx); None for 2xx."""
    if status == 429:
        return retry(NotifyReason.RATE_LIMITED, f"HTTP 429 {body[:80]}", status, body,
                     retry_after_seconds(headers))
    if status >= 500:
        return retry(NotifyReason.HTTP_5XX, f"HTTP {status}", status, body,
                     retry_after_seconds(headers))
    if status == 408:
        return retry(NotifyReason.TIMEOUT, "HTTP 408", status, body)
    if status >= 400:
        return permanent(NotifyReason.HTTP_4XX, f"HTTP {status} {body[:80]}", status, body)
    return None


def json_answer(body: str) -> dict | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def post(session: aiohttp.ClientSession, request: Request, timeout: float,
               clock: Clock | None = None) -> tuple[int, dict[str, str], str] | Answer:
    """POST and read the answer within `timeout` seconds of `clock` (the service's clock, so
    tests can run the deadline out); network failures become retryable Answers."""
    try:
        return await within(clock, timeout, _exchange(session, request, timeout))
    except aiohttp.ConnectionTimeoutError:  # before it was connected: nothing went out
        return retry(NotifyReason.CONNECT, f"no connection within {timeout / 2:g}s")
    except TimeoutError:  # the request may have been read and shown; only its answer is lost
        return retry(NotifyReason.TIMEOUT, f"no answer within {timeout:g}s", unknown=True)
    except aiohttp.ClientConnectionError as exc:
        return retry(NotifyReason.CONNECT, type(exc).__name__)
    except aiohttp.ClientError as exc:
        return retry(NotifyReason.OTHER, type(exc).__name__)


async def _exchange(session: aiohttp.ClientSession, request: Request, timeout: float
                    ) -> tuple[int, dict[str, str], str]:
    # aiohttp's own limits stay as a backstop in real time; connecting gets half, so a robot
    # that cannot be reached is told apart from one that took the request and went quiet
    limits = aiohttp.ClientTimeout(total=timeout, connect=timeout / 2)
    async with session.post(request.url, data=request.body, headers=request.headers,
                            timeout=limits, allow_redirects=False) as response:
        raw = await response.content.read(MAX_ANSWER_BYTES)
        return response.status, dict(response.headers), raw.decode("utf-8", "replace")


async def within(clock: Clock | None, seconds: float, work: Awaitable[T]) -> T:
    """`work`'s result, or TimeoutError once `seconds` pass on `clock` (work is cancelled)."""
    task = asyncio.ensure_future(work)
    if clock is None:
        return await task
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({task, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise TimeoutError
    return task.result()
