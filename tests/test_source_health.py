"""A source's health, one definition for the page and the wall: failing now, silent (no
successful poll for three intervals), quiet (polls succeed, nothing new for a week)."""

from __future__ import annotations

import pytest

from monitor.collect.health import QUIET_AFTER, SourceHealth, silent, source_health
from monitor.store.sources import SourceState

WEEK = QUIET_AFTER


@pytest.mark.parametrize("state, is_silent", [
    (SourceState(), False),  # never polled: the scheduler has not reached it
    (SourceState(last_poll=2900, last_success=2900), False),
    (SourceState(last_poll=2900, last_success=1500, failures=2), False),  # 1500 s < 3 × 600
    (SourceState(last_poll=3000, last_success=1000, failures=3), True),
    (SourceState(last_poll=3000, failures=2), False),
    (SourceState(last_poll=3000, failures=3), True),
])
def test_silent_after_three_intervals_without_success(state, is_silent):
    assert silent(state, 600, now=3000) is is_silent


NOW = 10 * WEEK


@pytest.mark.parametrize("state, health", [
    (SourceState(last_poll=NOW, last_success=NOW, first_success=NOW - 2 * WEEK,
                 last_new_item_at=NOW - 3600, items_total=40), SourceHealth.OK),
    # polls fine, but the last new item is eight days old: the page may have changed
    (SourceState(last_poll=NOW, last_success=NOW, first_success=NOW - 3 * WEEK,
                 last_new_item_at=NOW - 8 * 86400, items_total=40), SourceHealth.QUIET),
    # polls fine for eight days and never gave anything
    (SourceState(last_poll=NOW, last_success=NOW, first_success=NOW - 8 * 86400),
     SourceHealth.QUIET),
    # new to the service, nothing yet: too early to say
    (SourceState(last_poll=NOW, last_success=NOW, first_success=NOW - 3600), SourceHealth.OK),
    # polled before this field existed: unknown, not quiet
    (SourceState(last_poll=NOW, last_success=NOW, items_total=5), SourceHealth.OK),
    (SourceState(last_poll=NOW, last_success=NOW - 60, failures=1), SourceHealth.FAILING),
    (SourceState(last_poll=NOW, last_success=NOW - 4 * 900, failures=4), SourceHealth.SILENT),
    (SourceState(last_poll=NOW, last_success=NOW - 60, failures=1,
                 last_error_reason="decode_suspect"), SourceHealth.DECODE_SUSPECT),
])
def test_health_names_the_trouble(state, health):
    assert source_health(state, 900, NOW) is health
