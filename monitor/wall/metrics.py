"""Metrics of what duty officers and operators read on the wall, on the service's one registry.

Two kinds live here:
- state of the whole service (open events, deadlines, sources, streams), recomputed from Redis
  by `refresh.py` when Prometheus scrapes. Every process exports the same values, so
  dashboards and rules aggregate them with `max`, never `sum`;
- things that happen in one process (items classified, responses, missed deadlines), counted
  where they happen; dashboards `sum` those over instances.

Label values are bounded: grades and topics come from the taxonomy, rules from the tracking
policy, source ids from feeds.yaml, regions from the gazetteer's prefectures. Event ids and
titles never become labels.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

# Response times in seconds; 5 h, 24 h and 48 h are exact bounds so that "answered within
# the rule" is a bucket, not an estimate.
RESPONSE_BUCKETS = (900, 1800, 3600, 7200, 3 * 3600, 5 * 3600, 12 * 3600, 24 * 3600,
                    36 * 3600, 48 * 3600, 72 * 3600, 7 * 86400)
CLASSIFY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
DEADLINE_STATES = ("pending", "due_soon", "met", "met_late", "missed", "provisional")
TIME_LEFT_WINDOWS = ("overdue", "1h", "6h", "24h", "later")
UNGRADED = "未定级"
OTHER = "其他"


class WallMetrics:
    def __init__(self, registry: CollectorRegistry, rules: Iterable[str] = (),
                 sources: Iterable[str] = (), grades: Iterable[str] = (),
                 topics: Iterable[str] = ()) -> None:
        r = registry
        self.rules = tuple(rules)
        self.sources = tuple(sources)
        self.grades = (*grades, UNGRADED)
        self.topics = (*topics, OTHER)
        # Service state (from Redis, the same in every process).
        self.events_open = Gauge("yq_events_open", "Active events by grade and topic.",
                                 ["grade", "topic"], registry=r)
        self.events_open_by_region = Gauge(
            "yq_events_open_by_region", "Active events by prefecture.", ["region"], registry=r)
        self.deadlines = Gauge(
            "yq_deadlines", "Deadlines due this month or still owed, by rule and state "
            "(provisional: owed and counted Monday–Friday).", ["rule", "state"], registry=r)
        self.on_time = Gauge(
            "yq_deadlines_on_time_ratio", "Deadlines met in time among those settled this "
            "month (met, met late, missed), per rule; 1 when none settled yet.", ["rule"],
            registry=r)
        self.awaiting = Gauge(
            "yq_events_awaiting_response", "Active events owing a response, by their most "
            "urgent rule and the time left to it.", ["rule", "window"], registry=r)
        self.next_due = Gauge(
            "yq_deadline_next_due_timestamp_seconds",
            "Due time of the most urgent owed deadline (0 when none is owed).", registry=r)
        self.sources_silent = Gauge(
            "yq_sources_silent", "Sources with no successful poll for more than 3 intervals.",
            registry=r)
        self.source_failing = Gauge("yq_source_failing", "1 while the source's polls fail.",
                                    ["source"], registry=r)
        self.source_silent = Gauge(
            "yq_source_silent", "1 while the source had no successful poll for more than "
            "3 intervals.", ["source"], registry=r)
        self.stream_lag = Gauge("yq_stream_lag_entries",
                                "Entries of a stream its consumer group has not read yet.",
                                ["stream", "group"], registry=r)
        self.stream_pending = Gauge(
            "yq_stream_pending_entries", "Entries read by a consumer group and not yet "
            "acknowledged.", ["stream", "group"], registry=r)
        self.refresh_errors = Counter(
            "yq_wall_refresh_errors", "Scrapes that could not read the service state from "
            "Redis (the gauges keep their last values).", registry=r)
        # Things that happen in this process.
        self.items_classified = Counter(
            "yq_items_classified", "Items classified by the events worker, by topic and "
            "relevance.", ["topic", "relevance"], registry=r)
        self.low_confidence = Counter(
            "yq_items_low_confidence", "Items whose topic or incident the classifier gave "
            "under the taxonomy's confidence threshold.", ["head"], registry=r)
        self.classify_seconds = Histogram(
            "yq_classification_batch_duration_seconds", "Time to classify one batch of items.",
            buckets=CLASSIFY_BUCKETS, registry=r)
        self.events_new = Counter(
            "yq_events_new", "Events opened that need a response, by grade and topic.",
            ["grade", "topic"], registry=r)
        self.response_seconds = Histogram(
            "yq_response_duration_seconds", "From an event's first report to the response "
            "that settled a deadline, per rule.", ["rule"], buckets=RESPONSE_BUCKETS,
            registry=r)
        self.deadlines_missed = Counter("yq_deadlines_missed", "Deadlines that passed unmet.",
                                        ["rule"], registry=r)
        self._initialise()
        _process_collectors(r)

    def _initialise(self) -> None:
        for rule in self.rules:
            self.on_time.labels(rule).set(1)
            self.response_seconds.labels(rule)
            self.deadlines_missed.labels(rule)
            for state in DEADLINE_STATES:
                self.deadlines.labels(rule, state)
        for source in self.sources:
            self.source_failing.labels(source)
            self.source_silent.labels(source)
        for grade in self.grades:  # so that the first event of a kind is an increase
            for topic in self.topics:
                self.events_new.labels(grade, topic)
        for head in ("topic", "incident"):
            self.low_confidence.labels(head)


def _process_collectors(registry: CollectorRegistry) -> None:
    """CPU, memory, file descriptors, GC and the Python version, as on the default registry."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
