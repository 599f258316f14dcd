"""Apply classified items to events: join or open, record responses, re-run the deadline
clock, and produce the change to save (with its history and alerts)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.domain.alerts import AlertIntent
from monitor.domain.events import (
    LEAD_REFS,
    MAX_ITEM_REFS,
    Change,
    DeadlineState,
    Event,
    EventKind,
    EventStatus,
    HistoryEntry,
    ItemRef,
    Response,
    response_id,
)
from monitor.models import Item
from monitor.track import alerts
from monitor.track.deadlines import Transition, evaluate
from monitor.track.grouping import Entry, EventIndex, Match, Vector, add_vectors
from monitor.track.identity import (
    MAX_TITLES,
    SAME_HEADLINE,
    EventMarks,
    Marks,
    counties_apart,
    may_join,
    title_grams,
)
from monitor.track.policy import SEVERITY_ORDER, Policy
from monitor.track.responses import is_policy_document, response_channel, response_cues

HEAT_TAU_SECONDS = 6 * 3600
MAX_PLACES = 40
MAX_NUMBERS = 40
UNGRADED = ""  # the grade an event raised from had none (its first report gave no toll)


@dataclass(frozen=True, slots=True)
class Tagged:
    """An item with what classification and tokenising said about it."""

    item: Item
    topic: str
    topic_p: float
    incident: str
    incident_p: float
    severity: str | None  # graded from numbers or explicit words; None when only inferred
    severity_evidence: dict[str, float]
    region: str | None
    county: str | None
    vector: Vector
    marks: Marks = Marks()  # what identifies the matter: places, magnitude, title, time


def event_id_for(item: Item) -> str:
    return "ev-" + hashlib.blake2b(item.id.encode(), digest_size=6).hexdigest()


def to_index_entry(event: Event) -> Entry:
    owed = [due.timestamp() for due in event.owed_dues()]
    first, last = event.first_seen.timestamp(), event.last_seen.timestamp()
    marks = EventMarks(places=frozenset(event.places), counties=set(event.counties),
                       prefecture=event.region,
                       incident=None if event.incident == "无" else event.incident,
                       magnitudes=set(event.magnitudes), numbers=frozenset(event.numbers),
                       grams=[title_grams(i.title) for i in event.items[:MAX_TITLES]],
                       first_seen=first, last_seen=last,
                       deaths=event.severity_evidence.get("deaths", 0.0),
                       brought={r.id: frozenset((*r.added_places, *r.added_numbers))
                                for r in event.responses
                                if r.added_places or r.added_numbers})
    return Entry(event.id, dict(event.centroid), event.region, event.incident, last, first,
                 owed_until=max(owed, default=0.0), marks=marks, version=event.version)


class Tracker:
    """Decides, for one tagged item, which event changes and how (no I/O here)."""

    def __init__(self, policy: Policy, index: EventIndex, who: str = "worker") -> None:
        self.policy = policy
        self.index = index
        self.who = who

    def route(self, tagged: Tagged) -> tuple[str, Match | None]:
        """'respond', 'join', 'open', 'open_policy' or 'skip', with the matched event."""
        action, match, _ = self.route_with_runner_up(tagged)
        return action, match

    def route_with_runner_up(self, tagged: Tagged) -> tuple[str, Match | None, Match | None]:
        """As `route`, with the second open event a joining item reports (a merge hint)."""
        item, g = tagged.item, self.policy.grouping
        if item.reposts_own:  # an account repeating its own post answers nothing new
            return "skip", None, None
        if item.official:
            match = self.index.best(tagged.marks, tagged.vector, g.response_threshold,
                                    window=g.answer_window) or self._board_original(tagged)
            if match and (response_cues(item) or match.score >= g.join_threshold):
                return "respond", match, None
            return ("open_policy" if is_policy_document(item) else "skip"), None, None
        if tagged.topic in self.policy.needs_response.never_topics and tagged.incident == "无":
            return "skip", None, None
        # Where and what alone (the county, the kind) join a report only in the first days.
        ranked = [m for m in self.index.ranked(tagged.marks, tagged.vector)
                  if may_join(m.values)]
        if not ranked or ranked[0].score < g.join_threshold:
            return "open", None, None
        runner_up = ranked[1] if len(ranked) > 1 and ranked[1].score >= g.join_threshold \
            else None
        return "join", ranked[0], runner_up

    def _board_original(self, tagged: Tagged) -> Match | None:
        """A board's reply (an official item on a message board) carries its message's title
        (答复：<the title>): it answers the event holding that message, however few words
        the reply shares with it."""
        if tagged.item.channel != "message_board":
            return None
        ranked = self.index.ranked(tagged.marks, tagged.vector,
                                   window=self.policy.grouping.answer_window)
        return next((m for m in ranked if m.values.get("title", 0.0) >= SAME_HEADLINE), None)

    def merges_surely(self, match: Match, other: Match, a: Event, b: Event) -> bool:
        """Whether an item reporting both `a` (as `match`) and `b` (as `other`) merges them:
        it reports both surely, and they do not name different counties (then an officer
        decides; the machine only suggests)."""
        return (min(match.score, other.score) >= self.policy.grouping.merge_threshold
                and not counties_apart(a.counties, b.counties))

    def merge(self, keep: Event, gone: Event, why: str, now: datetime) -> list[Change]:
        """`gone` is the same matter as `keep` (the earlier): one event from now on, with the
        items, sources, responses and history of both, its clocks from the earliest first
        seen, its grade from the merged counts. Both changes are saved together."""
        if gone.first_seen < keep.first_seen:
            keep, gone = gone, keep
        versions = (keep.version, gone.version)
        previous_severity = keep.severity
        _absorb(keep, gone, self.policy)
        keep.history.append(HistoryEntry(at=now, who=self.who, what="merged",
                                         why=f"{gone.id} ({gone.title}) merged in: {why}"))
        keep.needs_response = needs_response(keep, self.policy)
        gone.status, gone.merged_into = EventStatus.MERGED, keep.id
        gone.history.append(HistoryEntry(at=now, who=self.who, what="merged_into",
                                         why=f"{keep.id} ({keep.title}): {why}"))
        kept = self.finish(keep, now, versions[0],
                           raised_from=_raised_from(previous_severity, keep),
                           new_refs=gone.items, absorbed=[gone.id])
        if keep.needs_response:  # officers following either event learn it is one matter
            kept.alerts = [alerts.merged(keep, gone, why, now), *kept.alerts]
        return [kept, self.finish(gone, now, versions[1])]

    def suggest_merge(self, a: Event, b: Event, why: str, now: datetime) -> list[Change]:
        """Not sure enough to merge: each event's history names the other, once."""
        versions = (a.version, b.version)
        changed = [_suggestion(a, b, why, now, self.who), _suggestion(b, a, why, now, self.who)]
        return [self.finish(e, now, v) for e, v, c in zip((a, b), versions, changed, strict=True)
                if c]

    def open(self, tagged: Tagged, now: datetime, kind: EventKind | None = None) -> Change:
        item = tagged.item
        if kind is None:
            kind = EventKind.MESSAGE if item.channel == "message_board" else EventKind.OPINION
        event = Event(id=event_id_for(item), kind=kind, title=item.title, topic=tagged.topic,
                      incident=tagged.incident, first_seen=item.published,
                      last_seen=item.published, region=tagged.region, county=tagged.county)
        event.history.append(HistoryEntry(at=now, who=self.who, what="opened",
                                          why=f"{kind.value}: {item.source_id} {item.title}"))
        return self._take_item(event, tagged, None, now, expected_version=-1)

    def join(self, event: Event, tagged: Tagged, match: Match, now: datetime) -> Change:
        """Changes `event` in place (callers pass one just loaded) and returns the change."""
        return self._take_item(event, tagged, match, now, expected_version=event.version)

    def respond(self, event: Event, tagged: Tagged, match: Match, now: datetime) -> Change:
        item, marks = tagged.item, tagged.marks
        before = event.version
        response = Response(id=response_id(item.id), at=item.published,
                            channel=response_channel(item), link=item.link, title=item.title,
                            source_id=item.source_id,
                            matched_terms=(*match.terms, *response_cues(item)),
                            score=round(match.score, 4), answers=answered_messages(event, tagged),
                            added_places=tuple(sorted(marks.places - {*event.places})),
                            added_numbers=tuple(sorted(marks.numbers - {*event.numbers})))
        event.responses.append(response)
        # The towns, roads and counts an official notice names identify the matter too: a
        # follow-up names the town the 通报 named (太平乡), which the first report did not.
        _add_marks(event, marks.places, (), (), marks.numbers)
        event.history.append(HistoryEntry(
            at=now, who=self.who, what="response_detected",
            why=f"{response.channel.value}: {item.title} (p {match.score:.2f}; "
                f"{'; '.join(match.evidence)}; terms {'、'.join(response.matched_terms[:6])})"))
        if item.published < event.first_seen:
            # The notice came before the first news report (adopted once the event opened):
            # the matter was public from then, so its clocks start then.
            event.history.append(HistoryEntry(
                at=now, who=self.who, what="first_seen_moved",
                why=f"{event.first_seen.isoformat()} → {item.published.isoformat()}: "
                    f"{item.source_id} published before the first report"))
            event.first_seen = item.published
        # An official 通报 or a press conference often gives the latest, most authoritative
        # toll: the grade follows it as it follows the news.
        previously_needed, grade_before = event.needs_response, event.severity
        _raise_severity(event, tagged)
        if (raised_from := _raised_from(grade_before, event)) is not None:
            _note_raise(event, raised_from, now, self.who)
            event.needs_response = needs_response(event, self.policy)
        return self.finish(event, now, before, item_ids=[item.id], raised_from=raised_from,
                           now_needs_response=event.needs_response and not previously_needed)

    def move_response(self, old: Event, new: Event, tagged: Tagged, old_match: Match,
                      new_match: Match, now: datetime,
                      old_refs: Sequence[ItemRef] | None = None) -> list[Change]:
        """An answer attached to `old` matches `new` (opened later) clearly better: it moves.
        `old` loses it — its deadlines re-run by the clock, so one met only by this answer is
        owed again (due soon or missed, as the clock says; the history says why), and a grade
        its toll gave falls back to the highest its own reports (`old_refs`, else the refs
        its document holds) give — and `new` takes it as `respond` does (clocks from the
        notice if it came first, grade raised by its toll, 已回应). Both changes are saved
        together."""
        old_version, leaving = old.version, response_id(tagged.item.id)
        if (response := next((r for r in old.responses if r.id == leaving), None)) is not None:
            # what it brought to the event leaves with it
            old.places = [p for p in old.places if p not in response.added_places]
            old.numbers = [n for n in old.numbers if n not in response.added_numbers]
        old.responses = [r for r in old.responses if r.id != leaving]
        scores = f"p {new_match.score:.2f} there, {old_match.score:.2f} here"
        old.history.append(HistoryEntry(
            at=now, who=self.who, what="response_moved",
            why=f"{tagged.item.source_id}: {tagged.item.title} → {new.id} ({new.title}): "
                f"{scores}; there {'; '.join(new_match.evidence)}; "
                f"here {'; '.join(old_match.evidence)}"))
        _restore_first_seen(old, tagged.item.published, now, self.who)
        lowered_from = None
        if old.severity_source == tagged.item.id:
            lowered_from = _regrade_from_reports(
                old, old.items if old_refs is None else old_refs, new.id, now, self.who)
            old.needs_response = needs_response(old, self.policy)
        new.history.append(HistoryEntry(
            at=now, who=self.who, what="response_moved",
            why=f"{tagged.item.source_id}: {tagged.item.title} ← {old.id} ({old.title}): "
                f"p {new_match.score:.2f} here, {old_match.score:.2f} there"))
        left = self.finish(old, now, old_version)
        if lowered_from is not None:  # officers were told of the raise: tell them it is undone
            why = f"{tagged.item.title} 属于另一事件：{new.title}"
            left.alerts = [*left.alerts, alerts.severity_lowered(old, lowered_from, why, now)]
        return [left, self.respond(new, tagged, new_match, now)]

    def _take_item(self, event: Event, tagged: Tagged, match: Match | None, now: datetime,
                   expected_version: int) -> Change:
        item = tagged.item
        previous_severity, previously_needed = event.severity, event.needs_response
        ref = _count_item(event, tagged, match, self.policy)
        if match is not None and event.item_count <= LEAD_REFS:
            # The first joins are in the history; every join's evidence is kept with its
            # item reference (ItemRef.why), which the event's list holds.
            event.history.append(HistoryEntry(
                at=now, who=self.who, what="item_joined",
                why=f"{item.source_id}: {item.title} (p {match.score:.2f}; "
                    f"{'; '.join(match.evidence)}; terms {'、'.join(match.terms)})"))
        # The first report opens the event with its grade (the new-event alert says it);
        # every later report that raises it, also from no grade at all, is a raise.
        raised_from = _raised_from(previous_severity, event) if match is not None else None
        if raised_from is not None:
            _note_raise(event, raised_from, now, self.who)
        event.needs_response = needs_response(event, self.policy)
        return self.finish(event, now, expected_version, item_ids=[item.id],
                           now_needs_response=event.needs_response and not previously_needed,
                           raised_from=raised_from, new_refs=[ref])

    def finish(self, event: Event, now: datetime, expected_version: int,
               item_ids: list[str] | None = None, now_needs_response: bool = False,
               raised_from: str | None = None, new_refs: list[ItemRef] | None = None,
               absorbed: list[str] | None = None) -> Change:
        """Re-run the deadline clock, record transitions, and build the change to save.
        The alerts are built after the clock so that they show the deadlines as they now are."""
        result = evaluate(event, self.policy, now)
        event.deadlines = result.deadlines
        raised: list[AlertIntent] = []
        if now_needs_response:
            raised.append(alerts.new_event(event, now))
        if raised_from is not None:
            raised.append(alerts.severity_raised(event, raised_from or None, now))
        for change in result.transitions:
            event.history.append(_history_of(change, now, self.who))
            if change.only_due_changed:
                continue
            if (intent := alerts.for_transition(event, change, now)) is not None:
                raised.append(intent)
        event.version = max(expected_version, 0) + 1
        return Change(event, expected_version, next_check=result.next_check,
                      due_score=attention_score(event), item_ids=item_ids or [],
                      alerts=raised, new_refs=new_refs or [], absorbed=absorbed or [])


