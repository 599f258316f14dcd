"""Fit the pair scorer (identity.py) on the fitting half of the labelled clusters.

    python -m monitor.track.fit_scorer            # writes monitor/track/data/pair_scorer.json

The labelled sets are the multi-source clusters shipped in `samples/clusters/` (each cluster
marked `fit` or `heldout` as a whole) and the CEC reports split into two views (fitting half
by a hash of the document). Only the fitting halves are read here; `evaluate.py` reports on
the held-out halves.

Pairs are drawn the way the tracker meets them: items in time order, each compared with the
events its true cluster-mates have built so far — the true event (a positive, whether or not
the candidate search found it) and every other shortlisted candidate (negatives, mostly the
look-alikes: same kind, same place, same day).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import date

from monitor.track.grouping import EventIndex, Match
from monitor.track.identity import FEATURES, SCORER_PATH, features
from monitor.track.labelled import LabelledSet, cec_set, cluster_sets
from monitor.track.models import Event
from monitor.track.policy import default_policy
from monitor.track.tagging import tag
from monitor.track.tracker import Tagged, Tracker, to_index_entry


def pairs(labelled: LabelledSet) -> Iterable[tuple[dict[str, float], int]]:
    policy = default_policy()
    index = EventIndex(policy.grouping)
    tracker = Tracker(policy, index)
    events: dict[str, Event] = {}  # true cluster → the event its items built
    tagged = tag(labelled.items, policy.grouping.centroid_terms)
    for t in sorted(tagged, key=lambda t: t.item.published):
        own = labelled.truth[t.item.id]
        yield from _pairs_of(t, own, index, events)
        if not t.item.official:
            _add(t, own, tracker, index, events)


def _pairs_of(t: Tagged, own: str, index: EventIndex, events: dict[str, Event]):
    own_event = events.get(own)
    seen_own = False
    for match in index.ranked(t.marks, t.vector):
        positive = own_event is not None and match.event_id == own_event.id
        seen_own |= positive
        yield _features(t, index, match), int(positive)
    if own_event is not None and not seen_own:
        yield features(t.marks, index.get(own_event.id).marks, 0.0), 1


def _features(t: Tagged, index: EventIndex, match: Match) -> dict[str, float]:
    return features(t.marks, index.get(match.event_id).marks, match.cosine)


def _add(t: Tagged, own: str, tracker: Tracker, index: EventIndex,
         events: dict[str, Event]) -> None:
    now = t.item.published
    if own in events:
        change = tracker.join(events[own], t, Match(events[own].id, 1.0, 1.0, ()), now)
    else:
        change = tracker.open(t, now)
    events[own] = change.event
    index.put(to_index_entry(change.event))


def fit(sets: list[LabelledSet]) -> dict:
    from sklearn.linear_model import LogisticRegression

    rows, labels = [], []
    for labelled in sets:
        for values, label in pairs(labelled):
            rows.append([values[k] for k in FEATURES])
            labels.append(label)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(rows, labels)
    return {"about": f"fitted by python -m monitor.track.fit_scorer on {date.today()}: "
                     f"{len(labels)} pairs ({sum(labels)} same matter) from "
                     + ", ".join(f"{s.name} ({len(s.truth)} items)" for s in sets),
            "weights": {k: round(float(w), 4) for k, w in zip(FEATURES, model.coef_[0],
                                                               strict=True)},
            "bias": round(float(model.intercept_[0]), 4)}


def main() -> int:
    sets = [*cluster_sets("fit"), cec_set("fit")]
    sets = [s for s in sets if s.items]
    if not sets:
        print("no labelled data found", file=sys.stderr)
        return 1
    scorer = fit(sets)
    SCORER_PATH.write_text(json.dumps(scorer, ensure_ascii=False, indent=2) + "\n",
                           encoding="utf-8")
    print(json.dumps(scorer, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
