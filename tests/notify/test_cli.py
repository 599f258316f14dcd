"""`monitor notify test ROUTE` and `monitor outbox` against the fake robots."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

import pytest
import structlog
import yaml

from monitor.cli import main
from monitor.notify.config import NotifyConfig
from monitor.notify.notifier import Notifier
from tests.notify.conftest import SECRETS, alert, base_config

pytestmark = pytest.mark.redis


@pytest.fixture
def notify_file(tmp_path, robots, monkeypatch, redis_url, key_prefix):
    path = tmp_path / "notify.yaml"
    path.write_text(yaml.safe_dump(base_config(robots), allow_unicode=True), encoding="utf-8")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MONITOR_NOTIFY", str(path))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MONITOR_KEY_PREFIX", key_prefix)
    robots.now = lambda: datetime.now(UTC)  # the command signs with the system clock
    yield path
    # the command configured logging onto the captured stderr; later logs go to the real one
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.__stderr__))


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))  # the command runs its own event loop


async def test_notify_test_prints_the_answer(notify_file, robots, capsys):
    assert await run("notify", "test", "env") == 0
    out = capsys.readouterr().out
    assert "env (dingtalk, 省生态环境厅舆情群): delivered (ok) errcode 0: ok" in out
    assert 'HTTP 200: {"errcode": 0, "errmsg": "ok"}' in out
    assert "测试消息" in robots.texts("env")[0]


async def test_notify_test_of_a_route_and_a_refusing_robot(notify_file, robots, capsys):
    robots.robots["archive"].removed = True
    assert await run("notify", "test", "operations") == 1
    out = capsys.readouterr().out
    assert "ops (slack, 运维值班): delivered (ok)" in out
    assert "archive (webhook, 舆情归档): permanent (http_4xx) HTTP 404 no such hook" in out


async def test_notify_test_of_an_unknown_name(notify_file, capsys):
    assert await run("notify", "test", "nobody") == 2
    assert "no robot or route named 'nobody'" in capsys.readouterr().err


async def test_outbox_lists_pending_failed_and_recent(notify_file, robots, capsys, redis, keys,
                                                      clock):
    robots.now = clock.now
    config = NotifyConfig.model_validate(base_config(robots)).resolve(SECRETS)
    notifier = Notifier(redis, keys, config, clock)
    robots.robots["office"].removed = True
    await notifier.submit(alert("e1:new", at=clock.now(), title="已发送的事件",
                                topic="生态环境"))
    await notifier.submit(alert("e2:new", at=clock.now(), event_id="e2"))
    await notifier.run_once()
    clock.advance(-3600)  # this one waits in the outbox
    await notifier.submit(alert("e3:new", at=clock.now(), event_id="e3"))
    await notifier.aclose()
    assert await run("outbox") == 0
    out = capsys.readouterr().out
    pending = out.split("PENDING (")[1].split("FAILED")[0]
    assert pending.startswith("2)") and "spare|e2:new" in pending and "office|e3:new" in pending
    failed = out.split("FAILED (")[1].split("RECENT")[0]
    assert "office|e2:new" in failed and "bad_key" in failed and "errcode 93000" in failed
    recent = out.split("RECENT")[1].split("ROBOTS")[0]
    assert "env" in recent and "delivered" in recent and "已发送的事件" in recent
    assert await run("outbox", "--json") == 0
    typed = json.loads(capsys.readouterr().out)  # booleans, numbers, ISO-8601 times
    assert typed["pending_total"] == 2 and typed["robots"]["office"]["configured"] is True
    assert datetime.fromisoformat(typed["pending"][0]["due"]).utcoffset() == timedelta(hours=8)
    assert datetime.fromisoformat(typed["robots"]["office"]["last_error_at"]).tzinfo is not None
    assert await run("outbox", "--retry-failed", "office") == 0
    out = capsys.readouterr().out
    assert "requeued 1 refused alert(s): office|e2:new" in out
    assert "FAILED (0)" in out


async def test_notify_test_of_a_route_goes_to_its_robots_and_shows_in_the_outbox(
        tmp_path, notify_file, robots, capsys, monkeypatch):
    config = base_config(robots)
    # a route named like a robot: the route is what is tested
    config["route"]["routes"].append({"name": "spare", "match": {"topic": ["演练"]},
                                      "receivers": ["ops", "archive"]})
    notify_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert await run("notify", "test", "spare") == 0
    out = capsys.readouterr().out
    assert "route spare: robots ops, archive" in out
    assert robots.texts("ops") and robots.texts("archive") and not robots.texts("spare")
    assert await run("outbox") == 0
    recent = capsys.readouterr().out.split("RECENT")[1].split("ROBOTS")[0]
    assert "ops" in recent and "archive" in recent and "monitor notify test" in recent


async def test_commands_read_the_env_file_of_the_service(tmp_path, notify_file, robots,
                                                        capsys, monkeypatch, redis_url,
                                                        key_prefix):
    """`monitor outbox` beside a service configured in .env needs nothing repeated."""
    env = tmp_path / "service.env"
    env.write_text(f"MONITOR_NOTIFY={notify_file}\nREDIS_URL={redis_url}\n"
                   f"MONITOR_KEY_PREFIX={key_prefix}\n", encoding="utf-8")
    for name in ("MONITOR_NOTIFY", "REDIS_URL", "MONITOR_KEY_PREFIX"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("MONITOR_ENV_FILE", str(env))
    assert await run("notify", "test", "ops") == 0
    assert await run("outbox") == 0
    recent = capsys.readouterr().out.split("RECENT")[1]
    assert "ops" in recent and "monitor notify test" in recent
