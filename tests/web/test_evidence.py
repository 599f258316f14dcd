"""The event page's 判断依据: what the machine's votes mean to an officer reading them."""

from datetime import UTC, datetime

from pytest import approx

from monitor.domain.events import OFFICER_VOTE, Event
from monitor.web.page import evidence

T = datetime(2026, 11, 16, 2, tzinfo=UTC)


def event(topic_votes: dict[str, float]) -> Event:
    return Event(id="e1", title="某事", topic=max(topic_votes, key=topic_votes.get),
                 incident="无", region="昆明市", first_seen=T, last_seen=T,
                 topic_votes=topic_votes, incident_votes={"无": 3.0})


def test_votes_show_as_shares_of_the_items_summed_probabilities():
    # Three items: their probabilities summed give 其他政务 2.4, 社会保障 0.45, 无关 0.15.
    shown = evidence(event({"其他政务": 2.4, "社会保障": 0.45, "无关": 0.15}), [])
    assert [label for label, _ in shown["topic"]] == ["其他政务", "社会保障", "无关"]
    assert [share for _, share in shown["topic"]] == approx([0.8, 0.15, 0.05])
    assert shown["incident"] == [("无", 1.0)]


def test_an_officers_correction_is_marked_and_left_out_of_the_shares():
    shown = evidence(event({"其他政务": 1.5, "社会保障": 0.5, "养老服务": OFFICER_VOTE}), [])
    assert shown["topic"] == [("养老服务", None), ("其他政务", 0.75), ("社会保障", 0.25)]

