"""The Notifier end to end against the fake robots: routing, dedup, grouping, reminders,
silences, acknowledgements, fallback and the daily summary."""

from __future__ import annotations

import pytest

from monitor.notify.intent import AlertKind
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

