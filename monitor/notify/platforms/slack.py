"""Slack-compatible incoming webhook: real HTTP statuses, plain-text body `ok` on success."""

from __future__ import annotations

from datetime import datetime

from monitor.notify.config import Target
from monitor.notify.platforms.base import (
    Answer,
    NotifyReason,
    Request,
    delivered,
    http_status_answer,
    json_body,
    permanent,
    retry,
)

_GONE = {403: NotifyReason.ROBOT_DISABLED, 404: NotifyReason.ROBOT_REMOVED,
         410: NotifyReason.ROBOT_REMOVED, 400: NotifyReason.BAD_PAYLOAD,
         401: NotifyReason.BAD_KEY}


def request(target: Target, payload: dict, now: datetime) -> Request:
    return Request(target.url, json_body(payload))


def classify(status: int, headers: dict[str, str], body: str) -> Answer:
    if status in _GONE:
        return permanent(_GONE[status], f"HTTP {status} {body[:80]}", status, body)
    by_status = http_status_answer(status, headers, body)
    if by_status:
        return by_status
    if status == 200 and body.strip() == "ok":
        return delivered(status, body)
    return retry(NotifyReason.BAD_RESPONSE, f"HTTP {status} {body[:80]}", status, body)
