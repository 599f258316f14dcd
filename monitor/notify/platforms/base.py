"""What every platform module provides, and the one place a request goes over HTTP.

A platform module has `request(target, payload, now) -> Request` (address, headers, body,
signed at `now`) and `classify(status, headers, body) -> Answer`. Three of the platforms
answer errors inside an HTTP 200 body, so the body is always read and classified.

    Answer.outcome   delivered | retry (rate-limited, busy, 5xx, timeout) | permanent
    Answer.reason    a NotifyReason: the `reason` label of the failure metrics
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

import aiohttp

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

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def delivered(status: int, body: str, detail: str = "ok") -> Answer:
    return Answer(Outcome.DELIVERED, NotifyReason.OK, detail, status=status, body=body)


def retry(reason: NotifyReason, detail: str, status: int = 0, body: str = "",
          retry_after: float | None = None) -> Answer:
    return Answer(Outcome.RETRY, reason, detail, retry_after, status, body)


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


async def post(session: aiohttp.ClientSession, request: Request, timeout: float
               ) -> tuple[int, dict[str, str], str] | Answer:
    """POST and read the answer; network failures become retryable Answers."""
    try:
        async with session.post(request.url, data=request.body, headers=request.headers,
                                timeout=aiohttp.ClientTimeout(total=timeout),
                                allow_redirects=False) as response:
            raw = await response.content.read(MAX_ANSWER_BYTES)
            return response.status, dict(response.headers), raw.decode("utf-8", "replace")
    except TimeoutError:
        return retry(NotifyReason.TIMEOUT, f"no answer within {timeout:g}s")
    except aiohttp.ClientConnectionError as exc:
        return retry(NotifyReason.CONNECT, type(exc).__name__)
    except aiohttp.ClientError as exc:
        return retry(NotifyReason.OTHER, type(exc).__name__)
