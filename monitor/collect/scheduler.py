"""The poll loop: claim due sources, poll them concurrently, schedule the next polls.

Each pass stamps `now` once from the injected clock. `run_once` is what tests call; `run`
is a thin loop around it that sleeps until the next source is due (or a short tick, so
sources claimed by a process that died are picked up when their lease runs out).
"""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections.abc import Sequence

import structlog

from monitor.clock import Clock, sleep_or_stop
from monitor.collect.poller import Poller, PollOutcome
from monitor.config import Source
from monitor.metrics import Metrics
from monitor.store.sources import SourceState, SourceStore

log = structlog.get_logger("monitor.collect")

MAX_IDLE_SECONDS = 5.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    def __init__(self, sources: Sequence[Source], store: SourceStore, poller: Poller,
                 clock: Clock, metrics: Metrics, *, concurrency: int = 16,
                 owner: str | None = None, rng: random.Random | None = None) -> None:
        self._sources = {s.id: s for s in sources}
        self._store = store
        self._poller = poller
        self._clock = clock
        self._metrics = metrics
        self._concurrency = concurrency
        self.owner = owner or worker_name()
        self._rng = rng or random.Random()

    async def start(self) -> None:
        """Put every configured source on the shared schedule, spread over its first interval
        so a restart does not fetch everything at once."""
        now = self._clock.now().timestamp()
        first = {s.id: now + self._rng.uniform(0, min(s.interval, 60.0))
                 for s in self._sources.values()}
        await self._store.sync_schedule(first)

    async def run_once(self) -> list[PollOutcome]:
        """Poll every source that is due now and that no other process is polling."""
        await self.observe_lag()
        outcomes: list[PollOutcome] = []
        semaphore = asyncio.Semaphore(self._concurrency)

        async def poll(source: Source, state: SourceState) -> PollOutcome:
            async with semaphore:
                return await self._poll(source, state)

        while claimed := await self._claim(self._concurrency * 4):
            outcomes += await asyncio.gather(*(poll(s, state) for s, state in claimed))
        return outcomes

    async def _claim(self, limit: int) -> list[tuple[Source, SourceState]]:
        if limit <= 0:
            return []
        claimed = await self._store.claim_due_states(self._clock.now(), self.owner, limit=limit)
        return [(self._sources[i], state) for i, state in claimed if i in self._sources]

    async def _poll(self, source: Source, state: SourceState) -> PollOutcome:
        started = self._clock.now()
        with self._metrics.fetch_seconds.time():
            outcome = await self._poller.poll(source, state, started)
        await self._store.finish(source.id, self.owner, outcome.state)
        self._count(outcome)
        return outcome

    def _count(self, outcome: PollOutcome) -> None:
        self._metrics.polls.labels(outcome.outcome).inc()
        self._metrics.items_seen.inc(outcome.entries)
        self._metrics.items_new.inc(len(outcome.new_items))
        if outcome.error is not None:
            self._metrics.poll_errors.labels(outcome.error.reason.value).inc()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep up to `concurrency` polls in flight; a slow source holds one slot, not the loop."""
        log.info("scheduler_started", owner=self.owner, sources=len(self._sources))
        in_flight: dict[asyncio.Task, Source] = {}
        while not stop.is_set():
            try:
                for source, state in await self._claim(self._concurrency - len(in_flight)):
                    in_flight[asyncio.create_task(self._poll(source, state))] = source
                wait = await self._seconds_to_next_due()
            except Exception as exc:  # noqa: BLE001 - Redis restarting: say so, keep going
                log.error("scheduler_pass_failed", error=str(exc), hint="retrying in 5s")
                wait = MAX_IDLE_SECONDS
            for task in await self._wait(wait, stop, in_flight):
                source = in_flight.pop(task)
                if not task.cancelled() and (exc := task.exception()) is not None:
                    # Only the store can fail here (the poller turns source trouble into
                    # state); the lease runs out and the source is polled again.
                    log.error("poll_not_recorded", source_id=source.id, error=str(exc),
                              hint="Redis unreachable? the source will be polled again")
        await self._abandon(in_flight)
        log.info("scheduler_stopped", owner=self.owner)

    async def _wait(self, seconds: float, stop: asyncio.Event,
                    in_flight: dict[asyncio.Task, Source]) -> set[asyncio.Task]:
        """Until the next source is due, a poll finishes, or we are told to stop."""
        await sleep_or_stop(self._clock, seconds, stop, *in_flight)
        return {task for task in in_flight if task.done()}

    async def _abandon(self, in_flight: dict[asyncio.Task, Source]) -> None:
        """On shutdown, stop unfinished polls and hand their sources back as due now, so a
        restart (or another process) polls them at once; dedup makes the repeat harmless."""
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        now = self._clock.now()
        for task, source in in_flight.items():
            if task.cancelled():
                await self._store.abandon(source.id, self.owner, now)

    async def _seconds_to_next_due(self) -> float:
        lag = await self.observe_lag()
        if lag is None:
            return MAX_IDLE_SECONDS
        return min(MAX_IDLE_SECONDS, max(0.0, -lag))

    async def observe_lag(self) -> float | None:
        """How late the most overdue poll is by the injected clock (negative: the next one is
        not due yet; None: nothing is scheduled); yq_poll_lag_seconds shows it, never below 0.
        Each pass measures it before it claims, so a pass that starts late says how late."""
        due = await self._store.next_due()
        if due is None:
            return None
        lag = self._clock.now().timestamp() - due
        self._metrics.poll_lag.set(max(0.0, lag))
        return lag
