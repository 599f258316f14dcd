"""Fault tests: a robot down for an hour, a process killed mid-send, a burst of 500 alerts
against two sender processes, a robot throttled by someone else, a Redis restart with AOF."""

from __future__ import annotations

import asyncio

import pytest

from monitor.domain.alerts import AlertKind
from monitor.store.embedded import EmbeddedRedis, connect
from tests.notify.conftest import alert, base_config, drain, shown

pytestmark = pytest.mark.redis


class Killed(BaseException):
    """Stands for the process dying at this point."""


async def test_robot_down_for_an_hour_then_back(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    office = robots.robots["office"]
    office.down = True
    for i in range(60):
        await notifier.submit(alert(f"e{i}:new", at=clock.now(), event_id=f"e{i}",
                                    title=f"事件第{i}号"))
        await drain(notifier, clock, step=10, until=60)
    assert office.messages == []
    office.down = False
    await drain(notifier, clock, step=10)
    assert shown(robots.texts("office")) == list(range(60))  # every alert, once
    assert len(office.messages) < 10  # merged into digests, not 60 messages
    assert office.violations == 0
    assert robots.robots["spare"].messages == []  # down is not refused: no fallback
    status = await notifier.status()
    assert status["pending_total"] == 0 and status["failed"] == []


async def test_killed_between_claim_and_send(robots, make_notifier, clock, monkeypatch):
    first = make_notifier(base_config(robots))
    await first.submit(alert("e:new", at=clock.now(), title="事件第1号"))

    async def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(first.outbox, "mark_inflight", die)
    with pytest.raises(Killed):
        await first.run_once()
    restarted = make_notifier(base_config(robots))
    assert await restarted.run_once() == []  # still leased to the dead process
    clock.advance(60)
    await drain(restarted, clock, until=600)
    texts = robots.texts("office")
    assert shown(texts) == [1]
    assert "可能" not in texts[0]  # it never left: no duplicate warning


@pytest.mark.parametrize("robot", ["office", "archive"])
async def test_killed_between_send_and_record(robots, make_notifier, clock, monkeypatch, robot):
    """The residual window: the platform showed it, we did not record it. The alert is sent
    again after the lease, marked as a possible repeat; never a third time, never lost."""
    topic = "运维" if robot == "archive" else "社会治安"
    first = make_notifier(base_config(robots))
    await first.submit(alert("e:new", at=clock.now(), title="事件第1号", topic=topic))

    async def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(first.outbox, "record", die)
    with pytest.raises(Killed):
        await first.run_once()
    assert len(robots.robots[robot].messages) == 1
    restarted = make_notifier(base_config(robots))
    clock.advance(61)
    await drain(restarted, clock, until=3600)
    messages = robots.robots[robot].messages
    assert shown([m.text for m in messages]) == [1, 1]
    assert "本条可能与之前的消息重复" in messages[1].text
    if robot == "archive":  # the generic webhook can drop it: same idempotency key
        assert messages[0].headers["Idempotency-Key"] == messages[1].headers["Idempotency-Key"]


async def test_killed_after_record(robots, make_notifier, clock, monkeypatch):
    first = make_notifier(base_config(robots))
    await first.submit(alert("e:new", at=clock.now(), title="事件第1号"))
    record = first.outbox.record

    async def record_then_die(*args, **kwargs):
        await record(*args, **kwargs)
        raise Killed

    monkeypatch.setattr(first.outbox, "record", record_then_die)
    with pytest.raises(Killed):
        await first.run_once()
    restarted = make_notifier(base_config(robots))
    clock.advance(61)
    await drain(restarted, clock, until=600)
    assert shown(robots.texts("office")) == [1]


async def test_burst_of_500_never_exceeds_platform_limits(robots, make_notifier, clock):
    """500 alerts arrive over about two minutes, four a second, at two sender processes
    sharing one Redis; each robot would get a message per pass without the shared budget."""
    config = base_config(robots)
    senders = [make_notifier(config, seed=1), make_notifier(config, seed=2)]
    topics = ["社会治安", "生态环境", "卫生健康", "运维"]
    for i in range(500):
        await senders[i % 2].submit(alert(f"b{i}:new", at=clock.now(), event_id=f"b{i}",
                                          title=f"事件第{i}号", topic=topics[i % 4]))
        if i % 2:
            await asyncio.gather(*(s.run_once() for s in senders))
            clock.advance(0.5)
    for _ in range(2000):
        await asyncio.gather(*(s.run_once() for s in senders))
        if await senders[0].outbox.pending_count() == 0:
            break
        clock.advance(0.5)
    for name, robot in robots.robots.items():
        assert robot.violations == 0, name
    assert len(robots.robots["office"].messages) > 20  # the limit was really in play
    assert shown(robots.texts("office")) == list(range(0, 500, 4))  # 社会治安 → office only
    assert shown(robots.texts("env")) == list(range(1, 500, 4))
    assert shown(robots.texts("health")) == list(range(2, 500, 4))
    assert shown(robots.texts("ops")) == list(range(3, 500, 4))
    assert shown(robots.texts("archive")) == list(range(3, 500, 4))


async def test_robot_throttled_by_someone_else_is_left_alone(robots, make_notifier, clock):
    """Another system used up the DingTalk robot: we get 130101 once, then wait 10 minutes."""
    env = robots.robots["env"]
    env.requests += [clock.now()] * 20
    notifier = make_notifier(base_config(robots))
    await notifier.submit(alert("e:new", at=clock.now(), topic="生态环境", title="事件第1号"))
    done = await drain(notifier, clock, step=5, until=599)
    assert [(d.outcome, d.reason) for d in done] == [("retry", "rate_limited")]
    assert env.violations == 1
    await drain(notifier, clock, step=5)
    assert shown(robots.texts("env")) == [1] and env.violations == 1


async def test_slack_retry_after_is_honoured(robots, make_notifier, clock):
    ops = robots.robots["ops"]
    ops.requests.append(clock.now())
    config = base_config(robots)
    notifier = make_notifier(config)
    await notifier.submit(alert("o:new", at=clock.now(), topic="运维", title="事件第1号"))
    done = await notifier.run_once()
    assert ("ops", "retry", "rate_limited") in [(d.robot, d.outcome, d.reason) for d in done]
    clock.advance(0.5)
    await notifier.run_once()
    assert ops.violations == 1
    await drain(notifier, clock, step=0.5)
    assert shown(robots.texts("ops")) == [1] and ops.violations == 1


async def test_busy_robot_is_retried_with_backoff(robots, make_notifier, clock):
    office = robots.robots["office"]
    office.busy = 3
    notifier = make_notifier(base_config(robots))
    await notifier.submit(alert("e:new", at=clock.now(), title="事件第1号"))
    done = await drain(notifier, clock, step=1)
    retries = [d for d in done if d.outcome == "retry"]
    assert [d.reason for d in retries] == ["busy"] * 3
    assert shown(robots.texts("office")) == [1]
    info = [r for r in (await notifier.status())["recent"] if r["outcome"] == "retry"]
    gaps = [a["at"] - b["at"] for a, b in zip(info[:-1], info[1:], strict=True)]
    assert all(g > 0 for g in gaps) and gaps[0] > gaps[-1]  # newest first: growing waits


async def test_nothing_lost_across_a_redis_restart_with_aof(robots, keys, clock, tmp_path,
                                                           make_notifier):
    from monitor.notify.config import NotifyConfig
    from monitor.notify.notifier import Notifier

    server = EmbeddedRedis(tmp_path / "redis")
    url = await server.start()
    client = connect(url)
    config = NotifyConfig.model_validate(base_config(robots)).resolve({}, "http://x")
    notifier = Notifier(client, keys, config, clock)
    for i in range(3):
        await notifier.submit(alert(f"e{i}:missed", AlertKind.DEADLINE_MISSED, at=clock.now(),
                                    event_id=f"e{i}", title=f"事件第{i}号"))
    await notifier.aclose()
    await client.aclose()
    await server.stop()  # SIGTERM: Redis writes the AOF out and exits
    server = EmbeddedRedis(tmp_path / "redis")
    client = connect(await server.start())
    try:
        notifier = Notifier(client, keys, config, clock)
        await drain(notifier, clock)
        clock.advance(4 * 3600)
        await drain(notifier, clock)
        await notifier.aclose()
    finally:
        await client.aclose()
        await server.stop()
    assert shown(robots.texts("office")) == [0, 0, 1, 1, 2, 2]  # alerts and their reminders


async def test_a_bug_for_one_robot_does_not_stop_the_others(robots, make_notifier, clock,
                                                            monkeypatch):
    notifier = make_notifier(base_config(robots))
    deliver = notifier._deliver

    async def broken_for_env(robot, items, now):
        if robot == "env":
            raise RuntimeError("bug")
        return await deliver(robot, items, now)

    monkeypatch.setattr(notifier, "_deliver", broken_for_env)
    await notifier.submit(alert("e:new", at=clock.now(), topic="生态环境", severity="重大",
                                title="事件第1号"))
    done = await notifier.run_once()
    assert [d.robot for d in done] == ["office"]
    monkeypatch.setattr(notifier, "_deliver", deliver)
    clock.advance(60)  # the lease of the entry that hit the bug
    await drain(notifier, clock)
    assert shown(robots.texts("env")) == [1] and shown(robots.texts("office")) == [1]
