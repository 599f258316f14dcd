"""Grouping quality: how well items about the same matter become one event, and how well
official answers land on the event they answer.

    python -m monitor.track.evaluate            # prints the table, writes var/eval/grouping.json
    python -m monitor.track.evaluate --fit      # the same figures on the fitting halves

Each measurement gives B-cubed and pairwise precision/recall of the reports (official items
are scored as responses: attached to the event holding most of their matter's reports):

* the labelled clusters (samples/clusters/, see labelled.py) — only their held-out half; the
  pair scorer is fitted on the other half (fit_scorer.py).
* the replay scenarios with hand-computed truth — the shipped week, an earthquake with an
  early 通报 and a late press conference, one accident told three ways — and, for the last
  two, each deadline's outcome and the grade against that truth.
* CEC — the held-out half of 332 real emergency reports, each split into two views of one
  matter (headline with the lead; the rest). All fed at one instant, so the time window
  cannot help: content, places and type alone must keep the accidents apart.
* Teddy Cup messages — 440 real citizen messages, each split the same way. Distinct messages
  about the same estate or road are often truly the same matter, so precision against "one
  message = one event" is a lower bound; precision against the board's 7 first-level classes
  (an event mixing classes is surely wrong) is reported too.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import combinations

from monitor.domain.events import Event
from monitor.models import Item
from monitor.track.answers import Attached, Lookout, moves_to
from monitor.track.deadlines import evaluate as evaluate_deadlines
from monitor.track.grouping import EventIndex
from monitor.track.labelled import (
    CLUSTERS,
    DATA,
    ROOT,
    LabelledSet,
    T,
    cec_set,
    cluster_sets,
    make_item,
)
from monitor.track.orphans import best_for, waits_for_event
from monitor.track.policy import Policy, default_policy
from monitor.track.replay import SAMPLE, read_items
from monitor.track.tagging import tag
from monitor.track.tracker import Tagged, Tracker, to_index_entry


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def bcubed(predicted: dict[str, str], truth: dict[str, str]) -> Scores:
    """B-cubed over the items in both maps (item → cluster)."""
    items = [i for i in predicted if i in truth]
    by_pred, by_true = _members(predicted, items), _members(truth, items)
    precision = recall = 0.0
    for i in items:
        same_pred, same_true = by_pred[predicted[i]], by_true[truth[i]]
        overlap = len(same_pred & same_true)
        precision += overlap / len(same_pred)
        recall += overlap / len(same_true)
    n = len(items) or 1
    return Scores(precision / n, recall / n)


def pairwise(predicted: dict[str, str], truth: dict[str, str]) -> Scores:
    items = [i for i in predicted if i in truth]
    together_pred = {p for p in combinations(sorted(items), 2)
                     if predicted[p[0]] == predicted[p[1]]}
    together_true = {p for p in combinations(sorted(items), 2) if truth[p[0]] == truth[p[1]]}
    hits = len(together_pred & together_true)
    return Scores(hits / len(together_pred) if together_pred else 1.0,
                  hits / len(together_true) if together_true else 1.0)


def _members(assignment: dict[str, str], items: Sequence[str]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for i in items:
        groups[assignment[i]].add(i)
    return groups


@dataclass
class Grouped:
    placed: dict[str, str]  # item id → event id, for the items that opened or joined one
    answered: dict[str, str | None]  # official item id → the event it answered, or None
    events: dict[str, Event] = field(default_factory=dict)


def group(items: Sequence[Item], policy: Policy) -> Grouped:
    """Run the real tracker on `items` in memory (no Redis)."""
    index = EventIndex(policy.grouping)
    tracker = Tracker(policy, index)
    events: dict[str, Event] = {}
    result = Grouped({}, {})
    waiting: list[Tagged] = []  # official answers that matched no event yet (orphans.py)
    attached: list[Tagged] = []  # and those that did (answers.py): each may move later
    lookout = Lookout()
    tagged_items = tag(list(items), policy.grouping.centroid_terms)
    result.events = events
    for tagged in sorted(tagged_items, key=lambda t: t.item.published):
        now = tagged.item.published
        action, match, runner_up = tracker.route_with_runner_up(tagged)
        if tagged.item.official:
            result.answered[tagged.item.id] = match.event_id if action == "respond" else None
            if action == "skip" and waits_for_event(tagged):
                waiting.append(tagged)
            elif action == "respond":
                attached.append(tagged)
        if action in ("open", "open_policy"):
            change = tracker.open(tagged, now)
        elif action == "join":
            change = tracker.join(events[match.event_id], tagged, match, now)
        elif action == "respond":
            change = tracker.respond(events[match.event_id], tagged, match, now)
        else:
            continue  # 无关 items are not clustered
        events[change.event.id] = change.event
        index.put(to_index_entry(change.event))
        if action == "respond":
            continue
        result.placed[tagged.item.id] = change.event.id
        # An event's new report may name what a waiting answer names (the worker does the
        # same after each batch, worker._adopt_orphans).
        _adopt(index.get(change.event.id), waiting, tracker, result, attached)
        if lookout.changed(entry := index.get(change.event.id)):
            _take_back(entry, attached, tracker, result)
        if action == "join" and runner_up is not None:
            _merge_if_sure(tracker, result, match, runner_up, now)
    return result


def _adopt(entry, waiting: list[Tagged], tracker: Tracker, result: Grouped,
           attached: list[Tagged]) -> None:
    for tagged, match in best_for(entry, waiting, tracker.policy, tracker.index):
        attached.append(tagged)
        result.answered[tagged.item.id] = match.event_id
        event = result.events[match.event_id]
        result.events[event.id] = tracker.respond(event, tagged, match,
                                                  tagged.item.published).event
        tracker.index.put(to_index_entry(result.events[event.id]))  # as worker._attach does
        waiting.remove(tagged)


def _take_back(entry, attached: list[Tagged], tracker: Tracker, result: Grouped) -> None:
    """As the worker does (worker._take_back_answers): an answer attached to a look-alike
    moves to the event that opened or grew if it matches it clearly better."""
    if entry is None:
        return
    window = tracker.policy.grouping.window
    mine = [Attached(t, result.answered[t.item.id]) for t in attached
            if entry.near(t.item.published.timestamp(), window)]
    for move in moves_to(entry, mine, tracker.policy, tracker.index):
        tagged, home = move.attached.tagged, move.attached.event_id
        events = result.events
        for change in tracker.move_response(events[home], events[entry.event_id], tagged,
                                            move.old, move.new, tagged.item.published):
            events[change.event.id] = change.event
            tracker.index.put(to_index_entry(change.event))
        result.answered[tagged.item.id] = entry.event_id


def _merge_if_sure(tracker: Tracker, result: Grouped, match, other, now) -> None:
    """As the worker does (worker._merge_or_suggest): an item that reports two open events
    surely merges them; the merged event's items and answers move to the kept one."""
    events = result.events
    if not tracker.merges_surely(match, other, events[match.event_id],
                                 events[other.event_id]):
        return
    for change in tracker.merge(events[match.event_id], events[other.event_id], "eval", now):
        events[change.event.id] = change.event
        if change.event.active:
            tracker.index.put(to_index_entry(change.event))
        else:
            tracker.index.remove(change.event.id)
            kept = change.event.merged_into
            for mapping in (result.placed, result.answered):
                for item, event_id in mapping.items():
                    if event_id == change.event.id:
                        mapping[item] = kept