_TO_NETIZENS = re.compile(r"回复|答复|办理结果|留言|网民反映|群众反映|市民反映|网友反映")


def answered_messages(event: Event, tagged: Tagged) -> tuple[str, ...]:
    """The netizen messages an official item answers. A reply on a message board answers
    one: the waiting message whose title it shares most with. An answer that says it is
    about what netizens reported (针对网民反映…, 关于…留言的回复) answers every message
    waiting when it was published. Other answers are about the matter as a whole."""
    item = tagged.item
    board = item.channel == "message_board"
    if not board and not _TO_NETIZENS.search(f"{item.title} {item.summary[:120]}"):
        return ()
    answered = {m for r in event.responses for m in r.answers}
    waiting = [i for i in event.items
               if i.message and i.id not in answered and i.published <= item.published]
    if not waiting:
        return ()
    if not board:
        return tuple(i.id for i in waiting)
    return (max(waiting, key=lambda i: (len(title_grams(i.title) & tagged.marks.grams),
                                        -i.published.timestamp())).id,)


def _suggestion(event: Event, other: Event, why: str, now: datetime, who: str) -> bool:
    """Record a merge suggestion once per pair; False when it was already recorded."""
    tag = f"{other.id} ({other.title})"
    if any(h.what == "merge_suggested" and h.why.startswith(tag) for h in event.history):
        return False
    event.history.append(HistoryEntry(at=now, who=who, what="merge_suggested",
                                      why=f"{tag} may be the same matter: {why}"))
    return True


