"""Items → tagged items: classify() for labels and jieba content words for the term vector."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.models import Item
from monitor.track.grouping import term_vector
from monitor.track.tracker import Tagged

BODY_CHARS = 600  # the lead of the summary says what the item is about; the rest is noise


def item_text(item: Item) -> str:
    return f"{item.title}\n{item.summary[:BODY_CHARS]}"


def source_region(name: str | None) -> str | None:
    """The source's configured region ('昆明') in the gazetteer's form ('昆明市')."""
    if not name:
        return None
    from classifiers.gazetteer import default

    match = default().match_text(name)
    return match.prefecture if match else name


def tag(items: Sequence[Item], vector_terms: int) -> list[Tagged]:
    """Classify a batch (one sklearn call) and build each item's term vector."""
    from classifiers import classify
    from classifiers.tokenize import tokenize

    results = classify([item_text(i) for i in items]) if items else []
    tagged = []
    for item, c in zip(items, results, strict=True):
        vector = term_vector(tokenize(item.title), tokenize(item.summary[:BODY_CHARS]),
                             vector_terms)
        graded = None if c.severity.inferred else c.severity.grade
        tagged.append(Tagged(
            item=item, topic=c.topic.label, topic_p=c.topic.p, incident=c.incident.label,
            incident_p=c.incident.p, severity=graded, severity_evidence=dict(c.severity.evidence),
            region=c.region.prefecture if c.region else source_region(item.region),
            county=c.region.county if c.region else None, vector=vector))
    return tagged
