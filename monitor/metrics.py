"""Prometheus metrics, registered on an injected registry with small fixed label sets."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from monitor.errors import FetchReason

SOURCE_STATES = ("ok", "failing", "decode_suspect")

# One `_created` series per counter child doubles the series count for nothing a dashboard uses.
disable_created_metrics()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.polls = Counter("yq_polls", "Polls of sources by outcome.", ["outcome"], registry=r)
        self.poll_errors = Counter("yq_poll_errors", "Failed polls by reason.", ["reason"],
                                   registry=r)
        self.items_new = Counter("yq_items_new", "Items emitted for the first time.", registry=r)
        self.items_seen = Counter("yq_items_seen", "Entries parsed, new or not.", registry=r)
        self.fetch_seconds = Histogram("yq_fetch_seconds", "Time to fetch and parse one source.",
                                       buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
                                       registry=r)
        self.sources = Gauge("yq_sources", "Configured sources by state.", ["state"], registry=r)
        self.poll_lag = Gauge("yq_poll_lag_seconds",
                              "How late the most overdue source is (0 when none is overdue).",
                              registry=r)
        self.calendar_known_until = Gauge(
            "yq_calendar_known_until_year",
            "Last year of the official working-day calendar known without a gap.", registry=r)
        self.deadlines_provisional = Gauge(
            "yq_deadlines_provisional",
            "Open deadlines counted Monday–Friday less the statutory holidays because "
            "their year's schedule is unknown.",
            registry=r)
        self.redis_restarts = Counter(
            "yq_embedded_redis_restarts",
            "Starts of the embedded Redis after it died (or its owner did), by outcome.",
            ["outcome"], registry=r)
        self.grouping_lease = Counter(
            "yq_grouping_lease_seconds",
            "Seconds this process's events worker waited for the grouping lease, and held it "
            "(one worker at a time applies items to events).", ["phase"], registry=r)
        for phase in ("wait", "held"):
            self.grouping_lease.labels(phase)
        for outcome in ("ok", "failed"):
            self.redis_restarts.labels(outcome)
        for outcome in ("ok", "not_modified", "error"):
            self.polls.labels(outcome)
        for reason in FetchReason:
            self.poll_errors.labels(reason.value)
        for state in SOURCE_STATES:
            self.sources.labels(state)
