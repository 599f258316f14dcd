"""Routes walk like Alertmanager's: first match wins unless `continue`, else the node's own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.domain.alerts import AlertIntent, AlertKind
from monitor.notify.config import NotifyConfig, load_notify_config
from monitor.notify.routing import route

SHIPPED = load_notify_config(Path(__file__).resolve().parents[2] / "notify.yaml", env={})
AT = datetime(2026, 11, 23, tzinfo=UTC)


def _intent(**fields) -> AlertIntent:
    return AlertIntent(key="k", kind=fields.pop("kind", AlertKind.NEW_EVENT), at=AT, **fields)


@pytest.mark.parametrize(("fields", "receivers"), [
    ({"topic": "生态环境", "severity": "一般"}, ("environment",)),
    ({"topic": "生态环境", "severity": "重大"}, ("environment", "office")),
    ({"topic": "生态环境", "severity": "特别重大"}, ("environment", "office")),
    ({"topic": "卫生健康", "severity": "较大"}, ("health",)),
    ({"topic": "食品药品", "severity": "重大"}, ("health", "office")),
    ({"topic": "教育改革", "severity": "一般"}, ("office",)),
    ({"topic": None, "severity": None}, ("office",)),
    ({"kind": AlertKind.DAILY_SUMMARY}, ("office",)),
], ids=lambda v: str(v))
def test_shipped_routes(fields, receivers):
    assert route(SHIPPED, _intent(**fields)).receivers == receivers


def test_nested_routes_kind_region_and_names():
    config = NotifyConfig.model_validate({
        "robots": [{"id": i, "name": i, "platform": "slack", "url": "https://h/" + i}
                   for i in ("a", "b", "c", "d")],
        "route": {"receivers": ["a"], "routes": [
            {"name": "kunming", "match": {"region": ["昆明"]}, "receivers": ["b"], "routes": [
                {"name": "kunming-missed", "match": {"kind": ["deadline_missed"]},
                 "receivers": ["c"]}]},
            {"name": "never", "match": {"region": ["昆明"]}, "receivers": ["d"]},
        ]},
    }).resolve({})
    assert route(config, _intent(region="昆明")).receivers == ("b",)
    missed = route(config, _intent(region="昆明", kind=AlertKind.DEADLINE_MISSED))
    assert missed.receivers == ("c",) and missed.routes == ("kunming-missed",)
    other = route(config, _intent(region="大理"))
    assert other.receivers == ("a",) and other.routes == ("default",)


def test_severity_at_least_needs_a_known_severity():
    assert route(SHIPPED, _intent(topic="生态环境", severity="未知")).receivers == ("environment",)


def test_shipped_routes_send_operations_alerts_by_their_own_route():
    routed = route(SHIPPED, _intent(kind=AlertKind.OPERATIONS, title="告警发件箱停滞"))
    assert routed.routes == ("operations",) and routed.receivers == ("office",)
