"""What the officers' desk keeps in Redis besides events: page sessions, failed-login
counts, the answers to idempotent retries, and corrections as labelled feedback."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from monitor.domain.feedback import Correction
from monitor.store.keys import Keys

SESSION_SECONDS = 12 * 3600  # one duty shift
LOGIN_WINDOW_SECONDS = 15 * 60
IDEMPOTENT_SECONDS = 86400


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    officer: str
    csrf: str
    token_id: str = ""  # the officer's token at sign-in: a rotated token ends the session


class SessionStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._r = redis
        self._k = keys

    async def open(self, officer: str, token_id: str) -> Session:
        session = Session(secrets.token_urlsafe(32), officer, secrets.token_urlsafe(24),
                          token_id)
        key = self._k.desk_session(session.id)
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"officer": officer, "csrf": session.csrf,
                                    "token_id": token_id})
            pipe.expire(key, SESSION_SECONDS)
            await pipe.execute()
        return session

    async def find(self, session_id: str) -> Session | None:
        if not session_id or len(session_id) > 100:
            return None
        raw = await self._r.hgetall(self._k.desk_session(session_id))
        if not raw:
            return None
        return Session(session_id, raw[b"officer"].decode(), raw[b"csrf"].decode(),
                       raw.get(b"token_id", b"").decode())

    async def close(self, session_id: str) -> None:
        await self._r.delete(self._k.desk_session(session_id))

    async def failures(self, client: str) -> int:
        return int(await self._r.get(self._k.desk_login_failures(client)) or 0)

    async def failed(self, client: str) -> int:
        key = self._k.desk_login_failures(client)
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, LOGIN_WINDOW_SECONDS)
            count, _ = await pipe.execute()
        return int(count)


class IdempotencyStore:
    """The first answer to (officer, Idempotency-Key) is kept a day and given to retries."""

    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._r = redis
        self._k = keys

    async def answer(self, officer: str, key: str) -> tuple[int, dict] | None:
        raw = await self._r.get(self._k.desk_idempotent(officer, key))
        if raw is None:
            return None
        stored = json.loads(raw)
        return stored["status"], stored["body"]

    async def remember(self, officer: str, key: str, status: int, body: dict) -> None:
        await self._r.set(self._k.desk_idempotent(officer, key),
                          json.dumps({"status": status, "body": body}, ensure_ascii=False),
                          ex=IDEMPOTENT_SECONDS, nx=True)


def feedback_fields(correction: Correction) -> list[str]:
    """A correction as the feedback stream keeps it: field, value, … (None as ""). Written
    by the event save (monitor.store.events) so that a label exists only for a correction
    that was applied."""
    return [part for name, value in correction.model_dump(mode="json").items()
            for part in (name, "" if value is None else str(value))]


class FeedbackStore:
    """The labelled feedback, read back (for training and the SQL history)."""

    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._r = redis
        self._k = keys

    async def all(self, limit: int = 1000) -> list[dict[str, str]]:
        entries = await self._r.xrevrange(self._k.feedback, count=limit)
        return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]
