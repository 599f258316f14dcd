"""Fixtures for the notify tests: fake robots on the test's clock, configs built around them,
and notifiers on the shared test Redis."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from monitor.clock import FakeClock
from monitor.domain.alerts import AlertIntent, AlertKind, DeadlineView
from monitor.notify.config import NotifyConfig
from monitor.notify.metrics import NotifyMetrics
from monitor.notify.notifier import Notifier
from tests.notify.fakerobots import FakeRobots

SECRETS = {"DING_SECRET": "SECabc123", "FEISHU_SECRET": "fs-secret", "HOOK_SECRET": "hk"}


@pytest.fixture
async def robots(clock: FakeClock) -> AsyncIterator[FakeRobots]:
    fake = await FakeRobots(now=clock.now).start()
    fake.add("office", "wecom")
    fake.add("env", "dingtalk", secret=SECRETS["DING_SECRET"])
    fake.add("health", "feishu", secret=SECRETS["FEISHU_SECRET"])
    fake.add("ops", "slack")
    fake.add("archive", "webhook", secret=SECRETS["HOOK_SECRET"])
    fake.add("spare", "wecom")
    yield fake
    await fake.stop()


def base_config(robots: FakeRobots, **overrides) -> dict:
    """Routes like the shipped notify.yaml, pointed at the fake robots."""
    config = {
        "robots": [
            {"id": "office", "name": "省政府办公厅值班群", "platform": "wecom",
             "url": robots.url("office")},
            {"id": "env", "name": "省生态环境厅舆情群", "platform": "dingtalk",
             "url": robots.url("env"), "secret": "${DING_SECRET}"},
            {"id": "health", "name": "省卫生健康委舆情群", "platform": "feishu",
             "url": robots.url("health"), "secret": "${FEISHU_SECRET}"},
            {"id": "ops", "name": "运维值班", "platform": "slack", "url": robots.url("ops")},
            {"id": "archive", "name": "舆情归档", "platform": "webhook",
             "url": robots.url("archive"), "secret": "${HOOK_SECRET}"},
            {"id": "spare", "name": "备用值班群", "platform": "wecom",
             "url": robots.url("spare")},
        ],
        "route": {"receivers": ["office"], "routes": [
            {"name": "environment", "match": {"topic": ["生态环境"]}, "receivers": ["env"],
             "continue": True},
            {"name": "health", "match": {"topic": ["卫生健康"]}, "receivers": ["health"],
             "continue": True},
            {"name": "major", "match": {"severity_at_least": "重大"}, "receivers": ["office"]},
            {"name": "dept-only", "match": {"topic": ["生态环境", "卫生健康"]},
             "receivers": []},
            {"name": "operations", "match": {"topic": ["运维"]}, "receivers": ["ops", "archive"]},
        ]},
        "fallback": "spare",
        "quiet": {"group_interval": "60s", "repeat_interval": "4h", "max_repeats": 3},
    }
    config.update(overrides)
    return config


@pytest.fixture
async def make_notifier(redis, keys, clock, rng) -> AsyncIterator[Callable[..., Notifier]]:
    made: list[Notifier] = []

    def make(config: dict, env: dict | None = None, session: aiohttp.ClientSession | None = None,
             registry: CollectorRegistry | None = None, seed: int | None = None) -> Notifier:
        cfg = NotifyConfig.model_validate(config).resolve(
            SECRETS if env is None else env, "https://yq.example.gov.cn")
        notifier = Notifier(redis, keys, cfg, clock, NotifyMetrics(registry or
                                                                    CollectorRegistry()),
                            session=session,
                            rng=random.Random(seed) if seed is not None else rng)
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        await notifier.aclose()


def alert(key: str, kind: AlertKind = AlertKind.NEW_EVENT, *, at: datetime,
          event_id: str = "evt1", **fields) -> AlertIntent:
    defaults = dict(title="昆明某化工厂爆炸致3人死亡", topic="社会治安", severity="较大",
                    region="昆明", incident="事故灾难", first_seen=at,
                    deadlines=(DeadlineView(rule="response_48h", label="48小时内回应",
                                            due=at + timedelta(hours=48), state="pending"),))
    defaults.update(fields)
    return AlertIntent(key=key, kind=kind, at=at, event_id=event_id, **defaults)


async def drain(notifier: Notifier, clock: FakeClock, *, step: float = 1.0,
                until: float = 0.0, max_passes: int = 100000) -> list:
    """Run passes, moving the fake clock `step` seconds between them, until nothing is
    pending (or `until` seconds of fake time have passed)."""
    done = []
    start = clock.now()
    for _ in range(max_passes):
        done += await notifier.run_once()
        if until and (clock.now() - start).total_seconds() >= until:
            break
        if not until and await notifier.outbox.pending_count() == 0:
            break
        clock.advance(step)
    return done


TITLE = re.compile(r"事件第(\d+)号")


def shown(texts: list[str]) -> list[int]:
    """Alert numbers as an officer sees them, across all messages (repeats included)."""
    return sorted(int(n) for t in texts for n in TITLE.findall(t))


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> float:
    """Wait (in real time: for sockets and tasks, never for a deadline) until `condition`
    holds; returns how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds:g}s")
        await asyncio.sleep(0.005)
    return time.monotonic() - start
