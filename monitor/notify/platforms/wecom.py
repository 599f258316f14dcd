"""WeCom (企业微信) group robot: key in the URL, no signing; errors as `errcode` in a 200 body."""

from __future__ import annotations

from datetime import datetime

from monitor.notify.config import Target
from monitor.notify.platforms.base import (
    Answer,
    NotifyReason,
    Request,
    delivered,
    http_status_answer,
    json_answer,
    json_body,
    permanent,
    retry,
)

_PERMANENT = {
    93000: NotifyReason.BAD_KEY,  # invalid webhook url: bad key, or robot removed from group
    93004: NotifyReason.ROBOT_DISABLED,
    93008: NotifyReason.ROBOT_REMOVED,
    40008: NotifyReason.BAD_PAYLOAD,
    44004: NotifyReason.BAD_PAYLOAD,
    40058: NotifyReason.BAD_PAYLOAD,  # content longer than the limit
}


def request(target: Target, payload: dict, now: datetime) -> Request:
    return Request(target.url, json_body(payload))


def classify(status: int, headers: dict[str, str], body: str) -> Answer:
    by_status = http_status_answer(status, headers, body)
    if by_status:
        return by_status
    data = json_answer(body)
    if data is None or "errcode" not in data:
        return retry(NotifyReason.BAD_RESPONSE, f"HTTP {status}, not a WeCom answer", status,
                     body)
    code = data.get("errcode")
    detail = f"errcode {code}: {str(data.get('errmsg', ''))[:120]}"
    if code == 0:
        return delivered(status, body, detail)
    if code == 45009:
        return retry(NotifyReason.RATE_LIMITED, detail, status, body, retry_after=60.0)
    if code == -1:
        return retry(NotifyReason.BUSY, detail, status, body)
    return permanent(_PERMANENT.get(code, NotifyReason.OTHER), detail, status, body)
