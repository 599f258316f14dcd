"""Items → tagged items: classify() for labels and jieba content words for the term vector."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.models import Item
from monitor.track.grouping import term_vector
from monitor.track.identity import marks_of
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


def warm_up(vector_terms: int) -> None:
    """Load what tagging reads (the model, the tokeniser's dictionary, the IDF table, the
    gazetteer) by tagging one made-up item, so the first real batch after a start is not
    held up by seconds of loading."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    tag([Item(id="warm-up", source_id="warm-up", source_name="warm-up",
              title="昆明市五华区一居民楼发生火灾", summary="消防赶赴现场。", link=None,
              published=now, fetched=now, official=False, channel="news")], vector_terms)


def tag(items: Sequence[Item], vector_terms: int, classifier=None) -> list[Tagged]:
    """Classify a batch (one sklearn call) and build each item's term vector. `classifier`
    (anything with `classify_with_tokens`) defaults to the shipped model."""
    from classifiers import load_default
    from classifiers.tokenize import content_words

    if not items:
        return []
    classifier = classifier or load_default()
    results, tokens = classifier.classify_with_tokens([item_text(i) for i in items])
    tagged = []
    for item, c, raw in zip(items, results, tokens, strict=True):
        # item_text puts the title before the one newline; titles and summaries are
        # single-line plain text, so the first "\n" token is that boundary.
        cut = raw.index("\n") if "\n" in raw else len(raw)
        vector = term_vector(content_words(raw[:cut]), content_words(raw[cut + 1:]),
                             vector_terms)
        graded = None if c.severity.inferred else c.severity.grade
        region = c.region.prefecture if c.region else source_region(item.region)
        county = c.region.county if c.region else None
        marks = marks_of(item.title, item.summary[:BODY_CHARS], prefecture=region,
                         county=county, incident=c.incident.label,
                         at=item.published.timestamp(), official=item.official,
                         deaths=c.severity.evidence.get("deaths"))
        tagged.append(Tagged(
            item=item, topic=c.topic.label, topic_p=c.topic.p, incident=c.incident.label,
            incident_p=c.incident.p, severity=graded, severity_evidence=dict(c.severity.evidence),
            region=region, county=county, vector=vector, marks=marks))
    return tagged
