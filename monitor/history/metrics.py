"""Metrics of the SQL history, on the service's injected registry: whether the history keeps
up with the change log, and whether Redis lets go of what was archived."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class HistoryMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry or CollectorRegistry()
        self.written = Counter("yq_history_events_written",
                               "Event versions written to the SQL history.", registry=r)
        self.resyncs = Counter("yq_history_resyncs",
                               "Full rewrites of the events in Redis, after the change log "
                               "lost entries or its consumer group.", registry=r)
        self.failures = Counter("yq_history_failures",
                                "Passes of the history consumer or the archive that failed, "
                                "by the side that failed.", ["side"], registry=r)
        self.archived = Counter("yq_events_archived",
                                "Closed events that left Redis once archived.", registry=r)
        for side in ("redis", "sql"):
            self.failures.labels(side)