SCENARIOS = ("earthquake_scenario", "three_ways_scenario")


def scenario_outcomes(policy: Policy, name: str, tail: timedelta = timedelta(hours=72)) -> dict:
    """A replay scenario's deadline outcomes, as the event an officer would look at shows
    them (the one holding most of the matter's reports), against the hand-computed truth."""
    path = SAMPLE.with_name(f"{name}.jsonl")
    truth = json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8"))
    items = read_items(path)
    by_link = {i.link: i.id for i in items}
    clusters = {by_link[link]: c for link, c in truth["clusters"].items() if link in by_link}
    grouped = group(items, policy)
    end = max(i.published for i in items) + tail
    home = _home_events(grouped.placed, clusters)
    rows = []
    for cluster, expected in truth["outcomes"].items():
        event = grouped.events.get(home.get(cluster, ""))
        got = _outcomes(event, policy, end) if event else {}
        for rule in (k for k in expected if k not in ("severity", "first_seen", "met_at")):
            rows.append({"cluster": cluster, "rule": rule, "expected": expected[rule],
                         "got": got.get(rule, "no deadline" if event else "no event")})
        rows.append({"cluster": cluster, "rule": "severity", "expected": expected["severity"],
                     "got": event.severity if event else "no event"})
    return {"rows": rows, "right": sum(r["expected"] == r["got"] for r in rows),
            "total": len(rows), "clustering": _scores(grouped, clusters)}