def _restore_first_seen(event: Event, moved_at: datetime, now: datetime, who: str) -> None:
    """An answer that moved the event's clocks back (it came before the first report) and
    then left: the clocks start at the first report again (the lead reports are kept in the
    document, the earliest among them)."""
    reports = [i.published for i in event.items]
    earliest = min([*reports, *(r.at for r in event.responses)], default=None)
    if event.first_seen != moved_at or earliest is None or earliest <= moved_at:
        return
    event.history.append(HistoryEntry(
        at=now, who=who, what="first_seen_moved",
        why=f"{event.first_seen.isoformat()} → {earliest.isoformat()}: the answer that "
            "came first moved to another event"))
    event.first_seen = earliest


def _absorb(keep: Event, gone: Event, policy: Policy) -> None:
    merged = sorted([*keep.items, *gone.items], key=lambda i: i.published)
    keep.items = []
    for ref in merged:  # gone's list joins keep's in the store (Change.absorbed)
        if _kept_in_document(keep, ref):
            keep.items.append(ref)
    keep.item_count += gone.item_count
    keep.sources += [s for s in gone.sources if s not in keep.sources]
    known = {r.id for r in keep.responses}
    keep.responses += [r for r in gone.responses if r.id not in known]
    keep.history = sorted([*keep.history, *gone.history], key=lambda h: h.at)
    keep.first_seen = min(keep.first_seen, gone.first_seen)
    keep.last_seen = max(keep.last_seen, gone.last_seen)
    keep.heat += gone.heat
    for votes, theirs in ((keep.topic_votes, gone.topic_votes),
                          (keep.incident_votes, gone.incident_votes)):
        for label, p in theirs.items():
            _vote(votes, label, p)
    keep.topic = max(keep.topic_votes, key=keep.topic_votes.__getitem__)
    keep.incident = max(keep.incident_votes, key=keep.incident_votes.__getitem__)
    if _rank(gone.severity) > _rank(keep.severity):
        keep.severity, keep.severity_evidence = gone.severity, dict(gone.severity_evidence)
        keep.severity_source = gone.severity_source
    keep.region, keep.county = keep.region or gone.region, keep.county or gone.county
    keep.centroid = add_vectors(keep.centroid, gone.centroid, policy.grouping.centroid_terms)
    _add_marks(keep, gone.places, gone.counties, gone.magnitudes, gone.numbers)


