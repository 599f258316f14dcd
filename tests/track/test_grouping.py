"""Grouping: the metrics, the index, and quality on the shipped sample and real corpora."""

from __future__ import annotations

import pytest

from monitor.track import evaluate
from monitor.track.grouping import Entry, EventIndex, cosine, normalise
from monitor.track.identity import EventMarks, Marks
from monitor.track.labelled import cec_set
from monitor.track.policy import default_policy
from tests.conftest import needs_shared_data


def test_bcubed_and_pairwise_on_a_hand_worked_example():
    truth = {"a": "X", "b": "X", "c": "X", "d": "Y"}
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2"}
    b = evaluate.bcubed(predicted, truth)
    # precision: a 1, b 1, c 1/2, d 1/2 → 3/4; recall: a 2/3, b 2/3, c 1/3, d 1 → 2/3
    assert (round(b.precision, 4), round(b.recall, 4)) == (0.75, 0.6667)
    p = evaluate.pairwise(predicted, truth)
    # predicted pairs {ab, cd}; true pairs {ab, ac, bc}; one shared
    assert (p.precision, round(p.recall, 4)) == (0.5, 0.3333)


def test_items_outside_the_truth_are_ignored_and_empty_is_perfect_precision():
    assert evaluate.bcubed({"a": "1", "z": "1"}, {"a": "X"}).precision == 1.0
    assert evaluate.pairwise({}, {}).precision == 1.0


def vec(**weights: float) -> dict[str, float]:
    return normalise(weights)


def test_index_finds_the_specific_event_not_the_one_sharing_only_common_words():
    config = default_policy().grouping
    index = EventIndex(config)
    # Many fires are open; one is in 昆明 at a 仓库, the item is about that one.
    fire = EventMarks(incident="事故灾难")
    for n in range(20):
        index.put(Entry(f"fire{n}", vec(火灾=1.0, 消防=0.8, **{f"地点{n}": 1.5}), None, "事故灾难",
                        0, 0, marks=fire))
    index.put(Entry("kunming", vec(火灾=1.0, 消防=0.8, 仓库=1.4, 官渡区=1.6), "昆明市", "事故灾难",
                    0, 0, marks=EventMarks(counties={"官渡区"}, prefecture="昆明市",
                                           incident="事故灾难")))
    item = Marks(county="官渡区", prefecture="昆明市", incident="事故灾难")
    match = index.best(item, vec(火灾=1.0, 仓库=1.2, 官渡区=1.5), config.join_threshold)
    assert match is not None and match.event_id == "kunming"
    assert set(match.terms) >= {"仓库", "官渡区"} and match.evidence
    assert index.best(Marks(incident="事故灾难"), vec(火灾=1.0, 消防=0.9),
                      config.join_threshold) is None


def test_window_and_expiry():
    config = default_policy().grouping
    index = EventIndex(config)
    index.put(Entry("e", vec(洱海=1.0, 污水=1.0), "大理白族自治州", "无", last_seen=0,
                    first_seen=0))
    late = config.window + 10
    assert index.best(Marks(at=late), vec(洱海=1.0, 污水=1.0), 0.3) is None
    assert index.best(Marks(at=10), vec(洱海=1.0, 污水=1.0), 0.3).event_id == "e"
    assert index.expire(late + 1) == 1 and len(index) == 0
    assert cosine(vec(a=1), vec(a=1)) == pytest.approx(1.0)


def test_replay_sample_groups_exactly():
    scores = evaluate.replay_sample(default_policy())
    assert scores["bcubed"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


@needs_shared_data
@pytest.mark.data
def test_cec_reports_stay_apart():
    """Regression guard on the held-out half of the real reports (the scorer is fitted on
    the other half)."""
    scores = evaluate.labelled(default_policy(), cec_set("heldout"))
    assert scores["bcubed"]["precision"] >= 0.9
    assert scores["bcubed"]["recall"] >= 0.5


def test_an_item_naming_the_events_county_among_others_shares_it():
    from monitor.track.identity import counties_in, features

    item = Marks(county="盘龙区", counties=counties_in("昆明市盘龙区、官渡区和大理州宾川县都有震感"))
    event = EventMarks(counties={"宾川县"}, prefecture="大理白族自治州")
    values = features(item, event, 0.0)
    assert (values["same_county"], values["county_conflict"]) == (1.0, 0.0)
    assert features(Marks(county="盘龙区"), event, 0.0)["county_conflict"] == 1.0