def _outcomes(event: Event, policy: Policy, at) -> dict[str, str]:
    return {d.rule: d.state.value for d in evaluate_deadlines(event, policy, at).deadlines}


def attachment(grouped: Grouped, truth: dict[str, str]) -> dict:
    """Official items attached to the event holding most of their true cluster's reports."""
    home = _home_events(grouped.placed, truth)
    expected = {i: home[truth[i]] for i in grouped.answered if truth.get(i) in home}
    right = sum(1 for i, event in expected.items() if grouped.answered[i] == event)
    unattached = sum(1 for i in expected if grouped.answered[i] is None)
    return {"officials": len(grouped.answered), "with_an_event": len(expected),
            "attached_right": right, "unattached": unattached,
            "accuracy": round(right / len(expected), 4) if expected else 1.0}


def _home_events(placed: dict[str, str], truth: dict[str, str]) -> dict[str, str]:
    votes: dict[str, Counter] = defaultdict(Counter)
    for item, event in placed.items():
        if item in truth:
            votes[truth[item]][event] += 1
    return {cluster: c.most_common(1)[0][0] for cluster, c in votes.items()}


def replay_sample(policy: Policy) -> dict:
    truth_file = SAMPLE.with_name("replay_sample.truth.json")
    truth_by_link = json.loads(truth_file.read_text(encoding="utf-8"))
    items = read_items(SAMPLE)
    truth = {i.id: truth_by_link[i.link] for i in items if truth_by_link.get(i.link)}
    return _scores(group(items, policy), truth)


def labelled(policy: Policy, data: LabelledSet) -> dict:
    grouped = group(data.items, policy)
    return {**_scores(grouped, data.truth), "officer_view": grades(grouped, data, policy)}


def grades(grouped: Grouped, data: LabelledSet, policy: Policy) -> dict:
    """What an officer would see on the event holding most of a matter's reports: its grade,
    and its deadline outcomes 72 h after the last item, against the cluster's hand-computed
    truth where the truth file gives them."""
    path = CLUSTERS / f"{data.name.split(' ')[0]}.truth.json"
    truth = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    home = _home_events(grouped.placed, data.truth)
    end = max((i.published for i in data.items), default=T) + timedelta(hours=72)
    rows = []
    for cluster in sorted(set(data.truth.values())):
        expected = truth.get(cluster, {})
        event = grouped.events.get(home.get(cluster, ""))
        if "severity" in expected:  # an ungraded event shows 未知
            got = (event.severity or "未知") if event else "no event"
            rows.append({"cluster": cluster, "rule": "severity",
                         "expected": expected["severity"], "got": got})
        outcomes = _outcomes(event, policy, end) if event else {}
        for rule, state in expected.get("deadlines", {}).items():
            rows.append({"cluster": cluster, "rule": rule, "expected": state,
                         "got": outcomes.get(rule, "no deadline" if event else "no event")})
    wrong = [r for r in rows if r["expected"] != r["got"]]
    count = Counter(r["rule"] == "severity" for r in rows)
    right = Counter(r["rule"] == "severity" for r in rows if r not in wrong)
    return {"grade": [right[True], count[True]], "deadlines": [right[False], count[False]],
            "wrong": wrong}


