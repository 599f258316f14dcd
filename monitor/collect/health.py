"""One definition of a source's health, for the duty page, the wall and `monitor sources`.

Two different troubles look alike from a desk and need different fixes:
- **silent** — no successful poll for more than three intervals (the site is down, blocks us,
  or answers garbage): a fetch problem, on the wall as `yq_sources_silent`;
- **quiet** — polls succeed but nothing new has come for `QUIET_AFTER` (or ever): the page
  may have changed its layout so the list selector finds nothing new, or the account
  stopped posting; someone should look at the source itself.
"""

from __future__ import annotations

from enum import StrEnum

from monitor.store.sources import SourceState

SILENT_INTERVALS = 3
QUIET_AFTER = 7 * 86400.0  # seconds without a new item, polls succeeding


class SourceHealth(StrEnum):
    OK = "ok"
    FAILING = "failing"  # the last poll failed
    SILENT = "silent"  # no successful poll for more than three intervals
    QUIET = "quiet"  # polls succeed, nothing new for QUIET_AFTER
    DECODE_SUSPECT = "decode_suspect"  # text decoded as mojibake: items held back


def silent(state: SourceState, interval: float, now: float) -> bool:
    """No successful poll for more than three intervals. A source never polled is not
    silent (the scheduler has not reached it); one that never succeeded is, after three
    failed polls."""
    if not state.last_poll:
        return False
    if not state.last_success:
        return state.failures >= SILENT_INTERVALS
    return now - state.last_success > SILENT_INTERVALS * interval


def quiet(state: SourceState, now: float) -> bool:
    """Polls succeed, yet nothing new for QUIET_AFTER since the last new item (or, for a
    source that never gave one, since its first successful poll)."""
    since = state.last_new_item_at or state.first_success
    return bool(state.last_success and since) and now - since > QUIET_AFTER


def source_health(state: SourceState, interval: float, now: float) -> SourceHealth:
    if state.decode_suspect:
        return SourceHealth.DECODE_SUSPECT
    if silent(state, interval, now):
        return SourceHealth.SILENT
    if state.failing:
        return SourceHealth.FAILING
    if quiet(state, now):
        return SourceHealth.QUIET
    return SourceHealth.OK
