"""Notify metrics, on the same injected registry as the rest of the service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitor.domain.alerts import AlertKind
from monitor.notify.config import Platform
from monitor.notify.platforms.base import NotifyReason, Outcome

SUPPRESS_REASONS = ("duplicate", "silenced", "acknowledged", "resolved", "expired")
DEFER_REASONS = ("budget", "blocked", "grouped", "split")


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.submitted = Counter("yq_alerts_submitted", "Alerts accepted into the outbox.",
                                 ["kind"], registry=r)
        self.replayed = Counter("yq_alerts_replayed",
                                "Alerts submitted again with a key already seen (ignored).",
                                registry=r)
        self.messages = Counter("yq_notify_messages", "Messages sent to robots, by outcome.",
                                ["platform", "outcome"], registry=r)
        self.failures = Counter("yq_notify_failures",
                                "Messages a robot did not take, by reason.",
                                ["platform", "reason"], registry=r)
        self.alerts_delivered = Counter("yq_notify_alerts_delivered",
                                        "Alerts shown in a chat group (one message may hold "
                                        "several).", ["platform"], registry=r)
        self.suppressed = Counter("yq_notify_suppressed", "Alerts not sent, by reason.",
                                  ["reason"], registry=r)
        self.deferred = Counter("yq_notify_deferred",
                                "Alerts held back for later (rate budget, robot blocked, "
                                "grouping window, message full).", ["reason"], registry=r)
        self.latency = Histogram("yq_notify_latency_seconds",
                                 "From submit to the robot accepting the message.",
                                 buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900,
                                          3600), registry=r)
        self.pending = Gauge("yq_notify_outbox_pending", "Entries waiting in the outbox.",
                             registry=r)
        self.failed = Gauge("yq_notify_failed_entries",
                            "Entries a robot refused for good (see `monitor outbox`).",
                            registry=r)
        for kind in AlertKind:
            self.submitted.labels(kind.value)
        for platform in Platform:
            self.alerts_delivered.labels(platform.value)
            for outcome in Outcome:
                self.messages.labels(platform.value, outcome.value)
            for reason in NotifyReason:
                if reason is not NotifyReason.OK:
                    self.failures.labels(platform.value, reason.value)
        for reason in SUPPRESS_REASONS:
            self.suppressed.labels(reason)
        for reason in DEFER_REASONS:
            self.deferred.labels(reason)
