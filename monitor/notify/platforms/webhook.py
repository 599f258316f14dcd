"""Generic JSON webhook, for anything else: HTTP status decides; signed with HMAC-SHA256.

Headers: `X-Yq-Timestamp: <unix s>` and `X-Yq-Signature: sha256=<hex of
HMAC-SHA256(secret, f"{timestamp}." + body)>`, and `Idempotency-Key`: the delivery id, the
same on a re-send after a crash, so a receiver can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
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
)


def sign(secret: str, timestamp_s: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def request(target: Target, payload: dict, now: datetime) -> Request:
    body = json_body(payload)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if payload.get("delivery_id"):
        headers["Idempotency-Key"] = str(payload["delivery_id"])
    if target.secret:
        ts = int(now.timestamp())
        headers["X-Yq-Timestamp"] = str(ts)
        headers["X-Yq-Signature"] = sign(target.secret, ts, body)
    return Request(target.url, body, headers)


def classify(status: int, headers: dict[str, str], body: str) -> Answer:
    if status in (401, 403):
        return permanent(NotifyReason.BAD_SIGNATURE, f"HTTP {status} {body[:80]}", status, body)
    by_status = http_status_answer(status, headers, body)
    if by_status:
        return by_status
    return delivered(status, body[:200], f"HTTP {status}")
