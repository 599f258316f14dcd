"""The Notifier: alert intents in, chat-robot messages out, never storming, never dropping.

Each configured robot has its own sender loop, so a robot that hangs or is down holds up
no other. One pass of a robot's sender, stamped with one `now`:

    claim its due outbox entries (leased) → drop duplicates, silenced, acknowledged → hold
    entries inside a grouping window → robot blocked? → render as many as fit in one message
    → take a slot of the shared rate budget → mark in flight → send → record-then-ack |
    retry later with backoff (still marked in flight if it may have been shown) | refuse:
    fallback route

One more loop does the daily summary, the reminders, and the entries no sender here takes
(a robot dropped from notify.yaml; a robot without secrets once the fallback can send).
`run_once` runs one pass of every loop, the robots side by side (tests and tools).

Several processes may run senders against one Redis: claims and rate budgets are atomic
Lua steps, so an entry is sent by one process at a time and no robot goes over its limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import aiohttp
import redis.asyncio as aioredis
import structlog
from prometheus_client import CollectorRegistry

from monitor.clock import Clock, sleep_or_stop
from monitor.domain.alerts import AlertIntent, AlertKind
from monitor.notify import platforms
from monitor.notify.config import NotifyConfig, Target
from monitor.notify.metrics import NotifyMetrics
from monitor.notify.outbox import Outbox, Record, Stored, entry_id, split_entry
from monitor.notify.platforms.base import Answer, NotifyReason, Outcome
from monitor.notify.quiet import QuietStore, Silence, quiet_reason
from monitor.notify.ratelimit import RateBudget
from monitor.notify.render import CHINA, compose, render
from monitor.notify.routing import route
from monitor.store.keys import Keys

log = structlog.get_logger("monitor.notify")

SummarySource = Callable[[datetime], Awaitable[AlertIntent | None]]
Pass = Callable[[datetime], Awaitable[list["Delivery"]]]
SUMMARY_LOCK_SECONDS = 300
MAX_DOUBLINGS = 30  # failures past this do not grow the backoff (nor overflow a float)


@dataclass(frozen=True)
class Delivery:
    """What one pass did with one message (or with alerts it decided not to send)."""

    id: str
    robot: str
    keys: tuple[str, ...]
    outcome: str  # delivered | retry | permanent | suppressed
    reason: str
    detail: str = ""
    status: int = 0
    unknown: bool = False  # sent, no answer: the retry is marked as a possible repeat


@dataclass
class _Item:
    entry: str
    robot: str
    key: str
    stored: Stored


class Notifier:
    def __init__(self, redis: aioredis.Redis, keys: Keys, config: NotifyConfig, clock: Clock,
                 metrics: NotifyMetrics | CollectorRegistry | None = None,
                 session: aiohttp.ClientSession | None = None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.clock = clock
        self.metrics = metrics if isinstance(metrics, NotifyMetrics) else NotifyMetrics(metrics)
        self.outbox = Outbox(redis, keys)
        self.quiet = QuietStore(redis, keys)
        self.budget = RateBudget(redis, keys)
        self._redis = redis
        self._keys = keys
        self._session = session
        self._own_session = session is None
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()  # the housekeeping loop's
        self._wakes = {robot: asyncio.Event() for robot in self._senders()}
        self._summary_source: SummarySource | None = None
        self._announce_unconfigured()

    # ------------------------------------------------------------------ public surface

    async def __aenter__(self) -> Notifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def submit(self, intent: AlertIntent) -> None:
        """Route the alert and write it to the outbox; durable in Redis when this returns.
        Submitting the same key again does nothing."""
        now = self.clock.now().timestamp()
        routed = route(self.config, intent)
        ready, waiting, refused = self._receivers(routed.receivers)
        stored = Stored(intent.model_dump(mode="json"), now, ready + waiting,
                        list(routed.routes))
        repeat_at = None
        if intent.kind == AlertKind.DEADLINE_MISSED and self.config.quiet.max_repeats:
            repeat_at = now + self.config.quiet.repeat_interval
        due = now + self.config.quiet.group_wait
        entries = [entry_id(r, intent.key) for r in ready + waiting]
        if not await self.outbox.add(intent.key, stored, entries, due, repeat_at):
            self.metrics.replayed.inc()
            log.info("notify_replayed", key=intent.key)
            return
        self.metrics.submitted.labels(intent.kind.value).inc()
        if refused or not (ready or waiting):
            await self._unroutable(intent, refused or ["(none)"], now)
        if waiting:
            await self.outbox.note(entries, _waiting_note(self.config, waiting))
        self._wake_robots(ready)

    async def acknowledge(self, event_id: str, by: str, at: datetime) -> None:
        """An officer has it in hand: no more reminders for this event."""
        await self.quiet.acknowledge(event_id, by, at)
        log.info("notify_acknowledged", event_id=event_id, by=by)

    async def resolve(self, event_id: str) -> None:
        """The event was answered or closed: reminders stop."""
        await self.quiet.resolve(event_id, self.clock.now())

    async def reopen(self, event_id: str) -> None:
        """An officer re-opened the event: reminders resume."""
        await self.quiet.reopen(event_id)

    async def silence(self, *, reason: str, until: datetime | None = None,
                      duration: float | None = None, event_id: str | None = None,
                      topic: str | None = None, route: str | None = None,
                      by: str = "", region: str | None = None) -> Silence:
        """Drop matching alerts until `until` (or for `duration` seconds)."""
        now = self.clock.now()
        if until is None:
            if duration is None:
                raise ValueError("a silence needs `until` or `duration`")
            until = now + timedelta(seconds=duration)
        silence = Silence(id=f"s-{self._rng.getrandbits(48):012x}", event_id=event_id,
                          topic=topic, region=region, route=route, until=until,
                          reason=reason, by=by, created=now)
        await self.quiet.add_silence(silence)
        log.info("notify_silenced", silence_id=silence.id, event_id=event_id, topic=topic,
                 region=region, route=route, until=until.isoformat(), reason=reason, by=by)
        return silence

    async def unsilence(self, silence_id: str) -> bool:
        return await self.quiet.remove_silence(silence_id)

    async def silences(self) -> list[Silence]:
        return await self.quiet.silences(self.clock.now())

    def set_summary_source(self, source: SummarySource) -> None:
        """`source(now)` builds the daily summary; called once a day at `summary.at`
        (Asia/Shanghai), by one process, whatever restarts happen."""
        self._summary_source = source

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set: one loop per configured robot and one for housekeeping.
        A loop wakes at once on a local submit, otherwise every `delivery.poll_interval`
        (work from other processes, entries coming due)."""
        loops = [self._loop(f"robot:{robot}", partial(self._robot_pass, robot),
                            self._wakes[robot], stop) for robot in self._senders()]
        await asyncio.gather(self._loop("housekeeping", self._housekeeping, self._wake, stop),
                             *loops)

    async def run_once(self) -> list[Delivery]:
        """One pass of every loop at clock.now(); the robots side by side."""
        now = self.clock.now()
        results, due = await self._tend(now)
        robots = [robot for robot in self._senders() if robot in due]
        passes = await asyncio.gather(*(self._robot_pass(robot, now) for robot in robots),
                                      return_exceptions=True)
        for robot, outcome in zip(robots, passes, strict=True):
            if isinstance(outcome, Exception):
                # the entries stay leased and come due again when the lease ends
                log.error("notify_robot_pass_failed", robot=robot,
                          error=f"{type(outcome).__name__}: {outcome}")
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results += outcome
        await self._gauges()
        return results

    async def _loop(self, name: str, one_pass: Pass, wake: asyncio.Event,
                    stop: asyncio.Event) -> None:
        poll = self.config.delivery.poll_interval
        while not stop.is_set():
            wake.clear()
            done: list[Delivery] = []
            try:
                done = await one_pass(self.clock.now())
            except (aioredis.RedisError, OSError) as exc:
                log.warning("notify_pass_failed", loop=name,
                            error=f"{type(exc).__name__}: {exc}")
            except Exception:  # a bug must not stop every alert: log it, keep sending
                log.exception("notify_pass_crashed", loop=name)
            if done:  # a pass that did something may have left more due now (a split digest)
                await asyncio.sleep(0)
                continue
            waker = asyncio.ensure_future(wake.wait())
            try:
                await sleep_or_stop(self.clock, poll, stop, waker)
            finally:
                waker.cancel()

    async def send_test(self, robot_id: str) -> Answer:
        """Send a test message straight to one robot (no outbox) and return its answer."""
        return await send_test(self.config, robot_id, self.clock.now(), await self._http())

    async def retry_failed(self, robot: str | None = None) -> list[str]:
        """Send refused alerts again (e.g. after a key was fixed): every failed entry, or
        those of one robot, whose robot is configured now. Returns the entries requeued."""
        entries = [f["entry"] for f in await self.outbox.failed()
                   if (robot is None or split_entry(f["entry"])[0] == robot)
                   and self._ready(split_entry(f["entry"])[0])]
        await self.outbox.requeue_failed(entries, self.clock.now().timestamp())
        if entries:
            log.info("notify_failed_requeued", entries=len(entries), robot=robot)
            self._wake_robots([split_entry(e)[0] for e in entries])
        return entries

    async def status(self, limit: int = 50) -> dict:
        """Pending, failed and recent deliveries, robot health and silences (CLI and API)."""
        pending = await self.outbox.pending(limit)
        info = await self.outbox.entry_info([e for e, _ in pending])
        robots = {}
        for robot in self.config.robots:
            raw = await self._redis.hgetall(self._keys.notify_robot(robot.id))
            robots[robot.id] = {k.decode(): v.decode() for k, v in raw.items()}
            robots[robot.id]["configured"] = str(self.config.targets.get(robot.id) is not None
                                                 and self.config.targets[robot.id].configured)
        return {
            "pending_total": await self.outbox.pending_count(),
            "pending": [{"entry": e, "due": due, **info[e]} for e, due in pending],
            "failed": (await self.outbox.failed())[:limit],
            "recent": await self.outbox.recent(limit),
            "robots": robots,
            "silences": [s.model_dump(mode="json") for s in await self.silences()],
        }

    # ------------------------------------------------------------------ the passes

    async def _robot_pass(self, robot: str, now: datetime) -> list[Delivery]:
        """Claim this robot's due entries and send what may go."""
        ts = now.timestamp()
        claimed = await self.outbox.claim(ts, ts + self.config.delivery.lease,
                                          self.config.delivery.batch, only=[robot])
        return await self._send_claimed([e for e, _ in claimed], now)

    async def _housekeeping(self, now: datetime) -> list[Delivery]:
        """The housekeeping loop's pass: `_tend`, then the gauges."""
        results, _ = await self._tend(now)
        await self._gauges()
        return results

    async def _tend(self, now: datetime) -> tuple[list[Delivery], set[str]]:
        """Summary, reminders, and the entries no robot's sender here takes: refused (to the
        fallback) unless they wait for their robot to be configured. Returns what it did and
        the robots with entries due now."""
        await self._daily_summary(now)
        await self._reminders(now)
        ts = now.timestamp()
        due = await self.outbox.due_robots(ts)
        kept = self._senders() + ([] if self._fallback_ready() else self._waiting_robots())
        if due <= set(kept):
            return [], due
        claimed = await self.outbox.claim(ts, ts + self.config.delivery.lease,
                                          self.config.delivery.batch, besides=kept)
        return await self._send_claimed([e for e, _ in claimed], now), due

    async def _gauges(self) -> None:
        self.metrics.pending.set(await self.outbox.pending_count())
        self.metrics.failed.set(await self.outbox.failed_count())

    async def _send_claimed(self, entries: list[str], now: datetime) -> list[Delivery]:
        results: list[Delivery] = []
        if not entries:
            return results
        by_robot = await self._screen(entries, now, results)
        for robot, items in by_robot.items():
            delivery = await self._deliver(robot, items, now)
            if delivery is not None:
                results.append(delivery)
        return results

    async def _screen(self, entries: list[str], now: datetime,
                      results: list[Delivery]) -> dict[str, list[_Item]]:
        """Drop what must not be sent, hold what waits for its group, group the rest by robot."""
        keys = sorted({split_entry(e)[1] for e in entries})
        stored = await self.outbox.load(keys)
        shown = await self.outbox.delivered(entries)
        silences = await self.quiet.silences(now)
        events = {s.intent["event_id"] for s in stored.values() if s and s.intent.get("event_id")}
        acked, resolved = await self.quiet.states(events)
        dropped: dict[str, list[str]] = {}
        items: list[_Item] = []
        for entry in entries:
            robot, key = split_entry(entry)
            s = stored.get(key)
            reason = ("duplicate" if entry in shown else "expired" if s is None
                      else quiet_reason(s, robot, silences, acked, resolved))
            if reason:
                dropped.setdefault(reason, []).append(entry)
            else:
                items.append(_Item(entry, robot, key, s))
        for reason, group in dropped.items():
            self.metrics.suppressed.labels(reason).inc(len(group))
            record = self._record("suppressed", reason, group, now)
            await self.outbox.drop(group, record)
            results.append(Delivery(record.id, "-", tuple(split_entry(e)[1] for e in group),
                                    "suppressed", reason))
        items = await self._hold_grouped(items, now)
        by_robot: dict[str, list[_Item]] = {}
        for item in items:
            by_robot.setdefault(item.robot, []).append(item)
        return by_robot

    async def _hold_grouped(self, items: list[_Item], now: datetime) -> list[_Item]:
        """Alerts for an event that was messaged to the same robot moments ago wait for the
        end of its grouping window, then go out together."""
        pairs = sorted({(i.robot, i.stored.intent["event_id"]) for i in items
                        if i.stored.intent.get("event_id")})
        left = await self.quiet.group_wait_left(pairs, now)
        ready, held = [], {}
        for item in items:
            wait = left.get((item.robot, item.stored.intent.get("event_id")), 0.0)
            if wait > 0:
                held.setdefault(wait, []).append(item.entry)
            else:
                ready.append(item)
        for wait, entries in held.items():
            self.metrics.deferred.labels("grouped").inc(len(entries))
            await self.outbox.release(entries, now.timestamp() + wait)
        return ready

    async def _deliver(self, robot: str, items: list[_Item], now: datetime) -> Delivery | None:
        target = self.config.targets.get(robot)
        items.sort(key=lambda i: (i.stored.submitted, i.key))
        if target is None or not target.configured:
            missing = target.missing if target else ("robot not in notify.yaml",)
            answer = platforms.base.permanent(NotifyReason.NOT_CONFIGURED,
                                              "missing " + ", ".join(missing))
            return await self._refused(robot, target, items, answer, now)
        health = await self._redis.hgetall(self._keys.notify_robot(robot))
        blocked = float(health.get(b"blocked_until", 0) or 0)
        ts = now.timestamp()
        if blocked > ts:
            self.metrics.deferred.labels("blocked").inc(len(items))
            await self.outbox.release([i.entry for i in items], blocked)
            return None
        inflight = await self.outbox.inflight([i.entry for i in items])
        sections = [compose(AlertIntent.model_validate(i.stored.intent), now,
                            self.config.public_url, repeat=i.stored.repeat,
                            possible_duplicate=i.entry in inflight) for i in items]
        rendered = render(target.robot.platform, sections, keyword=target.robot.keyword,
                          extra=lambda n: _webhook_extra(items[:n], robot))
        taken, rest = items[:rendered.count], items[rendered.count:]
        wait = await self.budget.take(robot, target.robot.rate, now)
        if wait > 0:
            self.metrics.deferred.labels("budget").inc(len(items))
            await self.outbox.release([i.entry for i in items], ts + wait)
            return None
        if rest:
            self.metrics.deferred.labels("split").inc(len(rest))
            await self.outbox.release([i.entry for i in rest], ts)
        delivery_id = _delivery_id([i.entry for i in taken])
        payload = rendered.payload
        if target.robot.platform == "webhook":
            payload = {**payload, "delivery_id": delivery_id}
        await self.outbox.mark_inflight([i.entry for i in taken], delivery_id)
        answer = await platforms.send(await self._http(), target, payload, now, self.clock)
        self.metrics.messages.labels(target.robot.platform.value, answer.outcome.value).inc()
        if answer.outcome is Outcome.DELIVERED:
            return await self._delivered(target, taken, answer, delivery_id, rendered.title, now)
        self.metrics.failures.labels(target.robot.platform.value, answer.reason.value).inc()
        if answer.outcome is Outcome.RETRY:  # waits count from the answer (or its absence)
            return await self._retry(target, taken, answer, delivery_id, self.clock.now())
        return await self._refused(robot, target, taken, answer, now)

    async def _delivered(self, target: Target, items: list[_Item], answer: Answer,
                         delivery_id: str, title: str, now: datetime) -> Delivery:
        robot = target.robot.id
        end = now.timestamp() + self.config.quiet.group_interval
        groups = {self._keys.notify_group(robot, i.stored.intent["event_id"]): end
                  for i in items if i.stored.intent.get("event_id")}
        record = Record(delivery_id, robot, target.robot.platform.value, [i.key for i in items],
                        "delivered", answer.reason.value, now.timestamp(), answer.detail,
                        answer.status, title)
        await self.outbox.record([i.entry for i in items], record, groups)
        await self._redis.hset(self._keys.notify_robot(robot),
                               mapping={"failures": 0, "last_ok": now.timestamp()})
        done = self.clock.now().timestamp()
        for item in items:
            self.metrics.latency.observe(max(0.0, done - item.stored.submitted))
        self.metrics.alerts_delivered.labels(target.robot.platform.value).inc(len(items))
        log.info("notify_delivered", robot=robot, delivery_id=delivery_id, alerts=len(items))
        return Delivery(delivery_id, robot, tuple(i.key for i in items), "delivered", "ok",
                        answer.detail, answer.status)

    async def _retry(self, target: Target, items: list[_Item], answer: Answer,
                     delivery_id: str, now: datetime) -> Delivery:
        robot = target.robot.id
        failures = int(await self._redis.hincrby(self._keys.notify_robot(robot), "failures", 1))
        delay = self._backoff(failures, answer.retry_after)
        until = now.timestamp() + delay
        await self._redis.hset(self._keys.notify_robot(robot), mapping={
            "blocked_until": until, "last_error": f"{answer.reason}: {answer.detail}",
            "last_error_at": now.timestamp()})
        record = self._record("retry", answer.reason.value, [i.entry for i in items], now,
                              robot=robot, platform=target.robot.platform.value,
                              detail=answer.detail, status=answer.status, rid=delivery_id)
        record.unknown = answer.unknown
        await self.outbox.retry_later([i.entry for i in items], until, record)
        log.warning("notify_retry_later", robot=robot, reason=answer.reason.value,
                    detail=answer.detail, alerts=len(items), retry_in=round(delay, 1),
                    outcome_unknown=answer.unknown)
        return Delivery(delivery_id, robot, tuple(i.key for i in items), "retry",
                        answer.reason.value, answer.detail, answer.status, answer.unknown)

    async def _refused(self, robot: str, target: Target | None, items: list[_Item],
                       answer: Answer, now: datetime) -> Delivery:
        """Permanent failure: keep it visible and hand the alerts to the fallback robot."""
        fallback = self.config.fallback if self._fallback_ready() else None
        moved = [entry_id(fallback, i.key) for i in items if fallback and fallback != robot]
        platform = target.robot.platform.value if target else "-"
        record = self._record("permanent", answer.reason.value, [i.entry for i in items], now,
                              robot=robot, platform=platform, detail=answer.detail,
                              status=answer.status)
        await self.outbox.fail([i.entry for i in items], record, moved, now.timestamp())
        await self._redis.hset(self._keys.notify_robot(robot), mapping={
            "last_error": f"{answer.reason}: {answer.detail}",
            "last_error_at": now.timestamp()})
        log.error("notify_refused", robot=robot, reason=answer.reason.value,
                  detail=answer.detail, alerts=len(items), fallback=fallback if moved else None)
        if moved:
            self._wake_robots([fallback])
        return Delivery(record.id, robot, tuple(i.key for i in items), "permanent",
                        answer.reason.value, answer.detail, answer.status)

    # ------------------------------------------------------------------ reminders, summary

    async def _reminders(self, now: datetime) -> None:
        """Missed deadlines still unresolved are repeated every `repeat_interval`."""
        quiet = self.config.quiet
        due = await self.outbox.due_repeats(now.timestamp())
        if not due:
            return
        stored = await self.outbox.load([k for k, _ in due])
        events = {s.intent["event_id"] for s in stored.values() if s and s.intent.get("event_id")}
        acked, resolved = await self.quiet.states(events)
        for key, score in due:
            s = stored.get(key)
            event = s.intent.get("event_id") if s else None
            slot = round((score - s.submitted) / quiet.repeat_interval) if s else 0
            count = int(await self._redis.hget(self._keys.notify_reminded, key) or 0) + 1
            if s is None or event in acked or event in resolved or slot < 1 or \
                    count > quiet.max_repeats:
                await self.outbox.advance_repeat(key, score, None)
                await self._redis.hdel(self._keys.notify_reminded, key)
                continue
            intent = AlertIntent.model_validate(s.intent)
            routed = route(self.config, intent)
            ready = [r for r in routed.receivers if self._ready(r)] or \
                ([self.config.fallback] if self._fallback_ready() else [])
            reminder = Stored(s.intent, now.timestamp(), ready, list(routed.routes), count, key)
            rkey = f"{key}#repeat{slot}"  # the same slot gives the same key in every process
            await self.outbox.add(rkey, reminder, [entry_id(r, rkey) for r in ready],
                                  now.timestamp())
            self._wake_robots(ready)
            nxt = score + quiet.repeat_interval
            while nxt <= now.timestamp():  # after downtime: one reminder, not a catch-up burst
                nxt += quiet.repeat_interval
            if await self.outbox.advance_repeat(key, score, nxt):
                await self._redis.hset(self._keys.notify_reminded, key, count)

    async def _daily_summary(self, now: datetime) -> None:
        summary = self.config.summary
        if summary is None or self._summary_source is None:
            return
        local = now.astimezone(CHINA)
        if local.time().replace(tzinfo=None) < summary.at.replace(tzinfo=None):
            return
        day = local.date().isoformat()
        key = f"daily_summary:{day}"
        marker = self._keys.notify_summary(day)
        if await self._redis.exists(self._keys.notify_intent(key), marker):
            return
        # one process builds it; if it dies the lock runs out and another one does
        lock = self._keys.notify_summary_lock(day)
        if not await self._redis.set(lock, "1", nx=True, ex=SUMMARY_LOCK_SECONDS):
            return
        try:
            intent = await self._summary_source(now)
            if intent is not None:
                await self.submit(intent.model_copy(update={"key": key}))
            await self._redis.set(marker, "done", ex=2 * 86400)
        except Exception as exc:  # the source is someone else's code: log, retry next pass
            log.error("notify_summary_failed", error=f"{type(exc).__name__}: {exc}")
            await self._redis.delete(lock)

    # ------------------------------------------------------------------ helpers

    def _ready(self, robot: str | None) -> bool:
        target = self.config.targets.get(robot or "")
        return bool(target and target.configured)

    def _fallback_ready(self) -> bool:
        return self._ready(self.config.fallback)

    def _receivers(self, routed: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
        """(ready, waiting, refused): the configured receivers, else the fallback; if neither
        can send, the robots it waits for in the outbox; the rest are recorded as refused."""
        ready = [r for r in routed if self._ready(r)]
        unready = [r for r in routed if r not in ready]
        if not ready and self._fallback_ready():
            ready = [self.config.fallback]
        waiting = [r for r in unready if self._waits_for(r)] if not ready else []
        return ready, waiting, [r for r in unready if r not in waiting]

    def _senders(self) -> list[str]:
        """The robots this process sends to: each gets its own loop."""
        return [rid for rid in self.config.targets if self._ready(rid)]

    def _waits_for(self, robot: str) -> bool:
        """A robot in notify.yaml, switched on, whose secrets are not set (yet)."""
        target = self.config.targets.get(robot)
        return bool(target and target.missing and getattr(target.robot, "enabled", True))

    def _waiting_robots(self) -> list[str]:
        return [rid for rid in self.config.targets if self._waits_for(rid)]

    def _wake_robots(self, robots: list[str]) -> None:
        for robot in robots:
            if robot in self._wakes:
                self._wakes[robot].set()

    def _backoff(self, failures: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, never sooner than the platform asked. The cap
        (20 s by default) is how often a robot that is down is tried: its backlog goes out
        within that of its recovery."""
        d = self.config.delivery
        doublings = min(max(0, failures - 1), MAX_DOUBLINGS)
        base = min(d.backoff_cap, d.backoff_base * 2 ** doublings)
        jittered = base * (1 + d.jitter * (2 * self._rng.random() - 1))
        if retry_after is not None:
            return max(retry_after, 0.0) + abs(jittered - base)
        return max(0.5, jittered)

    async def _unroutable(self, intent: AlertIntent, robots: list[str], now: float) -> None:
        """Receivers without secrets: recorded as refused so the gap is visible."""
        entries = [entry_id(r, intent.key) for r in robots]
        record = Record(_delivery_id(entries), ",".join(robots), "-", [intent.key], "permanent",
                        NotifyReason.NOT_CONFIGURED.value, now,
                        "robot not configured (missing secrets)")
        await self.outbox.fail(entries, record, [], now)

    def _record(self, outcome: str, reason: str, entries: list[str], now: datetime, *,
                robot: str = "-", platform: str = "-", detail: str = "", status: int = 0,
                rid: str | None = None) -> Record:
        return Record(rid or _delivery_id(entries), robot, platform,
                      [split_entry(e)[1] for e in entries], outcome, reason, now.timestamp(),
                      detail, status)

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    def _announce_unconfigured(self) -> None:
        """One line at start, whatever number of alerts then wait or go elsewhere."""
        missing = {rid: list(t.missing) for rid, t in self.config.targets.items()
                   if not t.configured}
        if not missing:
            return
        fallback = self.config.fallback
        where = (f"go to the fallback robot {fallback!r}" if self._fallback_ready() else
                 "wait in the outbox (`monitor outbox`, /api/outbox) and are sent once the "
                 "robot is configured")
        secrets = sorted({m for ms in missing.values() for m in ms})
        if not self._senders():
            log.warning("notify_no_robot_configured", robots=sorted(missing),
                        missing_secrets=secrets,
                        hint=f"no alert can be sent yet: set the variables or "
                             f"MONITOR_SECRETS_FILE and restart; alerts {where}")
            return
        log.warning("notify_robots_not_configured", robots=sorted(missing),
                    missing_secrets=secrets,
                    hint=f"set the variables or MONITOR_SECRETS_FILE; alerts for these "
                         f"robots {where}")


async def send_test(config: NotifyConfig, robot_id: str, now: datetime,
                    session: aiohttp.ClientSession) -> Answer:
    """A test message to one robot, bypassing the outbox (`monitor notify test`)."""
    target = config.targets.get(robot_id) or Target.fill(config.robot(robot_id), {})
    intent = AlertIntent(key=f"test:{robot_id}:{int(now.timestamp())}", kind=AlertKind.TEST,
                         at=now, title=target.robot.name)
    section = compose(intent, now, config.public_url)
    rendered = render(target.robot.platform, [section], keyword=target.robot.keyword,
                      extra=lambda n: {"delivery_id": intent.key,
                                       "alerts": [intent.model_dump(mode="json")]})
    return await platforms.send(session, target, rendered.payload, now)


def _delivery_id(entries: list[str]) -> str:
    """The same set of entries gives the same id, so a re-send after a crash carries the
    same Idempotency-Key on the generic webhook."""
    digest = hashlib.sha1("\n".join(sorted(entries)).encode()).hexdigest()
    return f"d-{digest[:16]}"


def _waiting_note(config: NotifyConfig, robots: list[str]) -> str:
    missing = sorted({m for r in robots for m in config.targets[r].missing})
    return f"waiting: robot not configured (set {', '.join(missing)})"


def _webhook_extra(items: list[_Item], robot: str) -> dict:
    return {"receiver": robot, "alerts": [
        {**i.stored.intent, "repeat": i.stored.repeat} for i in items]}

