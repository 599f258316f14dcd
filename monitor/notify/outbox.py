"""The durable outbox in Redis: what is to be sent, to which robot, when; and what was sent.

    intent:<key>          the alert (JSON, SET NX: a replayed key is recognised)
    outbox                sorted set '<robot>|<key>' → due time; claiming moves the score to the
                          end of a lease, so an entry whose sender died is due again after it
    entry:<robot>|<key>   attempts, last error (or why it waits), in-flight delivery id (while
                          a send is under way), `unknown`: a send left unanswered (until shown)
    delivered:<entry>     the delivery that showed it: checked before every send
    failed                permanent failures, for `monitor outbox` and the API
    recent                the last deliveries, newest first

Record-then-ack: after the platform accepts a message, one MULTI writes `delivered:` and
removes the entries from the outbox. A crash before that MULTI leaves the entries leased;
they are sent again after the lease (marked as a possible repeat), which is the only window
in which an officer can see a message twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

import redis.asyncio as aioredis

from monitor.store.keys import NOTIFY_KEEP_SECONDS, NOTIFY_RECENT, Keys

SEP = "|"
GROUP_KEY_TTL = 86400  # only collects garbage; the window's end is the stored value

_SUBMIT = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', tonumber(ARGV[2])) then return 0 end
for i = 6, #ARGV do redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[i]) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[5]) end
return 1
"""

# Each robot's sender claims only its own entries ("only"); the housekeeping loop claims those
# no sender here takes ("except"). The robot is the part of the member before the first '|'.
_CLAIM = """
local limit = tonumber(ARGV[3])
local listed = {}
for i = 5, #ARGV do listed[ARGV[i]] = true end
local out, offset = {}, 0
while #out < 2 * limit do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT',
                         offset, 256)
  if #due == 0 then break end
  for i = 1, #due, 2 do
    local robot = string.match(due[i], '^([^|]*)|')
    local wanted = ARGV[4] == 'all' or ((listed[robot] ~= nil) == (ARGV[4] == 'only'))
    if wanted and #out < 2 * limit then
      out[#out + 1] = due[i]
      out[#out + 1] = due[i + 1]
    end
  end
  offset = offset + #due / 2
end
for i = 1, #out, 2 do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], out[i]) end
return out
"""

_DUE_ROBOTS = """
local seen, out, offset = {}, {}, 0
while true do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', offset, 256)
  if #due == 0 then return out end
  for i = 1, #due do
    local robot = string.match(due[i], '^([^|]*)|')
    if robot and not seen[robot] then
      seen[robot] = true
      out[#out + 1] = robot
    end
  end
  offset = offset + #due
end
"""

