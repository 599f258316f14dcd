"""One poll of one source: fetch → parse → normalise → emit what is new → new state."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog
from redis.exceptions import RedisError

from monitor.collect.encoding import TRUSTED_METHODS, Decoded, wrong_script
from monitor.collect.fetcher import Fetcher
from monitor.collect.normalize import to_item
from monitor.collect.parse import parse
from monitor.config import Source
from monitor.errors import FetchError, FetchReason
from monitor.models import FetchJob, FetchResult, Item
from monitor.store.items import ItemStore
from monitor.store.sources import SourceState

log = structlog.get_logger("monitor.collect")


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source_id: str
    outcome: str  # ok | not_modified | error
    state: SourceState
    entries: int = 0
    new_items: list[Item] = field(default_factory=list)
    error: FetchError | None = None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Failed sources wait interval × 2^(failures-1), capped, and never less than Retry-After."""

    cap: float
    jitter: float

    def next_delay(self, interval: float, failures: int, rng: random.Random,
                   retry_after: float | None = None) -> float:
        base = interval if failures == 0 else min(self.cap, interval * 2 ** min(failures - 1, 20))
        delay = base * rng.uniform(1 - self.jitter, 1 + self.jitter)
        return max(delay, retry_after or 0.0)


class Poller:
    def __init__(self, fetcher: Fetcher, items: ItemStore, backoff: Backoff,
                 rng: random.Random | None = None) -> None:
        self._fetcher = fetcher
        self._items = items
        self._backoff = backoff
        self._rng = rng or random.Random()

    async def poll(self, source: Source, state: SourceState, now: datetime) -> PollOutcome:
        job = FetchJob(source.id, source.url, state.etag or None, state.last_modified or None,
                       allow_private=source.allow_private)
        try:
            items, result_state, outcome = await self._fetch_items(source, job, state, now)
            new = await self._items.emit_new(items)
        except FetchError as exc:
            return self._failed(source, state, now, exc)
        except (RedisError, OSError):
            raise  # the store is down, not the source: the scheduler says so and retries
        except Exception as exc:  # noqa: BLE001 - one broken source must not stop the others
            log.exception("poll_crashed", source_id=source.id)
            error = FetchError(FetchReason.OTHER, f"unexpected error: {exc!r}")
            return self._failed(source, state, now, error)
        return self._succeeded(source, result_state, now, outcome, items, new)

    async def _fetch_items(self, source: Source, job: FetchJob, state: SourceState,
                           now: datetime) -> tuple[list[Item], SourceState, str]:
        failed: FetchError | None = None
        for url in (job.url, *source.mirrors):
            try:
                return await self._fetch_from(source, replace(job, url=url), state, now)
            except FetchError as exc:
                if failed is None:
                    failed = exc
                elif url == source.mirrors[-1]:  # every address failed: say so, naming them
                    raise FetchError(failed.reason, f"{failed} (and its {len(source.mirrors)} "
                                     f"mirror(s) failed too; last: {exc})",
                                     retry_after=failed.retry_after,
                                     status=failed.status) from exc
                log.info("source_trying_mirror", source_id=source.id, failed=str(exc))
        raise failed  # no mirrors: the one address failed

    async def _fetch_from(self, source: Source, job: FetchJob, state: SourceState,
                          now: datetime) -> tuple[list[Item], SourceState, str]:
        result = await self._fetcher.fetch(job)
        if result.not_modified:
            return [], replace(state, last_status=304), "not_modified"
        # In a thread: a long feed takes milliseconds to parse, which would otherwise hold
        # up the event loop, and with it the events worker inside its grouping lease.
        items = await asyncio.to_thread(_read_items, result, source, now)
        new_state = replace(state, last_status=result.status, etag=result.etag or "",
                            last_modified=result.last_modified or "")
        return items, new_state, "ok"

    def _succeeded(self, source: Source, state: SourceState, now: datetime, outcome: str,
                   items: list[Item], new: list[Item]) -> PollOutcome:
        if state.failures:
            log.info("source_recovered", source_id=source.id, after_failures=state.failures,
                     last_error=state.last_error)
        ts = now.timestamp()
        delay = self._backoff.next_delay(source.interval, 0, self._rng)
        state = replace(state, failures=0, last_error="", last_error_reason="", last_success=ts,
                        last_poll=ts, next_poll=ts + delay,
                        items_total=state.items_total + len(new),
                        last_new_items=len(new), first_success=state.first_success or ts,
                        last_new_item_at=ts if new else state.last_new_item_at)
        (log.info if new else log.debug)("source_polled", source_id=source.id, outcome=outcome,
                                         entries=len(items), new_items=len(new))
        return PollOutcome(source.id, outcome, state, len(items), new)

    def _failed(self, source: Source, state: SourceState, now: datetime,
                error: FetchError) -> PollOutcome:
        failures = state.failures + 1
        ts = now.timestamp()
        # A garbled decode is not the site failing: keep polling at the normal interval so
        # the held-back items go out soon after the site (or the source's encoding) is fixed.
        backoff_failures = 0 if error.reason is FetchReason.DECODE_SUSPECT else failures
        delay = self._backoff.next_delay(source.interval, backoff_failures, self._rng,
                                         error.retry_after)
        if error.reason.value != state.last_error_reason:
            # One line per change of failure state, not one per failed poll: an unreachable
            # site polled all night must not flood the log.
            log.warning("source_failing", source_id=source.id, reason=error.reason.value,
                        error=str(error), failures=failures, retry_in_s=round(delay))
        else:
            log.debug("source_still_failing", source_id=source.id, reason=error.reason.value,
                      failures=failures)
        state = replace(state, failures=failures, last_error=str(error),
                        last_error_reason=error.reason.value, last_error_at=ts,
                        last_status=error.status or 0, last_poll=ts, next_poll=ts + delay,
                        last_new_items=0)
        return PollOutcome(source.id, "error", state, error=error)


def _read_items(result: FetchResult, source: Source, now: datetime) -> list[Item]:
    entries, decoded = parse(result, source)
    items = [to_item(entry, source, result.url, now) for entry in entries]
    _hold_if_garbled(decoded, items, result.url)
    return items


def _hold_if_garbled(decoded: Decoded, items: list[Item], url: str) -> None:
    """Garbled items would be marked seen forever: hold them all back instead (the failed
    poll keeps the old validators, so the next poll reads the document again)."""
    if words := garbled(decoded, items):
        raise FetchError(FetchReason.DECODE_SUSPECT, f"{url} {words}")


def garbled(decoded: Decoded, items: list[Item]) -> str | None:
    """Why the items look wrongly decoded, or None."""
    if not items or decoded.method in TRUSTED_METHODS:
        return None
    script = wrong_script(" ".join(f"{i.title} {i.summary}" for i in items))
    if not script:
        return None
    return (f"decoded as {decoded.encoding} ({decoded.method}) reads as {script}, not "
            f"Chinese: {len(items)} items held back; if the site really writes this, set "
            f"encoding: {decoded.encoding} for the source")
