"""Robots apart: a robot that hangs or is down holds up no other; a send left unanswered is
marked when sent again; a robot's backlog goes out soon after it recovers; with no robot
configured, alerts wait in the outbox until one is."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from tests.notify.conftest import alert, base_config, drain, shown, until

pytestmark = pytest.mark.redis


async def test_a_hanging_robot_does_not_hold_up_another(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    env, office = robots.robots["env"], robots.robots["office"]
    env.hang = True
    stop = asyncio.Event()
    service = asyncio.create_task(notifier.run(stop))
    try:
        await notifier.submit(alert("a:new", at=clock.now(), event_id="a", title="事件第1号",
                                    topic="生态环境", severity="重大"))  # → env and office
        await until(lambda: env.hung == 1 and len(office.messages) == 1)
        await notifier.submit(alert("b:new", at=clock.now(), event_id="b", title="事件第2号"))
        delay = await until(lambda: len(office.messages) == 2, seconds=3)
        assert env.hung == 1 and len(env.messages) == 1  # env's send still has no answer
        print(f"\nhealthy robot beside a hanging one: {delay * 1000:.0f} ms")
    finally:
        stop.set()
        clock.advance(10)  # env's timeout: its send gives up and its loop sees `stop`
        await asyncio.wait_for(service, 5)
    assert shown(robots.texts("office")) == [1, 2]


async def test_a_send_left_unanswered_is_marked_when_sent_again(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    office = robots.robots["office"]
    office.down = True  # 502 from the gateway: the robot never saw it
    await notifier.submit(alert("e:new", at=clock.now(), title="事件第1号"))
    [first] = await notifier.run_once()
    assert (first.outcome, first.reason, first.unknown) == ("retry", "http_5xx", False)
    office.down, office.hang = False, True  # shown, but the answer never comes
    clock.advance(30)
    sending = asyncio.create_task(notifier.run_once())
    await until(lambda: office.hung == 1)
    clock.advance(10)  # the robot's timeout, on the service's clock
    [second] = await asyncio.wait_for(sending, 5)
    assert (second.outcome, second.reason, second.unknown) == ("retry", "timeout", True)
    office.hang, office.down = False, True  # a 502 in between does not unsay it
    clock.advance(30)
    await notifier.run_once()
    office.down = False
    await drain(notifier, clock)
    texts = robots.texts("office")
    assert shown(texts) == [1, 1]
    assert "结果未知" not in texts[0]
    assert "⚠ 上次发送结果未知，本条可能与之前的消息重复" in texts[1]
    recent = (await notifier.status())["recent"]  # newest first
    assert [(r["reason"], r["unknown"]) for r in recent if r["outcome"] == "retry"] == [
        ("http_5xx", False), ("timeout", True), ("http_5xx", False)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_backlog_goes_out_within_30s_of_recovery(robots, make_notifier, clock, seed):
    notifier = make_notifier(base_config(robots), seed=seed)
    office = robots.robots["office"]
    office.down = True
    for i in range(60):  # an alert a minute for an hour, the robot down throughout
        await notifier.submit(alert(f"e{i}:new", at=clock.now(), event_id=f"e{i}",
                                    title=f"事件第{i}号"))
        await drain(notifier, clock, step=2, until=60)
    tries = [r["at"] for r in (await notifier.status(limit=500))["recent"]
             if r["outcome"] == "retry"]
    longest = max(a - b for a, b in zip(tries, tries[1:], strict=False))
    office.down = False
    back = clock.now()
    await drain(notifier, clock, step=1)
    backlog = (office.messages[-1].at - back).total_seconds()
    print(f"\nseed {seed}: longest wait between tries {longest:.1f} s, "
          f"backlog out {backlog:.0f} s after recovery in {len(office.messages)} messages")
    assert shown(robots.texts("office")) == list(range(60))
    assert longest <= 26  # 20 s cap + 20 % jitter, seen in 2 s steps
    assert backlog <= 30


def fresh_config(robots) -> dict:
    """Like the shipped notify.yaml: every robot's key comes from the environment."""
    return {
        "robots": [
            {"id": "office", "name": "省政府办公厅值班群", "platform": "wecom",
             "url": robots.url("office").replace("tok-office", "${OFFICE_KEY}")},
            {"id": "env", "name": "省生态环境厅舆情群", "platform": "dingtalk",
             "url": robots.url("env").replace("tok-env", "${ENV_TOKEN}"),
             "secret": "${DING_SECRET}"},
        ],
        "route": {"receivers": ["office"], "routes": [
            {"name": "environment", "match": {"topic": ["生态环境"]}, "receivers": ["env"]}]},
        "fallback": "office",
    }


async def test_alerts_wait_until_a_robot_is_configured(robots, make_notifier, clock):
    with capture_logs() as logs:
        notifier = make_notifier(fresh_config(robots), env={})
        for i in range(5):
            await notifier.submit(alert(f"e{i}:new", at=clock.now(), event_id=f"e{i}",
                                        title=f"事件第{i}号",
                                        topic="生态环境" if i == 4 else "社会治安"))
        await drain(notifier, clock, step=10, until=600)
    status = await notifier.status()
    assert status["failed"] == [] and status["pending_total"] == 5
    assert {p["entry"]: p["last_error"] for p in status["pending"]} == {
        **{f"office|e{i}:new": "waiting: robot not configured (set OFFICE_KEY)"
           for i in range(4)},
        "env|e4:new": "waiting: robot not configured (set DING_SECRET, ENV_TOKEN)"}
    warnings = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert [e["event"] for e in warnings] == ["notify_no_robot_configured"]  # one line
    assert "wait in the outbox" in warnings[0]["hint"]

    # the key is set and the service restarted: office sends, and takes env's as fallback
    restarted = make_notifier(fresh_config(robots), env={"OFFICE_KEY": "tok-office"})
    await drain(restarted, clock)
    assert shown(robots.texts("office")) == [0, 1, 2, 3, 4]
    status = await restarted.status()
    assert status["pending_total"] == 0
    assert [(f["entry"], f["reason"]) for f in status["failed"]] == [
        ("env|e4:new", "not_configured")]  # the gap stays visible
