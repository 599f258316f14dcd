"""The outbox status as clients read it (`/api/outbox`, `monitor outbox --json`).

`Notifier.status()` hands over what Redis holds: hash fields as strings ("True", "3") and
times as epoch seconds. Clients get booleans, numbers and ISO-8601 times. Fields are typed by
name, so a field the notifier adds later under one of these names takes the same shape.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

_TIMES = frozenset({"due", "at", "last_ok", "blocked_until", "last_error_at", "last_attempt"})
_COUNTS = frozenset({"attempts", "failures", "status", "pending_total"})
_FLAGS = frozenset({"configured"})


def typed_status(status: dict[str, Any], tz: tzinfo = UTC) -> dict[str, Any]:
    return {key: _typed(key, value, tz) for key, value in status.items()}


def _typed(key: str, value: Any, tz: tzinfo) -> Any:
    if isinstance(value, dict):  # a record, or robot id → health (an id may be "status")
        return {k: _typed(k, v, tz) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(key, v, tz) for v in value]
    if key in _TIMES:
        return _time(value, tz)
    if key in _COUNTS:
        return int(float(value)) if value not in (None, "") else 0
    if key in _FLAGS:
        return str(value).lower() in ("true", "1")
    return value


def _time(value: Any, tz: tzinfo) -> str | None:
    """Epoch seconds → ISO-8601; 0 or empty (never) → None; anything else unchanged."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return value
    return datetime.fromtimestamp(seconds, tz).isoformat() if seconds else None
