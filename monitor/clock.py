"""Every deadline, retry and schedule reads a Clock, so tests can control time.

The service uses SystemClock; tests use FakeClock, whose sleepers wake only when the
test advances it, so no test ever waits for real time to pass.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware (UTC)."""

    async def sleep(self, seconds: float) -> None:
        """Wait until `seconds` have passed on this clock."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told to; `sleep` returns once `advance` passes its time."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake_at = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (wake_at, next(self._seq), future))
        await future

    def set(self, when: datetime) -> None:
        self._now = when
        self._wake_due()

    def advance(self, seconds: float) -> None:
        self.set(self._now + timedelta(seconds=seconds))

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


async def sleep_or_stop(clock: Clock, seconds: float, stop: asyncio.Event,
                        *also: asyncio.Future) -> None:
    """Sleep on `clock` until `seconds` pass, `stop` is set, or any of `also` finishes."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper, *also}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        stopper.cancel()
