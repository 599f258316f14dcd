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

from monitor.domain.events import Event
from monitor.track.grouping import EventIndex, Match
from monitor.track.identity import FEATURES, SCORER_PATH
from monitor.track.labelled import LabelledSet, cec_set, cluster_sets
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
    ranked = index.ranked(t.marks, t.vector)
    for match in ranked:
        positive = own_event is not None and match.event_id == own_event.id
        seen_own |= positive
        yield match.values, int(positive)
    if own_event is not None and not seen_own:
        rivals = [m.event_id for m in ranked]
        yield index.score(own_event.id, t.marks, t.vector, rivals).values, 1


def _add(t: Tagged, own: str, tracker: Tracker, index: EventIndex,
         events: dict[str, Event]) -> None:
    now = t.item.published
    if own in events:
        change = tracker.join(events[own], t, Match(events[own].id, 1.0, 1.0, ()), now)
    else:
        change = tracker.open(t, now)
    events[own] = change.event
    index.put(to_index_entry(change.event))


# The direction each feature may push, from what it means: agreement can only speak for
# one matter, conflict only against it, time apart only against. Fitting within these signs
# keeps every weight explainable to an officer (a fitted "same county counts against" would
# be an artefact of the sample, not a fact about events).
SIGNS = {"text": 1, "title": 1, "same_county": 1, "county_conflict": -1,
         "same_prefecture": 1, "prefecture_conflict": -1, "shared_places": 1, "place_conflict": -1,
         "shared_road": 1, "shared_numbers": 1, "points_back": 1,
         "shared_city": 1, "city_conflict": -1,
         "incident_agree": 1, "incident_conflict": -1, "gap_days": -1, "late_days": -1,
         "magnitude_match": 1, "magnitude_conflict": -1, "text_lead": 1,
         "own_place": -1, "county_within_a_day": 1}
L2 = 0.005  # chosen on the fitting halves' figures (0.003: CEC P 0.968; 0.01: lower recall)


def fit(sets: list[LabelledSet]) -> dict:
    """Logistic regression with sign constraints (L-BFGS-B), each labelled set weighing the
    same in total so the many CEC pairs do not drown the written clusters."""
    x, y, w = _design(sets)
    weights, bias = _fit_bounded(x, y, w)
    return {"about": f"fitted by python -m monitor.track.fit_scorer on {date.today()}: "
                     f"{len(y)} pairs ({int(y.sum())} same matter) from "
                     + ", ".join(f"{s.name} ({len(s.truth)} items)" for s in sets),
            "weights": {k: round(float(v), 4) for k, v in zip(FEATURES, weights, strict=True)},
            "bias": round(float(bias), 4)}


def _design(sets: list[LabelledSet]):
    import numpy as np

    rows, labels, weights = [], [], []
    for labelled in sets:
        found = list(pairs(labelled))
        for values, label in found:
            rows.append([values[k] for k in FEATURES])
            labels.append(label)
            weights.append(1.0 / len(found))
    return np.array(rows), np.array(labels, dtype=float), np.array(weights) * len(sets)


def _fit_bounded(x, y, w):
    import numpy as np
    from scipy.optimize import minimize

    def loss(theta):
        z = x @ theta[:-1] + theta[-1]
        p = 1.0 / (1.0 + np.exp(-z))
        nll = -np.sum(w * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)))
        grad = x.T @ (w * (p - y))
        return (nll + L2 * theta[:-1] @ theta[:-1],
                np.append(grad + 2 * L2 * theta[:-1], np.sum(w * (p - y))))

    bounds = [(0, None) if SIGNS[k] > 0 else (None, 0) for k in FEATURES] + [(None, None)]
    result = minimize(loss, np.zeros(len(FEATURES) + 1), jac=True, bounds=bounds,
                      method="L-BFGS-B")
    return result.x[:-1], result.x[-1]


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
