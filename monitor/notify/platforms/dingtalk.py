"""DingTalk (钉钉) custom robot: 加签 puts timestamp (ms) and sign into the URL.

sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{ts_ms}\\n{secret}"))). Errors come as
`errcode` in a 200 body; 130101 (over 20 a minute) throttles the robot for 10 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import datetime

from monitor.notify.config import PLATFORM_LIMITS, Platform, Target
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


def sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signed_url(url: str, secret: str, now: datetime) -> str:
    ts = int(now.timestamp() * 1000)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={ts}&sign={urllib.parse.quote_plus(sign(secret, ts))}"


def request(target: Target, payload: dict, now: datetime) -> Request:
    url = signed_url(target.url, target.secret, now) if target.secret else target.url
    return Request(url, json_body(payload))


def classify(status: int, headers: dict[str, str], body: str) -> Answer:
    by_status = http_status_answer(status, headers, body)
    if by_status:
        return by_status
    data = json_answer(body)
    if data is None or "errcode" not in data:
        return retry(NotifyReason.BAD_RESPONSE, f"HTTP {status}, not a DingTalk answer",
                     status, body)
    code = data.get("errcode")
    message = str(data.get("errmsg", ""))
    detail = f"errcode {code}: {message[:120]}"
    if code == 0:
        return delivered(status, body, detail)
    if code == 130101:
        return retry(NotifyReason.RATE_LIMITED, detail, status, body,
                     retry_after=PLATFORM_LIMITS[Platform.DINGTALK].throttle_penalty)
    if code == 90030:  # metered editions: quota used up; try again much later
        return retry(NotifyReason.RATE_LIMITED, detail, status, body, retry_after=3600.0)
    if code == -1:
        return retry(NotifyReason.BUSY, detail, status, body)
    if code == 310000:
        lowered = message.lower()
        if "keyword" in lowered:
            reason = NotifyReason.KEYWORD_MISSING
        elif "timestamp" in lowered:
            reason = NotifyReason.CLOCK_SKEW
        elif "sign" in lowered or "签名" in message:
            reason = NotifyReason.BAD_SIGNATURE
        elif "ip" in lowered:
            reason = NotifyReason.IP_NOT_ALLOWED
        else:
            reason = NotifyReason.OTHER
        return permanent(reason, detail, status, body)
    if code == 300001:
        return permanent(NotifyReason.BAD_KEY, detail, status, body)
    return permanent(NotifyReason.OTHER, detail, status, body)