def teddy(policy: Policy) -> dict:
    path = DATA / "tipdm2020" / "messages_sample.tsv"
    items, truth, classes = [], {}, {}
    with path.open(encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle, delimiter="\t")):
            subject, details = row["留言主题"].strip(), row["留言详情"].strip()
            for view, (title, summary) in enumerate(((subject, ""), (details[:40], details))):
                doc = f"msg{n}:{view}"
                items.append(make_item(doc, title, summary, T + timedelta(seconds=n)))
                truth[doc], classes[doc] = f"msg{n}", row["一级分类"]
    grouped = group(items, policy)
    scores = _scores(grouped, truth)
    scores["class_purity_bcubed_precision"] = round(
        bcubed(grouped.placed, classes).precision, 4)
    return scores


def _scores(grouped: Grouped, truth: dict[str, str]) -> dict:
    """Clustering of the reports (official items are responses, scored as attachment)."""
    reports = {i: c for i, c in truth.items() if i not in grouped.answered}
    placed = grouped.placed
    b, p = bcubed(placed, reports), pairwise(placed, reports)
    return {"items": len(reports), "clustered": sum(1 for i in reports if i in placed),
            "events": len({placed[i] for i in reports if i in placed}),
            "true_events": len(set(reports.values())),
            "bcubed": {"precision": round(b.precision, 4), "recall": round(b.recall, 4),
                       "f1": round(b.f1, 4)},
            "pairwise": {"precision": round(p.precision, 4), "recall": round(p.recall, 4),
                         "f1": round(p.f1, 4)},
            "responses": attachment(grouped, truth)}


def fitting_halves(policy: Policy) -> int:
    """`--fit`: the same figures on the fitting halves, where the grouping's choices are made
    (why items split is looked for there, never on the held-out halves)."""
    sets = [*cluster_sets("fit"), *([cec_set("fit")] if DATA.is_dir() else [])]
    for data in sets:
        if data.items:
            print(_line(data.name, labelled(policy, data)))
    return 0


def main(argv: Sequence[str] = ()) -> int:
    policy = default_policy()
    if "--fit" in argv:
        return fitting_halves(policy)
    results = {"replay_sample": replay_sample(policy)}
    for data in cluster_sets("heldout"):
        results[data.name] = labelled(policy, data)
    outcomes = {name: scenario_outcomes(policy, name) for name in SCENARIOS}
    for name, o in outcomes.items():
        results[name] = o["clustering"]
    if DATA.is_dir():
        results["cec (heldout)"] = labelled(policy, cec_set("heldout"))
        results["teddy_cup"] = teddy(policy)
    else:
        print(f"({DATA} not found: CEC and Teddy Cup skipped)", file=sys.stderr)
    for name, r in results.items():
        print(_line(name, r))
    for name, r in results.items():
        for row in r.get("officer_view", {}).get("wrong", []):
            print(f"  MISS {name:20} {row['cluster']:40} {row['rule']:22} "
                  f"expected {row['expected']:9} got {row['got']}")
    for name, o in outcomes.items():
        print(f"{name}: deadline outcomes and grade {o['right']}/{o['total']} as computed by hand")
        for row in o["rows"]:
            mark = "ok " if row["expected"] == row["got"] else "MISS"
            print(f"  {mark} {row['cluster']:28} {row['rule']:24} expected {row['expected']:9}"
                  f" got {row['got']}")
    out = ROOT / "var" / "eval"
    out.mkdir(parents=True, exist_ok=True)
    results["scenario_outcomes"] = {n: o["rows"] for n, o in outcomes.items()}
    (out / "grouping.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


def _line(name: str, r: dict) -> str:
    a = r["responses"]
    text = (f"{name:26} items {r['items']:4} → events {r['events']:4} (true {r['true_events']:4})"
            f"  B³ P {r['bcubed']['precision']:.3f} R {r['bcubed']['recall']:.3f}"
            f"  pairwise P {r['pairwise']['precision']:.3f} R {r['pairwise']['recall']:.3f}")
    if a["officials"]:
        text += (f"  responses {a['attached_right']}/{a['with_an_event']} right,"
                 f" {a['unattached']} unattached")
    view = r.get("officer_view", {})
    for part in ("grade", "deadlines"):
        if view.get(part, [0, 0])[1]:
            text += f"  {part} {view[part][0]}/{view[part][1]}"
    if "class_purity_bcubed_precision" in r:
        text += f"  class purity {r['class_purity_bcubed_precision']:.3f}"
    return text


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
