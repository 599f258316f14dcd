"""Feishu/Lark custom bot: the signature goes into the JSON body, timestamp in seconds.

sign = base64(HMAC-SHA256(key=f"{ts_s}\\n{secret}", msg=b"")) — not DingTalk's. Errors come as
`code` in the body (seen with HTTP 200); 11232 is the frequency limit.
"""

from __future__ import annotations

import base64
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
    json_answer,
    json_body,
    permanent,
    retry,
)

_PERMANENT = {
    9499: NotifyReason.BAD_PAYLOAD,
    19001: NotifyReason.BAD_KEY,
    19021: NotifyReason.BAD_SIGNATURE,  # or clock skew > 1 h: check NTP
    19022: NotifyReason.IP_NOT_ALLOWED,
    19024: NotifyReason.KEYWORD_MISSING,
}


def sign(secret: str, timestamp_s: int) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def request(target: Target, payload: dict, now: datetime) -> Request:
    if target.secret:
        ts = int(now.timestamp())
        payload = {"timestamp": str(ts), "sign": sign(target.secret, ts), **payload}
    return Request(target.url, json_body(payload))


def classify(status: int, headers: dict[str, str], body: str) -> Answer:
    data = json_answer(body)
    if data is not None and ("code" in data or "StatusCode" in data):
        code = data.get("code", data.get("StatusCode"))
        detail = f"code {code}: {str(data.get('msg', data.get('StatusMessage', '')))[:120]}"
        if code == 0:
            return delivered(status, body, detail)
        if code == 11232:
            return retry(NotifyReason.RATE_LIMITED, detail, status, body, retry_after=60.0)
        if status >= 500:
            return retry(NotifyReason.HTTP_5XX, detail, status, body)
        return permanent(_PERMANENT.get(code, NotifyReason.OTHER), detail, status, body)
    by_status = http_status_answer(status, headers, body)
    if by_status:
        return by_status
    return retry(NotifyReason.BAD_RESPONSE, f"HTTP {status}, not a Feishu answer", status, body)
