"""Per-robot send budgets shared by every process: a sliding-window log in Redis.

Each robot has a sorted set of its send times (ms). Before a send, one Lua script checks
every window of the platform (e.g. Feishu: 100 a minute *and* 5 a second) and, only if all
have room, records the send — check and record are one atomic step, so two processes can
never both take the last slot. When there is no room the script says how long until there is.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import redis.asyncio as aioredis

from monitor.notify.config import RateRule
from monitor.store.keys import Keys

_TAKE = """
local now = tonumber(ARGV[1])
local longest = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local wait = 0
for i = 4, #ARGV, 2 do
  local window = tonumber(ARGV[i])
  local limit = tonumber(ARGV[i + 1])
  local inside = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - window), '+inf',
                            'WITHSCORES')
  local count = #inside / 2
  if count >= limit then
    -- the slot frees when the (count - limit + 1)-th oldest send leaves the window
    local oldest = tonumber(inside[(count - limit) * 2 + 2])
    local until_free = oldest + window - now
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], longest + 1000)
return 0
"""


class RateBudget:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._take = redis.register_script(_TAKE)

    async def take(self, robot: str, rule: RateRule, now: datetime) -> float:
        """Record one send if every window has room and return 0; otherwise record nothing
        and return the seconds until a slot frees."""
        now_ms = int(now.timestamp() * 1000)
        windows = [(int(w * 1000), n) for w, n in rule.windows]
        args: list = [now_ms, max(w for w, _ in windows), f"{now_ms}:{uuid.uuid4().hex[:8]}"]
        for window, limit in windows:
            args += [window, limit]
        wait_ms = await self._take(keys=[self._keys.notify_window(robot)], args=args)
        return int(wait_ms) / 1000.0

    async def used(self, robot: str, window: float, now: datetime) -> int:
        now_ms = int(now.timestamp() * 1000)
        return int(await self._redis.zcount(self._keys.notify_window(robot),
                                            f"({now_ms - int(window * 1000)}", "+inf"))
