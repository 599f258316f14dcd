"""Items about the same matter → one event.

Candidates come from two indexes over the open events — their strongest content terms and
what identifies their matter (county, finer places) — within the time window; each is then
scored by the pair scorer of `identity.py` (text similarity re-weighted by how many open
events share each term, title overlap with place names kept, shared places at each level,
incident type, time gap, magnitude), a probability with the features that decided it.

The index lives in each worker's memory and is rebuilt from Redis (see store.py); the worker
holds the grouping lease while it reads and changes it, so several workers agree.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from monitor.track.identity import (
    EventMarks,
    Marks,
    PairScorer,
    default_scorer,
    features,
    place_key,
)
from monitor.track.policy import Grouping

Vector = dict[str, float]
SHORTLIST = 5  # candidates scored in full per item (5 and 8 gave the same fitting-half figures)

_idf_lock = threading.Lock()
_idf: tuple[dict[str, float], float] | None = None


def idf_table() -> tuple[dict[str, float], float]:
    """jieba's general-Chinese IDF table (shipped inside jieba) and its median, loaded once."""
    global _idf
    if _idf is None:
        with _idf_lock:
            if _idf is None:
                import jieba

                # The file only: importing jieba.analyse would load its own copy of the table
                # and the part-of-speech dictionary (seconds, and ~100 MB this never reads).
                path = Path(jieba.__file__).with_name("analyse") / "idf.txt"
                table: dict[str, float] = {}
                for line in path.read_text(encoding="utf-8").splitlines():
                    word, _, value = line.rpartition(" ")
                    if word:
                        table[word] = float(value)
                values = sorted(table.values())
                _idf = (table, values[len(values) // 2])
    return _idf


# Outlets name one thing in different words (采石场/石料厂, 垮塌/坍塌, 遇难/死亡): each
# counted as one word, so two reports of a matter share it.
_SAME_WORD = {
    **dict.fromkeys(("石料厂", "石场", "砂石场", "石料场", "石料开采场", "采石厂"), "采石场"),
    **dict.fromkeys(("垮塌", "塌方", "倒塌", "塌陷"), "坍塌"),
    **dict.fromkeys(("遇难", "身亡", "丧生", "罹难", "殒命"), "死亡"),
    **dict.fromkeys(("失踪", "下落不明", "人失联"), "失联"),
    **dict.fromkeys(("受困", "困在"), "被困"),
    **dict.fromkeys(("失火", "着火", "火灾"), "起火"),
    **dict.fromkeys(("爆燃", "闪爆"), "爆炸"),
    **dict.fromkeys(("追尾", "碰撞", "撞车"), "相撞"),
    **dict.fromkeys(("侧翻",), "翻车"),
    **dict.fromkeys(("溺亡",), "溺水"),
}


def term_vector(title_tokens: list[str], body_tokens: list[str], limit: int) -> Vector:
    """TF-IDF of content words (title counted twice), the strongest `limit`, unit length."""
    table, median = idf_table()
    same = _SAME_WORD.get
    title_tokens = [same(t, t) for t in title_tokens]
    counts = Counter(title_tokens)
    counts.update(title_tokens)
    counts.update(same(t, t) for t in body_tokens)
    weights = {t: n * table.get(t, median) for t, n in counts.items() if len(t) > 1}
    return normalise(dict(heapq.nlargest(limit, weights.items(), key=lambda kv: kv[1])))


def normalise(vector: Vector) -> Vector:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm else {}


def cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b[t] for t, w in a.items() if t in b)


@dataclass
class Entry:
    event_id: str
    total: Vector  # sum of member vectors (the centroid before normalising)
    region: str | None
    incident: str | None
    last_seen: float
    first_seen: float
    owed_until: float = 0.0  # latest due time of a deadline still owed (answers may come late)
    version: int = -1  # the event's version the entry was built from
    centroid: Vector = field(default_factory=dict)
    marks: EventMarks = field(default_factory=EventMarks)
    # Norm of the centroid re-weighted by the open events' term frequencies when it was put
    # (they drift slowly; recomputing it for every comparison cost most of the lookup).
    weighted_norm: float = 0.0
    norm_at: int = 0  # how many events were open when it was computed

    @property
    def horizon(self) -> float:
        """Items and answers are matched until this long after the event went quiet."""
        return max(self.last_seen, self.owed_until)

    def near(self, at: float, window: float) -> bool:
        """Whether something published at `at` may be about this event: within `window` of
        its first report or of its horizon."""
        return self.first_seen - window <= at <= self.horizon + window


def span(entries: list[Entry], window: float) -> tuple[float, float]:
    """The times at which something may be about one of these events (Entry.near)."""
    return (min(e.first_seen for e in entries) - window,
            max(e.horizon for e in entries) + window)


class Match:
    """An open event an item may report. `terms` and `evidence` say why; most candidates
    are scored and dropped, so they are worked out only when asked for."""

    __slots__ = ("event_id", "score", "cosine", "values", "_terms", "_evidence", "_explain")

    def __init__(self, event_id: str, score: float, cosine: float,
                 terms: tuple[str, ...] = (), evidence: tuple[str, ...] = (),
                 explain: Callable[[], tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
                 values: dict[str, float] | None = None) -> None:
        self.event_id = event_id
        self.score = score  # probability that the item reports the event's matter
        self.cosine = cosine  # text similarity alone
        self.values = values or {}  # the pair features the score was computed from
        self._terms, self._evidence, self._explain = terms, evidence, explain

    @property
    def terms(self) -> tuple[str, ...]:
        """The shared terms that weighed most."""
        self._resolve()
        return self._terms

    @property
    def evidence(self) -> tuple[str, ...]:
        """The pair features that weighed most, with their values and weights."""
        self._resolve()
        return self._evidence

    def _resolve(self) -> None:
        if self._explain is not None:
            self._terms, self._evidence = self._explain()
            self._explain = None

    def __repr__(self) -> str:
        return f"Match({self.event_id!r}, score={self.score:.3f}, cosine={self.cosine:.3f})"


class EventIndex:
    def __init__(self, config: Grouping, scorer: PairScorer | None = None) -> None:
        self.config = config
        self.scorer = scorer or default_scorer()
        self._entries: dict[str, Entry] = {}
        self._postings: dict[str, set[str]] = defaultdict(set)
        self._places: dict[str, set[str]] = defaultdict(set)  # place or county → events
        # log(1 + events holding the term), kept as postings change: the open-event IDF of
        # every lookup reads it instead of counting postings again.
        self._log_df: dict[str, float] = {}
        # (when it may be forgotten, event id), earliest first; stale rows (the event was put
        # again later or removed) are skipped when popped: expiry costs what expires.
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._entries

    def get(self, event_id: str) -> Entry | None:
        return self._entries.get(event_id)

    def version_of(self, event_id: str) -> int | None:
        entry = self._entries.get(event_id)
        return entry.version if entry else None

    def put(self, entry: Entry) -> None:
        self.remove(entry.event_id)
        entry.centroid = normalise(dict(heapq.nlargest(
            self.config.centroid_terms, entry.total.items(), key=lambda kv: kv[1])))
        self._entries[entry.event_id] = entry
        for term in entry.centroid:
            ids = self._postings[term]
            ids.add(entry.event_id)
            self._log_df[term] = math.log(len(ids) + 1)
        entry.weighted_norm = 0.0  # computed at its first comparison
        for key in _place_keys(entry.marks.places, entry.marks.counties):
            self._places[key].add(entry.event_id)
        heapq.heappush(self._expiries, (self._forget_at(entry), entry.event_id))
        if len(self._expiries) > 4 * len(self._entries) + 1024:  # mostly stale rows: rebuild
            self._expiries = [(self._forget_at(e), i) for i, e in self._entries.items()]
            heapq.heapify(self._expiries)

    def remove(self, event_id: str) -> None:
        old = self._entries.pop(event_id, None)
        if old is None:
            return
        _unpost(self._postings, old.centroid, event_id)
        for term in old.centroid:
            ids = self._postings.get(term)
            if ids:
                self._log_df[term] = math.log(len(ids) + 1)
            else:
                self._log_df.pop(term, None)
        _unpost(self._places, _place_keys(old.marks.places, old.marks.counties), event_id)

    def expire(self, now_ts: float) -> int:
        """Forget events quiet for longer than the window that owe nothing: they take no more
        items. An event still owing a response stays, so a late answer is recognised."""
        expired = 0
        while self._expiries and self._expiries[0][0] < now_ts:
            _, event_id = heapq.heappop(self._expiries)
            entry = self._entries.get(event_id)
            if entry is not None and self._forget_at(entry) < now_ts:
                self.remove(event_id)
                expired += 1
        return expired

    def _forget_at(self, entry: Entry) -> float:
        """An event still owed an answer is kept for the (longer) answer window."""
        keep = self.config.answer_window if entry.owed_until else self.config.window
        return entry.horizon + keep

    def best(self, marks: Marks, vector: Vector, threshold: float,
             window: float | None = None) -> Match | None:
        """The open event this item most probably reports, if at least `threshold`; never one
        whose reports counted dead when the item says no one died (tolls only rise)."""
        return next((m for m in self.ranked(marks, vector, window)
                     if m.score >= threshold and not m.values.get("toll_contradicts")), None)

    def ranked(self, marks: Marks, vector: Vector, window: float | None = None) -> list[Match]:
        """The shortlisted candidates, most probable first (alternatives are evidence too)."""
        weigh = _EventIdf(self)
        item = weigh.apply(vector)
        shortlist = self._shortlist(vector, marks,
                                    self.config.window if window is None else window)
        similar = [(entry, *self._similarity(entry, item, weigh)) for entry in shortlist]
        texts = [similarity for _, _, similarity in similar]
        matches = [self._match(entry, shared, similarity, marks,
                               _lead(similarity, texts[:n] + texts[n + 1:]))
                   for n, (entry, shared, similarity) in enumerate(similar)]
        return sorted(matches, key=lambda m: -m.score)

    def _shortlist(self, vector: Vector, marks: Marks, window: float) -> list[Entry]:
        """The few candidates worth a full score: events sharing a strong term or a place, in
        the time window, ranked by plain cosine over the strong terms plus what they share of
        places. Accumulated along the postings, so each candidate costs only what it shares."""
        rough: dict[str, float] = defaultdict(float)
        for term, weight in heapq.nlargest(self.config.candidate_terms, vector.items(),
                                           key=lambda kv: kv[1]):
            for event_id in self._postings.get(term, ()):
                rough[event_id] += weight * self._entries[event_id].centroid[term]
        for key in {place_key(p) for p in marks.places}:
            for event_id in self._places.get(key, ()):
                rough[event_id] += 0.3 / max(1, len(marks.places))
        for county in marks.named_counties:  # the same counties the pair features read
            for event_id in self._places.get(f"county:{county}", ()):
                rough[event_id] += 0.2
        at = marks.at
        # Ties (events told in the same words) go to the latest, then by id: never to the
        # order sets happen to hold them in, which changes from one process to the next.
        best = heapq.nlargest(SHORTLIST * 4, rough.items(), key=lambda kv: (
            round(kv[1], 9), self._entries[kv[0]].last_seen, kv[0]))
        entries = (self._entries[event_id] for event_id, _ in best)
        return [e for e in entries if e.near(at, window)][:SHORTLIST]

    def _similarity(self, entry: Entry, item: Vector,
                    weigh: _EventIdf) -> tuple[dict[str, float], float]:
        """Cosine of the item and the event, both re-weighted by the open events' term
        frequencies (the event's re-weighted norm is kept with the entry, _weighted_norm),
        with each shared term's part."""
        centroid, norm = entry.centroid, self._weighted_norm(entry, weigh)
        shared = {t: w * centroid[t] * weigh.factor(t) / norm
                  for t, w in item.items() if t in centroid}
        return shared, sum(shared.values())

    def _match(self, entry: Entry, shared: dict[str, float], similarity: float, marks: Marks,
               lead: float) -> Match:
        centroid = entry.centroid
        values = features(marks, entry.marks, similarity, centroid if marks.pointed else ())
        # Past the first days an item of the same kind and road is as often another matter:
        # only what identifies the matter joins it then (identity.may_join), not the words.
        # Nor does it speak for an event of another county: that the words are the kind's
        # (a quarry collapse told twice) is the likelier reading then.
        values["text_lead"] = 0.0 if values["late_days"] or values["county_conflict"] else lead

        def explain() -> tuple[tuple[str, ...], tuple[str, ...]]:
            top = heapq.nlargest(5, shared.items(), key=lambda kv: kv[1])
            return tuple(t for t, _ in top), self.scorer.evidence(values)

        return Match(entry.event_id, self.scorer.probability(values), similarity,
                     explain=explain, values=values)

    def score(self, event_id: str, marks: Marks, vector: Vector,
              rivals: Iterable[str] = ()) -> Match:
        """One open event's score for an item, whether or not it would be shortlisted; its
        text lead is over the `rivals` (other open events' ids) only."""
        weigh = _EventIdf(self)
        item = weigh.apply(vector)
        shared, similarity = self._similarity(self._entries[event_id], item, weigh)
        others = [self._similarity(self._entries[r], item, weigh)[1] for r in rivals
                  if r != event_id and r in self._entries]
        return self._match(self._entries[event_id], shared, similarity, marks,
                           _lead(similarity, others))

    def _weighted_norm(self, entry: Entry, weigh: _EventIdf) -> float:
        """Recomputed when the number of open events has moved by a quarter since (the
        re-weighting is logarithmic in it: a quarter moves each factor by at most 0.22)."""
        n = len(self._entries)
        if not entry.weighted_norm or abs(n - entry.norm_at) > 0.25 * n:
            entry.weighted_norm = math.sqrt(sum((w * weigh.factor(t)) ** 2
                                                for t, w in entry.centroid.items())) or 1.0
            entry.norm_at = n
        return entry.weighted_norm


def _lead(similarity: float, others: list[float]) -> float:
    """How much more text the item shares with this event than with the next most similar
    candidate: a follow-up without the headline shares few words with its matter's event,
    yet more than with any other (the kind's words are shared by all of them alike). No
    rival, no lead: an event alone in the window is no more likely the item's for that."""
    return max(0.0, similarity - max(others)) if others else 0.0


def _place_keys(places, counties) -> list[str]:
    return [*{place_key(p) for p in places}, *(f"county:{c}" for c in counties)]


def _unpost(postings: dict[str, set[str]], keys, event_id: str) -> None:
    for key in keys:
        ids = postings.get(key)
        if ids is not None:
            ids.discard(event_id)
            if not ids:
                del postings[key]


class _EventIdf:
    """Re-weights terms by how many open events share them, for one lookup.

    jieba's IDF says how rare a word is in Chinese at large; among open events, 地震, 火灾 or
    食物中毒 are in every event of their kind and say little about *which* earthquake an item
    reports. Without this, one event's centroid drifts to its kind's common words and then
    swallows every report of that kind."""

    def __init__(self, index: EventIndex) -> None:
        self._log_df = index._log_df
        self._log_n = math.log(len(index) + 1) + 1.0

    def factor(self, term: str) -> float:
        """log(n / (df + 1)) + 1, with n the open events and df those holding the term."""
        return self._log_n - self._log_df.get(term, 0.0)

    def apply(self, vector: Vector) -> Vector:
        """The item's vector re-weighted; a word only one open event holds and rare in
        Chinese at large (搅拌车, 留抵退税, 索契) counts RARE_BOOST times more: a report
        sharing it with that event most likely tells the same matter. Both rarities are
        needed: in a quiet window 煤矿 or 事故 is held by one event too."""
        factor, log_df, rare = self.factor, self._log_df, _rare_in_chinese()
        return normalise({t: w * factor(t) * (RARE_BOOST if log_df.get(t) == _LOG_2
                                              and rare(t) else 1.0)
                          for t, w in vector.items()})


RARE_BOOST = 2.0  # 3 gave the same fitting-half figures and lower CEC precision
RARE_IDF = 8.5  # jieba IDF at or above which a word is rare (9.5: the same figures)
_LOG_2 = math.log(2)
# Words the tokeniser cuts from clock times (11时20分许 → 分许) or datelines (4日电): not in
# jieba's table, so they would read as rare; and region names, which the county and place
# features weigh already.
_NOT_RARE = frozenset({"时许", "分许", "日电", "日讯", "点许"})


@cache
def _rare_in_chinese() -> Callable[[str], bool]:
    """Whether a word is rare in Chinese at large (unknown words are) and no region's name."""
    from classifiers.gazetteer import default

    table, _ = idf_table()
    excluded = _NOT_RARE | frozenset(default().names)

    def rare(term: str) -> bool:
        return term not in excluded and table.get(term, RARE_IDF) >= RARE_IDF

    return rare


def add_vectors(total: Vector, vector: Vector, limit: int) -> Vector:
    """Fold an item's vector into an event's running total, keeping the strongest terms."""
    merged = dict(total)
    for term, weight in vector.items():
        merged[term] = merged.get(term, 0.0) + weight
    if len(merged) > limit * 2:
        merged = dict(heapq.nlargest(limit * 2, merged.items(), key=lambda kv: kv[1]))
    return merged