def needs_response(event: Event, policy: Policy) -> bool:
    rules = policy.needs_response
    if event.kind in (EventKind.MESSAGE, EventKind.POLICY):
        return True
    if event.topic in rules.never_topics and event.incident == "无":
        return False
    if event.incident != "无":
        return True
    minimum = rules.min_items if event.topic == rules.broad_topic else rules.key_topics_min_items
    return event.item_count >= minimum


def attention_score(event: Event) -> float | None:
    """For 'open events ordered by time left': the earliest due time among deadlines still
    running or missed without an answer. None when nothing is owed."""
    owed = event.owed_dues()
    return min(owed).timestamp() if owed and event.active else None


def _count_item(event: Event, tagged: Tagged, match: Match | None, policy: Policy) -> ItemRef:
    item = tagged.item
    event.item_count += 1
    ref = ItemRef(id=item.id, source_id=item.source_id, title=item.title, link=item.link,
                  published=item.published, official=item.official, severity=tagged.severity,
                  message=item.channel == "message_board" and not item.official,
                  score=round(match.score, 4) if match else None,
                  why="; ".join(match.evidence) if match else None)
    if _kept_in_document(event, ref):
        event.items.append(ref)
    if item.source_id not in event.sources:
        event.sources.append(item.source_id)
    event.first_seen = min(event.first_seen, item.published)
    _decay_heat(event, item.published)
    event.last_seen = max(event.last_seen, item.published)
    _vote(event.topic_votes, tagged.topic, tagged.topic_p)
    _vote(event.incident_votes, tagged.incident, tagged.incident_p)
    event.topic = max(event.topic_votes, key=event.topic_votes.__getitem__)
    event.incident = max(event.incident_votes, key=event.incident_votes.__getitem__)
    event.region = event.region or tagged.region
    event.county = event.county or tagged.county
    _raise_severity(event, tagged)
    event.centroid = add_vectors(event.centroid, tagged.vector, policy.grouping.centroid_terms)
    marks = tagged.marks
    _add_marks(event, marks.places, [marks.county] if marks.county else [],
               [marks.magnitude] if marks.magnitude is not None else [], marks.numbers)
    return ref


