"""Supervision of the embedded Redis: if the server dies, start it again (same data
directory, same AOF) with growing waits; give up after a run of failures so that the
process exits non-zero and its own supervisor (systemd, Docker) can act.

Clients need nothing from here: `connect` retries a command for a few seconds while the
server comes back, and every loop of the service retries its pass after that.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import Counter

from monitor.clock import Clock, sleep_or_stop
from monitor.errors import StoreError
from monitor.store.embedded import EmbeddedRedis

log = structlog.get_logger("monitor.store.supervise")

RESTART_LIMIT = 5  # failed restarts in a row before the service gives up
FIRST_WAIT = 0.5  # seconds before the first restart; doubles for each further one
MAX_WAIT = 30.0
STABLE_SECONDS = 60.0  # up this long: a later death starts a fresh run of attempts
TAKE_OVER_SECONDS = 5.0  # how often a process sharing the server checks its owner is alive


class RedisSupervisor:
    def __init__(self, server: EmbeddedRedis, clock: Clock, restarts: Counter | None = None,
                 limit: int = RESTART_LIMIT) -> None:
        self._server = server
        self._clock = clock
        self._restarts = restarts  # labelled by outcome: ok / failed
        self._limit = limit
        self._streak = 0  # deaths and failed starts since the server was last stable
        self._up_since = clock.now().timestamp()
        self.failure: StoreError | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`; on giving up, record why in `failure` and set `stop` for the rest
        of the service."""
        try:
            while not stop.is_set() and not self._server.stopping:
                if self._server.owned:
                    await self._watch(stop)
                else:
                    await self._maybe_take_over(stop)
        except StoreError as exc:
            self.failure = exc
            log.error("embedded_redis_gave_up", error=str(exc),
                      hint="the service stops; fix the cause, then start it again")
            stop.set()

    async def _watch(self, stop: asyncio.Event) -> None:
        exited = asyncio.ensure_future(self._server.wait_exit())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if stop.is_set() or self._server.stopping:
            return  # our own stop() ends the server, and with it the waiting thread
        log.warning("embedded_redis_died", code=exited.result(),
                    log=str(self._server.data_dir / "redis.log"),
                    hint="restarting it on the same data directory and AOF")
        await self._restart(stop)

    async def _restart(self, stop: asyncio.Event) -> None:
        if self._clock.now().timestamp() - self._up_since >= STABLE_SECONDS:
            self._streak = 0
        while not stop.is_set():
            self._streak += 1
            if self._streak > self._limit:
                raise StoreError(self._give_up_message())
            wait = min(MAX_WAIT, FIRST_WAIT * 2 ** (self._streak - 1))
            await sleep_or_stop(self._clock, wait, stop)
            if not stop.is_set() and await self._attempt(wait):
                self._up_since = self._clock.now().timestamp()
                return

    async def _attempt(self, waited: float) -> bool:
        try:
            await self._server.restart()
        except StoreError as exc:
            self._count("failed")
            log.error("embedded_redis_restart_failed", attempt=self._streak, error=str(exc))
            return False
        self._count("ok")
        log.warning("embedded_redis_restarted", attempt=self._streak, waited=waited,
                    pid=self._server.pid)
        return True

    async def _maybe_take_over(self, stop: asyncio.Event) -> None:
        await sleep_or_stop(self._clock, TAKE_OVER_SECONDS, stop)
        if stop.is_set():
            return
        try:
            if not await self._server.take_over():
                return
        except StoreError as exc:  # we own it now, without a server: _watch restarts it
            log.error("embedded_redis_take_over_failed", error=str(exc))
            return
        self._count("ok")
        log.warning("embedded_redis_taken_over", pid=self._server.pid,
                    hint="the process that owned the embedded Redis has gone")

    def _count(self, outcome: str) -> None:
        if self._restarts is not None:
            self._restarts.labels(outcome).inc()

    def _give_up_message(self) -> str:
        return (f"the embedded Redis in {self._server.data_dir} kept dying: {self._limit} "
                f"restarts in a row failed; see {self._server.data_dir / 'redis.log'} "
                f"(a damaged AOF: redis-check-aof --fix; a full disk), or set REDIS_URL")
