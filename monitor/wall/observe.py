"""Counting what happens, where it happens: items as the worker classifies them, and the
alert intents (opened, missed, answered) as the forwarder hands them on.

The forwarder reads each intent once per consumer group, so one process counts it; after a
crash between submit and acknowledge it may be counted twice, which the rates tolerate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.domain.alerts import AlertIntent, AlertKind
from monitor.domain.events import Event
from monitor.store.events import EventStore
from monitor.track.tracker import Tagged
from monitor.wall.metrics import WallMetrics
from monitor.wall.snapshot import Labels


@dataclass(frozen=True)
class ItemsObserver:
    metrics: WallMetrics
    labels: Labels
    irrelevant_topic: str
    thresholds: dict[str, float]  # head → the taxonomy's low-confidence threshold

    def __call__(self, tagged: Sequence[Tagged], seconds: float) -> None:
        m = self.metrics
        if tagged:
            m.classify_seconds.observe(seconds)
        for t in tagged:
            relevance = "irrelevant" if t.topic == self.irrelevant_topic else "relevant"
            m.items_classified.labels(self.labels.topic(t.topic), relevance).inc()
            if t.topic_p < self.thresholds.get("topic", 0.0):
                m.low_confidence.labels("topic").inc()
            if t.incident_p < self.thresholds.get("incident", 0.0):
                m.low_confidence.labels("incident").inc()


@dataclass(frozen=True)
class IntentObserver:
    metrics: WallMetrics
    labels: Labels
    store: EventStore

    async def __call__(self, intent: AlertIntent) -> None:
        m = self.metrics
        if intent.kind is AlertKind.NEW_EVENT:
            m.events_new.labels(self.labels.grade(intent.severity),
                                self.labels.topic(intent.topic or "")).inc()
        elif intent.kind is AlertKind.DEADLINE_MISSED and intent.rule:
            m.deadlines_missed.labels(self.labels.rule(intent.rule)).inc()
        elif intent.kind is AlertKind.RESPONSE_DETECTED and intent.rule and intent.event_id:
            event = await self.store.load(intent.event_id)
            seconds = response_seconds(event, intent.rule) if event else None
            if seconds is not None:
                m.response_seconds.labels(self.labels.rule(intent.rule)).observe(seconds)


def response_seconds(event: Event, key: str) -> float | None:
    """From the start of the deadline's clock (the event's first report, or the message it
    is about) to the response that settled it."""
    deadline = next((d for d in event.deadlines if d.key == key), None)
    return None if deadline is None else event.seconds_to_respond(deadline)
