"""The Notifier end to end against the fake robots: routing, dedup, grouping, reminders,
silences, acknowledgements, fallback and the daily summary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from monitor.domain.alerts import AlertIntent, AlertKind
from tests.notify.conftest import alert, base_config, drain

pytestmark = pytest.mark.redis


async def test_new_event_reaches_its_routes_once(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    now = clock.now()
    await notifier.submit(alert("e1:new", at=now, topic="生态环境", severity="重大"))
    await notifier.submit(alert("e1:new", at=now, topic="生态环境", severity="重大"))  # replay
    done = await notifier.run_once()
    assert sorted(d.robot for d in done if d.outcome == "delivered") == ["env", "office"]
    assert len(robots.robots["env"].messages) == 1
    assert len(robots.robots["office"].messages) == 1
    assert "新舆情待回应" in robots.texts("office")[0]
    assert "https://yq.example.gov.cn/events/evt1" in robots.texts("office")[0]
    assert await drain(notifier, clock, until=600) == []
    assert len(robots.robots["office"].messages) == 1



def _count(texts: list[str], needle: str) -> int:
    return sum(t.count(needle) for t in texts)


async def test_each_platform_gets_its_own_format(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    await notifier.submit(alert("h:new", at=clock.now(), topic="卫生健康", event_id="h"))
    await notifier.submit(alert("o:new", at=clock.now(), topic="运维", event_id="o"))
    done = await notifier.run_once()
    assert sorted(d.robot for d in done) == ["archive", "health", "ops"]
    assert robots.robots["health"].messages[0].payload["msg_type"] == "post"
    assert "<https://yq.example.gov.cn/events/o|查看事件>" in robots.texts("ops")[0]
    hook = robots.robots["archive"].messages[0]
    assert hook.payload["alerts"][0]["key"] == "o:new"
    assert hook.headers["Idempotency-Key"] == hook.payload["delivery_id"]


async def test_same_event_within_the_window_is_one_message(robots, make_notifier, clock):
    registry = CollectorRegistry()
    notifier = make_notifier(base_config(robots), registry=registry)
    now = clock.now()
    await notifier.submit(alert("e:new", at=now))
    await notifier.run_once()
    clock.advance(5)
    await notifier.submit(alert("e:soon", AlertKind.DEADLINE_DUE_SOON, at=clock.now(),
                                rule="response_48h"))
    clock.advance(5)
    await notifier.submit(alert("e:sev", AlertKind.SEVERITY_RAISED, at=clock.now(),
                                previous_severity="一般"))
    await notifier.submit(alert("other:new", at=clock.now(), event_id="other",
                                title="另一事件"))
    done = await notifier.run_once()
    assert [d.keys for d in done] == [("other:new",)]  # other events are not held
    clock.advance(49)
    assert await notifier.run_once() == []  # still inside the 60 s window of e
    clock.advance(1)
    done = await notifier.run_once()
    assert [sorted(d.keys) for d in done] == [["e:sev", "e:soon"]]
    assert len(robots.robots["office"].messages) == 3
    assert registry.get_sample_value("yq_notify_deferred_total", {"reason": "grouped"}) >= 2
    assert registry.get_sample_value("yq_notify_messages_total",
                                     {"platform": "wecom", "outcome": "delivered"}) == 3
    assert "共2条" in robots.texts("office")[2]


async def test_missed_deadline_repeats_until_acknowledged(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    await notifier.submit(alert("e:missed", AlertKind.DEADLINE_MISSED, at=clock.now(),
                                rule="response_48h"))
    await drain(notifier, clock)
    clock.advance(4 * 3600)
    await drain(notifier, clock)
    texts = robots.texts("office")
    assert len(texts) == 2 and "第2次提醒" in texts[1]
    await notifier.acknowledge("evt1", "张三", clock.now())
    clock.advance(4 * 3600)
    await drain(notifier, clock, until=3600)
    assert len(robots.robots["office"].messages) == 2


async def test_resolved_event_stops_repeats_and_repeats_are_capped(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    await notifier.submit(alert("a:missed", AlertKind.DEADLINE_MISSED, at=clock.now(),
                                event_id="a", title="事件甲"))
    await notifier.submit(alert("b:missed", AlertKind.DEADLINE_MISSED, at=clock.now(),
                                event_id="b", title="事件乙"))
    await drain(notifier, clock)
    await notifier.resolve("a")
    for _ in range(6):
        clock.advance(4 * 3600)
        await drain(notifier, clock)
    texts = robots.texts("office")
    assert _count(texts, "事件甲") == 1
    assert _count(texts, "事件乙") == 1 + 3  # max_repeats: 3


async def test_acknowledged_event_gets_no_due_soon_but_gets_news(robots, make_notifier, clock):
    registry = CollectorRegistry()
    notifier = make_notifier(base_config(robots), registry=registry)
    await notifier.acknowledge("evt1", "李四", clock.now())
    await notifier.submit(alert("e:soon", AlertKind.DEADLINE_DUE_SOON, at=clock.now(),
                                rule="response_48h"))
    await notifier.submit(alert("e:met", AlertKind.RESPONSE_DETECTED, at=clock.now(),
                                rule="response_48h", response_link="https://gov.cn/a"))
    done = await drain(notifier, clock)
    assert [(d.outcome, d.reason) for d in done if d.outcome == "suppressed"] == [
        ("suppressed", "acknowledged")]
    assert registry.get_sample_value("yq_notify_suppressed_total",
                                     {"reason": "acknowledged"}) == 1
    assert len(robots.robots["office"].messages) == 1
    assert "已回应" in robots.texts("office")[0]


@pytest.mark.parametrize("how", [{"event_id": "evt1"}, {"topic": "生态环境"},
                                 {"route": "environment"}, {"route": "env"}], ids=str)
async def test_silences_drop_matching_alerts_until_they_expire(robots, make_notifier, clock,
                                                               how):
    notifier = make_notifier(base_config(robots))
    silence = await notifier.silence(reason="演练", duration=3600, by="王五", **how)
    assert [s.id for s in await notifier.silences()] == [silence.id]
    await notifier.submit(alert("e:new", at=clock.now(), topic="生态环境"))
    done = await drain(notifier, clock)
    assert ("suppressed", "silenced") in [(d.outcome, d.reason) for d in done]
    assert robots.robots["env"].messages == []
    clock.advance(3601)
    assert await notifier.silences() == []
    await notifier.submit(alert("e:sev", AlertKind.SEVERITY_RAISED, at=clock.now(),
                                topic="生态环境"))
    await drain(notifier, clock)
    assert len(robots.robots["env"].messages) == 1


async def test_unsilence(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    silence = await notifier.silence(reason="误报", until=clock.now() + timedelta(days=1),
                                     topic="社会治安")
    assert await notifier.unsilence(silence.id)
    assert not await notifier.unsilence(silence.id)
    await notifier.submit(alert("e:new", at=clock.now()))
    await drain(notifier, clock)
    assert len(robots.robots["office"].messages) == 1


async def test_permanent_failure_goes_to_fallback_and_is_visible(robots, make_notifier, clock):
    registry = CollectorRegistry()
    notifier = make_notifier(base_config(robots), registry=registry)
    robots.robots["office"].removed = True
    await notifier.submit(alert("e:new", at=clock.now()))
    done = await drain(notifier, clock)
    assert [(d.robot, d.outcome, d.reason) for d in done] == [
        ("office", "permanent", "bad_key"), ("spare", "delivered", "ok")]
    assert "新舆情待回应" in robots.texts("spare")[0]
    status = await notifier.status()
    assert [f["entry"] for f in status["failed"]] == ["office|e:new"]
    assert status["failed"][0]["detail"].startswith("errcode 93000")
    assert status["robots"]["office"]["last_error"].startswith("bad_key")
    assert registry.get_sample_value("yq_notify_failures_total",
                                     {"platform": "wecom", "reason": "bad_key"}) == 1
    assert registry.get_sample_value("yq_notify_failed_entries") == 1


async def test_unconfigured_robot_routes_to_fallback(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots), env={})  # no DingTalk secret
    await notifier.submit(alert("e:new", at=clock.now(), topic="生态环境"))
    await drain(notifier, clock)
    assert robots.robots["env"].messages == []
    assert len(robots.robots["spare"].messages) == 1
    failed = (await notifier.status())["failed"]
    assert failed[0]["reason"] == "not_configured" and failed[0]["entry"] == "env|e:new"


async def test_daily_summary_once_per_day_across_processes(robots, make_notifier, clock):
    config = base_config(robots, summary={"at": "17:30", "receivers": ["office", "ops"]})
    calls = []

    async def source(now):
        calls.append(now)
        return AlertIntent(key="ignored", kind=AlertKind.DAILY_SUMMARY, at=now,
                           summary={"open": 3, "met_today": 2, "missed_today": 1})

    first, second = make_notifier(config), make_notifier(config)
    for n in (first, second):
        n.set_summary_source(source)
    clock.set(datetime(2026, 11, 23, 9, 29, tzinfo=UTC))  # 17:29 in Beijing
    await first.run_once()
    assert calls == []
    clock.advance(60)
    await asyncio.gather(first.run_once(), second.run_once())
    await drain(first, clock, step=60, until=3 * 3600)
    restarted = make_notifier(config)
    restarted.set_summary_source(source)
    await drain(restarted, clock, until=600)
    assert len(calls) == 1
    assert len(robots.robots["office"].messages) == 1
    assert len(robots.robots["ops"].messages) == 1
    assert "每日汇总" in robots.texts("office")[0] and "今日超时 1" in robots.texts("office")[0]
    clock.set(datetime(2026, 11, 24, 9, 31, tzinfo=UTC))
    await drain(restarted, clock)
    assert len(calls) == 2 and len(robots.robots["office"].messages) == 2


async def test_failing_summary_source_is_retried(robots, make_notifier, clock):
    config = base_config(robots, summary={"at": "08:00"})
    notifier = make_notifier(config)
    attempts = []

    async def source(now):
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("tracker not ready")
        return AlertIntent(key="x", kind=AlertKind.DAILY_SUMMARY, at=now, summary={"open": 0})

    notifier.set_summary_source(source)
    await notifier.run_once()
    await notifier.run_once()
    await drain(notifier, clock)
    assert len(attempts) == 2 and len(robots.robots["office"].messages) == 1


async def test_metrics_count_submissions_and_latency(robots, make_notifier, clock):
    registry = CollectorRegistry()
    notifier = make_notifier(base_config(robots), registry=registry)
    await notifier.submit(alert("e:new", at=clock.now()))
    await notifier.submit(alert("e:new", at=clock.now()))
    clock.advance(2)
    await notifier.run_once()
    assert registry.get_sample_value("yq_alerts_submitted_total", {"kind": "new_event"}) == 1
    assert registry.get_sample_value("yq_alerts_replayed_total") == 1
    assert registry.get_sample_value("yq_notify_latency_seconds_sum") == 2.0
    assert registry.get_sample_value("yq_notify_alerts_delivered_total",
                                     {"platform": "wecom"}) == 1
    assert registry.get_sample_value("yq_notify_outbox_pending") == 0


async def test_run_loop_sends_at_once_and_stops(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots))
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    await notifier.submit(alert("e:new", at=clock.now()))
    for _ in range(200):
        if robots.robots["office"].messages:
            break
        await asyncio.sleep(0.01)
    assert len(robots.robots["office"].messages) == 1
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_refused_alerts_can_be_sent_again_once_fixed(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots, fallback=None))
    robots.robots["office"].removed = True
    await notifier.submit(alert("e:new", at=clock.now()))
    await drain(notifier, clock)
    assert await notifier.retry_failed("env") == []  # another robot's: untouched
    robots.robots["office"].removed = False
    assert await notifier.retry_failed() == ["office|e:new"]
    await drain(notifier, clock)
    assert len(robots.robots["office"].messages) == 1
    assert (await notifier.status())["failed"] == []


async def test_reminders_do_not_burst_after_downtime(robots, make_notifier, clock):
    notifier = make_notifier(base_config(robots, quiet={"repeat_interval": "1h",
                                                        "max_repeats": 10}))
    await notifier.submit(alert("e:missed", AlertKind.DEADLINE_MISSED, at=clock.now()))
    await drain(notifier, clock)
    clock.advance(5.5 * 3600)  # the service was down through five reminder slots
    await drain(notifier, clock, step=60, until=1700)
    texts = robots.texts("office")
    assert len(texts) == 2 and "第2次提醒" in texts[1]
    clock.advance(100)
    await drain(notifier, clock)
    texts = robots.texts("office")
    assert len(texts) == 3 and "第3次提醒" in texts[2]
