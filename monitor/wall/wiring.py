"""The wall's parts, built once by the composition root on the service's registry."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from monitor.clock import Clock
from monitor.config import FeedsFile
from monitor.store.keys import Keys
from monitor.store.sources import SourceStore
from monitor.track.deadlines import FOLLOW_UP
from monitor.track.policy import Policy
from monitor.track.readmodel import ReadModel
from monitor.wall.metrics import WallMetrics
from monitor.wall.observe import IntentObserver, ItemsObserver
from monitor.wall.refresh import WallRefresher
from monitor.wall.snapshot import Labels


def wall_labels(policy: Policy) -> Labels:
    """Grades and topics from the taxonomy, rules from the policy, the gazetteer's
    prefectures: the only label values the wall's metrics take."""
    from classifiers.gazetteer import default as gazetteer
    from classifiers.taxonomy import default as taxonomy

    tax = taxonomy()
    rules = tuple(r.id for r in policy.enabled_rules)
    if policy.follow_up.enabled:
        rules += (FOLLOW_UP,)
    return Labels(rules=rules, grades=frozenset(tax.severities), topics=frozenset(tax.topics),
                  regions=frozenset(gazetteer().prefectures))


@dataclass
class Wall:
    metrics: WallMetrics
    labels: Labels
    items: ItemsObserver

    def intents(self, store) -> IntentObserver:
        return IntentObserver(self.metrics, self.labels, store)

    def refresher(self, read: ReadModel, sources: SourceStore, feeds: FeedsFile,
                  redis: aioredis.Redis, keys: Keys, clock: Clock) -> WallRefresher:
        streams = {"items": keys.items_stream, "alerts": keys.alerts_out}
        return WallRefresher(self.metrics, read, sources, feeds.sources, redis, streams, clock,
                             self.labels)


def build_wall(registry, policy: Policy, feeds: FeedsFile) -> Wall:
    from classifiers.taxonomy import default as taxonomy

    labels = wall_labels(policy)
    tax = taxonomy()
    metrics = WallMetrics(registry, labels.rules, [s.id for s in feeds.sources],
                          tax.severities, tax.topics)
    items = ItemsObserver(metrics, labels, tax.irrelevant_topic, dict(tax.low_confidence))
    return Wall(metrics, labels, items)
