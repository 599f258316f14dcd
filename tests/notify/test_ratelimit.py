"""The shared sliding-window budget: exact per window, atomic across concurrent takers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from monitor.notify.config import PLATFORM_LIMITS, Platform, RateRule
from monitor.notify.ratelimit import RateBudget

pytestmark = pytest.mark.redis


async def test_twenty_a_minute_then_wait_for_the_oldest(redis, keys, clock):
    budget = RateBudget(redis, keys)
    rule = PLATFORM_LIMITS[Platform.WECOM]
    for _ in range(20):
        assert await budget.take("office", rule, clock.now()) == 0
        clock.advance(1)
    # 20 sends at t=0..19; the first leaves the window at t=60
    assert await budget.take("office", rule, clock.now()) == pytest.approx(40.0)
    clock.advance(39.999)
    assert await budget.take("office", rule, clock.now()) == pytest.approx(0.001, abs=1e-3)
    clock.advance(0.001)
    assert await budget.take("office", rule, clock.now()) == 0
    assert await budget.used("office", 60, clock.now()) == 20


async def test_every_window_is_enforced(redis, keys, clock):
    budget = RateBudget(redis, keys)
    rule = PLATFORM_LIMITS[Platform.FEISHU]  # 100 a minute and 5 a second

    async def offer(seconds: float) -> int:
        taken = 0
        for _ in range(int(seconds / 0.05)):
            taken += await budget.take("health", rule, clock.now()) == 0
            assert await budget.used("health", 1, clock.now()) <= 5
            clock.advance(0.05)
        return taken

    assert await offer(20) == 100  # 20 s at 5 a second: the second window binds
    assert await offer(40) == 0  # 100 in the last minute: the minute window binds
    assert await offer(20) == 100  # the first sends have left the minute window


async def test_concurrent_takers_never_share_the_last_slot(redis, keys, clock):
    budgets = [RateBudget(redis, keys) for _ in range(4)]
    rule = RateRule(((60.0, 20),))
    waits = await asyncio.gather(*(budgets[i % 4].take("env", rule, clock.now())
                                   for i in range(100)))
    assert sum(1 for w in waits if w == 0) == 20
    assert all(w == pytest.approx(60.0) for w in waits if w)


async def test_robots_have_separate_budgets(redis, keys, clock):
    budget = RateBudget(redis, keys)
    rule = RateRule(((60.0, 1),))
    assert await budget.take("a", rule, clock.now()) == 0
    assert await budget.take("b", rule, clock.now()) == 0
    assert await budget.take("a", rule, clock.now() + timedelta(seconds=59)) > 0


def test_per_minute_lowers_but_never_raises_the_limit():
    from monitor.notify.config import Robot

    robot = Robot(id="x", name="x", platform="feishu", url="https://x", per_minute=30)
    assert robot.rate.windows == ((60.0, 30), (1.0, 5))
    with pytest.raises(ValueError, match="above the wecom limit of 20"):
        Robot(id="x", name="x", platform="wecom", url="https://x", per_minute=21)