_ADVANCE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1])
else redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1]) end
return 1
"""


def entry_id(robot: str, key: str) -> str:
    return f"{robot}{SEP}{key}"


def split_entry(entry: str) -> tuple[str, str]:
    robot, _, key = entry.partition(SEP)
    return robot, key


@dataclass
class Stored:
    """An alert as kept in the outbox: the intent and what routing decided at submit."""

    intent: dict
    submitted: float
    receivers: list[str]
    routes: list[str] = field(default_factory=list)
    repeat: int = 0  # 0: the alert itself; n: its n-th reminder
    base: str | None = None  # for reminders: the key of the missed-deadline alert

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, raw: bytes | str) -> Stored:
        return cls(**json.loads(raw))


@dataclass
class Record:
    """One line of the delivery log: a message sent (or refused, or suppressed)."""

    id: str
    robot: str
    platform: str
    keys: list[str]
    outcome: str  # delivered | retry | permanent | suppressed
    reason: str
    at: float
    detail: str = ""
    status: int = 0
    title: str = ""
    unknown: bool = False  # sent, no answer: the platform may have shown it

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))


class Outbox:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._r = redis
        self._k = keys
        self._submit = redis.register_script(_SUBMIT)
        self._claim = redis.register_script(_CLAIM)
        self._due_robots = redis.register_script(_DUE_ROBOTS)
        self._advance = redis.register_script(_ADVANCE)

    # ---- writing alerts in

    async def add(self, key: str, stored: Stored, entries: list[str], due: float,
                  repeat_at: float | None = None) -> bool:
        """Store the alert, its entries and (for a missed deadline) its first reminder, in one
        step and once per key; False if the key was seen before."""
        added = await self._submit(
            keys=[self._k.notify_intent(key), self._k.notify_outbox, self._k.notify_repeats],
            args=[stored.dumps(), NOTIFY_KEEP_SECONDS, due,
                  "" if repeat_at is None else repr(repeat_at), key, *entries])
        return bool(added)

    async def note(self, entries: list[str], text: str) -> None:
        """Say why entries wait (shown as their last error by `monitor outbox` and the API)."""
        pipe = self._r.pipeline(transaction=False)
        for e in entries:
            pipe.hset(self._k.notify_entry(e), "last_error", text)
            pipe.expire(self._k.notify_entry(e), NOTIFY_KEEP_SECONDS)
        await pipe.execute()

    async def enqueue(self, entries: list[str], due: float) -> None:
        if entries:
            await self._r.zadd(self._k.notify_outbox, {e: due for e in entries}, nx=True)

    # ---- the sender's side

    async def claim(self, now: float, lease_until: float, limit: int, *,
                    only: list[str] | None = None, besides: list[str] | None = None
                    ) -> list[tuple[str, float]]:
        """Lease up to `limit` due entries (oldest first) — of the robots `only`, or of every
        robot but `besides`, or of all; nobody else gets them meanwhile."""
        mode, robots = ("only", only) if only is not None else \
            ("except", besides) if besides is not None else ("all", [])
        raw = await self._claim(keys=[self._k.notify_outbox],
                                args=[now, lease_until, limit, mode, *robots])
        return [(_text(raw[i]), float(raw[i + 1])) for i in range(0, len(raw), 2)]

    async def due_robots(self, now: float) -> set[str]:
        """The robots with entries due at `now` (one round trip, to skip idle robots)."""
        return {_text(r) for r in await self._due_robots(keys=[self._k.notify_outbox],
                                                          args=[now])}

    async def load(self, keys: list[str]) -> dict[str, Stored | None]:
        if not keys:
            return {}
        raws = await self._r.mget([self._k.notify_intent(k) for k in keys])
        return {k: (Stored.loads(raw) if raw else None) for k, raw in zip(keys, raws, strict=True)}

    async def delivered(self, entries: list[str]) -> set[str]:
        if not entries:
            return set()
        marks = await self._r.mget([self._k.notify_delivered(e) for e in entries])
        return {e for e, mark in zip(entries, marks, strict=True) if mark}

    async def inflight(self, entries: list[str]) -> set[str]:
        """Entries a platform may have shown already: a crashed sender's (in flight, never
        recorded) and those of a send that got no answer."""
        if not entries:
            return set()
        pipe = self._r.pipeline(transaction=False)
        for e in entries:
            pipe.hmget(self._k.notify_entry(e), "inflight", "unknown")
        return {e for e, v in zip(entries, await pipe.execute(), strict=True) if any(v)}

    async def mark_inflight(self, entries: list[str], delivery_id: str) -> None:
        pipe = self._r.pipeline(transaction=False)
        for e in entries:
            pipe.hset(self._k.notify_entry(e), "inflight", delivery_id)
            pipe.expire(self._k.notify_entry(e), NOTIFY_KEEP_SECONDS)
        await pipe.execute()

    async def release(self, entries: list[str], due: float) -> None:
        """Give leased entries back, due at `due` (not sent: no budget, grouped, or too many
        for one message)."""
        if entries:
            await self._r.zadd(self._k.notify_outbox, {e: due for e in entries}, xx=True)

    async def retry_later(self, entries: list[str], due: float, record: Record) -> None:
        """The platform did not take the message: try again at `due`. If it may have shown it
        (`record.unknown`), the entry says so until it is shown: every later attempt is
        marked as a possible repeat, whatever happens to the attempts in between."""
        pipe = self._r.pipeline(transaction=True)
        pipe.zadd(self._k.notify_outbox, {e: due for e in entries}, xx=True)
        for e in entries:
            h = self._k.notify_entry(e)
            pipe.hincrby(h, "attempts", 1)
            pipe.hset(h, mapping={"last_error": f"{record.reason}: {record.detail}",
                                  "last_attempt": record.at})
            pipe.hdel(h, "inflight")
            if record.unknown:
                pipe.hset(h, "unknown", record.id)
            pipe.expire(h, NOTIFY_KEEP_SECONDS)
        self._log(pipe, record)
        await pipe.execute()

    async def record(self, entries: list[str], record: Record, groups: dict[str, float]) -> None:
        """Record-then-ack, in one MULTI: delivered markers, entries out of the outbox,
        the delivery log line, and the grouping windows (key → end time)."""
        pipe = self._r.pipeline(transaction=True)
        for e in entries:
            pipe.set(self._k.notify_delivered(e), record.id, ex=NOTIFY_KEEP_SECONDS)
            pipe.zrem(self._k.notify_outbox, e)
            pipe.delete(self._k.notify_entry(e))
            pipe.hdel(self._k.notify_failed, e)
        for key, end in groups.items():  # the window's end on the injected clock
            pipe.set(key, repr(end), ex=GROUP_KEY_TTL)
        self._log(pipe, record)
        await pipe.execute()

    async def drop(self, entries: list[str], record: Record) -> None:
        """Entries that will not be sent (silenced, acknowledged, already shown, expired)."""
        pipe = self._r.pipeline(transaction=True)
        for e in entries:
            pipe.zrem(self._k.notify_outbox, e)
            pipe.delete(self._k.notify_entry(e))
        self._log(pipe, record)
        await pipe.execute()

    async def fail(self, entries: list[str], record: Record, fallback: list[str],
                   due: float) -> None:
        """The robot refused for good: keep the failure visible, hand over to the fallback."""
        pipe = self._r.pipeline(transaction=True)
        for e in entries:
            pipe.zrem(self._k.notify_outbox, e)
            pipe.delete(self._k.notify_entry(e))
            pipe.hset(self._k.notify_failed, e, record.dumps())
        if fallback:
            pipe.zadd(self._k.notify_outbox, {e: due for e in fallback}, nx=True)
        self._log(pipe, record)
        await pipe.execute()

    async def requeue_failed(self, entries: list[str], due: float) -> int:
        """Put refused entries back in the outbox (after the robot's config was fixed)."""
        if not entries:
            return 0
        pipe = self._r.pipeline(transaction=True)
        pipe.zadd(self._k.notify_outbox, {e: due for e in entries}, nx=True)
        pipe.hdel(self._k.notify_failed, *entries)
        added, _ = await pipe.execute()
        return int(added)

    async def log(self, record: Record) -> None:
        """Add a line to the delivery log alone (a test message sent outside the outbox)."""
        pipe = self._r.pipeline(transaction=True)
        self._log(pipe, record)
        await pipe.execute()

    def _log(self, pipe, record: Record) -> None:
        pipe.lpush(self._k.notify_recent, record.dumps())
        pipe.ltrim(self._k.notify_recent, 0, NOTIFY_RECENT - 1)

    # ---- reminders for missed deadlines

    async def schedule_repeat(self, key: str, at: float) -> None:
        await self._r.zadd(self._k.notify_repeats, {key: at}, nx=True)

    async def due_repeats(self, now: float, limit: int = 100) -> list[tuple[str, float]]:
        raw = await self._r.zrangebyscore(self._k.notify_repeats, "-inf", now, start=0,
                                          num=limit, withscores=True)
        return [(_text(m), float(s)) for m, s in raw]

    async def advance_repeat(self, key: str, seen: float, nxt: float | None) -> bool:
        """Move a reminder from `seen` to `nxt` (None: stop), only if nobody moved it yet."""
        done = await self._advance(keys=[self._k.notify_repeats],
                                   args=[key, repr(seen), "" if nxt is None else repr(nxt)])
        return bool(done)

    # ---- reading, for the CLI and the API

    async def pending(self, limit: int = 100) -> list[tuple[str, float]]:
        raw = await self._r.zrange(self._k.notify_outbox, 0, limit - 1, withscores=True)
        return [(_text(m), float(s)) for m, s in raw]

    async def pending_count(self) -> int:
        return int(await self._r.zcard(self._k.notify_outbox))

    async def next_due(self) -> float | None:
        first = await self._r.zrange(self._k.notify_outbox, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def failed(self) -> list[dict]:
        raw = await self._r.hgetall(self._k.notify_failed)
        rows = [{"entry": _text(k), **json.loads(v)} for k, v in raw.items()]
        return sorted(rows, key=lambda r: -r["at"])

    async def failed_count(self) -> int:
        return int(await self._r.hlen(self._k.notify_failed))

    async def recent(self, limit: int = 50) -> list[dict]:
        return [json.loads(r) for r in await self._r.lrange(self._k.notify_recent, 0, limit - 1)]

    async def entry_info(self, entries: list[str]) -> dict[str, dict[str, str]]:
        pipe = self._r.pipeline(transaction=False)
        for e in entries:
            pipe.hgetall(self._k.notify_entry(e))
        rows = await pipe.execute()
        return {e: {_text(k): _text(v) for k, v in row.items()}
                for e, row in zip(entries, rows, strict=True)}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def ts(when: datetime) -> float:
    return when.timestamp()