def _raise_severity(event: Event, tagged: Tagged) -> None:
    """Take the item's grade when it is higher (counts only rise)."""
    if _rank(tagged.severity) > _rank(event.severity):
        event.severity = tagged.severity
        event.severity_evidence = dict(tagged.severity_evidence)
        event.severity_source = tagged.item.id


def _raised_from(before: str | None, event: Event) -> str | None:
    """The grade the event was raised from (UNGRADED when it had none, as when the first
    report gave no toll), or None when the grade did not rise."""
    return (before or UNGRADED) if _rank(event.severity) > _rank(before) else None


def _note_raise(event: Event, raised_from: str, now: datetime, who: str) -> None:
    event.history.append(HistoryEntry(
        at=now, who=who, what="severity_raised",
        why=f"{raised_from or '未定级'} → {event.severity}: "
            f"{_evidence_words(event.severity_evidence)}; "
            "stricter deadlines apply from first seen"))


def _regrade_from_reports(event: Event, refs: Sequence[ItemRef], moved_to: str,
                          now: datetime, who: str) -> str | None:
    """The answer whose toll graded the event has gone to another matter: the grade is the
    highest its own reports give (their counts are not kept with them, only their grade and
    the report it came from). Returns the grade it fell from, if it fell."""
    graded = [r for r in refs if r.severity]
    top = max(graded, key=lambda r: _rank(r.severity), default=None)
    before = event.severity
    event.severity = top.severity if top else None
    event.severity_evidence = {}
    event.severity_source = top.id if top else None
    if event.severity != before:
        event.history.append(HistoryEntry(
            at=now, who=who, what="severity_lowered",
            why=f"{before or '未定级'} → {event.severity or '未定级'}: the answer that gave "
                f"{before} moved to {moved_to}"
                + (f"; from {top.source_id}: {top.title}" if top else "")))
        return before or UNGRADED
    return None


def _kept_in_document(event: Event, ref: ItemRef) -> bool:
    """The lead reports and the netizen messages stay in the event document (see LEAD_REFS)."""
    if ref.message:
        return sum(1 for i in event.items if i.message) < MAX_ITEM_REFS
    return sum(1 for i in event.items if not i.message) < LEAD_REFS


def _add_marks(event: Event, places: Iterable[str], counties: Iterable[str],
               magnitudes: Iterable[float], numbers: Iterable[str] = ()) -> None:
    """What identifies the matter (an item's, or a merged event's), kept on the event so
    every worker's index can rebuild it."""
    event.places = sorted({*event.places, *places})[:MAX_PLACES]
    event.counties += [c for c in counties if c not in event.counties]
    event.magnitudes += [m for m in magnitudes if m not in event.magnitudes]
    event.numbers = sorted({*event.numbers, *numbers})[:MAX_NUMBERS]


def _decay_heat(event: Event, at: datetime) -> None:
    if event.heat_at is None:
        event.heat, event.heat_at = 1.0, at
        return
    elapsed = (at - event.heat_at).total_seconds()
    if elapsed >= 0:
        event.heat = event.heat * math.exp(-elapsed / HEAT_TAU_SECONDS) + 1.0
        event.heat_at = at
    else:  # an older item arriving late still adds, at its decayed weight
        event.heat += math.exp(elapsed / HEAT_TAU_SECONDS)


def _vote(votes: dict[str, float], label: str, p: float) -> None:
    votes[label] = round(votes.get(label, 0.0) + p, 4)


def _rank(grade: str | None) -> int:
    return SEVERITY_ORDER.get(grade or "", 0)


def _history_of(change: Transition, now: datetime, who: str) -> HistoryEntry:
    if change.only_due_changed:
        return HistoryEntry(at=now, who=who, what="deadline_due_changed",
                            why=_due_change_words(change))
    return HistoryEntry(at=now, who=who, what=f"deadline_{change.after.value}",
                        why=_transition_words(change))


def _transition_words(change: Transition) -> str:
    due = change.due.isoformat() if change.due else "unknown"
    text = f"{change.label}: {change.before.value if change.before else 'new'} → " \
           f"{change.after.value} (due {due}"
    if change.provisional_reason:
        text += f", {change.provisional_reason}"
    if change.stage and change.after is DeadlineState.DUE_SOON:
        text += f", warning {change.stage}"
    if change.response is not None:
        text += f"; {change.response.channel.value} {change.response.link or ''}".rstrip()
    return text + ")"


def _due_change_words(change: Transition) -> str:
    before = change.before_due.isoformat() if change.before_due else "none"
    after = change.due.isoformat() if change.due else "none"
    basis = change.provisional_reason or "official calendar"
    return f"{change.label}: due {before} → {after} ({basis})"


def _evidence_words(evidence: dict[str, float]) -> str:
    names = {"deaths": "死亡", "missing": "失踪", "injured": "受伤", "serious_injuries": "重伤",
             "poisoned": "中毒", "direct_loss_wan": "直接经济损失(万元)", "magnitude": "震级"}
    return "，".join(f"{names.get(k, k)} {v:g}" for k, v in evidence.items()) or "explicit grade"
