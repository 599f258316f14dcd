"""The records of tracking: events, their deadlines, responses and history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from monitor.domain.alerts import AlertIntent
from monitor.domain.feedback import Correction


class EventStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    NO_RESPONSE_NEEDED = "no_response_needed"
    MERGED = "merged"
    CLOSED = "closed"


MAX_ITEM_REFS = 200  # netizen messages an event document keeps (each has its own deadline)
# An event document keeps its first reports (their titles identify the matter) and its
# netizen messages; every item's reference is also appended to a list beside it
# (store/events.py), so that a viral event's thousandth repost does not make each save
# rewrite the nine hundred before it.
LEAD_REFS = 8
LISTED_REFS = 5000  # references listed per event; later reposts are counted only

ACTIVE_STATUSES = frozenset({EventStatus.OPEN, EventStatus.ACKNOWLEDGED, EventStatus.ESCALATED})


class DeadlineState(StrEnum):
    PENDING = "pending"
    DUE_SOON = "due_soon"
    MET = "met"
    MISSED = "missed"
    MET_LATE = "met_late"
    SUPERSEDED = "superseded"  # a stricter rule took over (the grade rose)
    WAIVED = "waived"  # the event was marked as not needing a response


# The states as officers read them, on the duty page and in the robots' messages alike.
DEADLINE_STATE_WORDS = {
    DeadlineState.PENDING: "待回应", DeadlineState.DUE_SOON: "临近时限",
    DeadlineState.MET: "已按时回应", DeadlineState.MISSED: "已超时",
    DeadlineState.MET_LATE: "超时后回应", DeadlineState.SUPERSEDED: "已被更严时限取代",
    DeadlineState.WAIVED: "无需回应"}

# Deadlines still owed: running, or missed and not yet answered.
OWED_STATES = frozenset({DeadlineState.PENDING, DeadlineState.DUE_SOON, DeadlineState.MISSED})
# An officer's topic or incident outweighs any number of the machine's votes, so items
# joining later do not flip it back (votes are probabilities, at most 1 per item).
OFFICER_VOTE = 1_000_000.0


class ResponseChannel(StrEnum):
    PRESS_CONFERENCE = "新闻发布会"
    INTERVIEW = "在线访谈"
    POLICY_INTERPRETATION = "政策解读"
    WEIBO_WECHAT = "微博/微信"
    OTHER = "其他"


class EventKind(StrEnum):
    OPINION = "opinion"  # public opinion about a matter (news, posts)
    MESSAGE = "message"  # netizen messages to a government message board
    POLICY = "policy"  # a policy document awaiting its interpretation


def response_id(item_id: str) -> str:
    """The id of the response an item is (detected, linked or moved: always the same one)."""
    return f"r-{item_id}"


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    at: AwareDatetime  # when the response was published
    channel: ResponseChannel
    link: str | None = None
    title: str = ""
    source_id: str | None = None  # None when an officer recorded it
    recorded_by: str | None = None  # officer, for hand-recorded responses
    # The places and counts this answer named that the event had not (tracker.respond): they
    # leave with it if it moves, and do not speak for its staying (answers.better_home).
    added_places: tuple[str, ...] = ()
    added_numbers: tuple[str, ...] = ()
    note: str = ""
    matched_terms: tuple[str, ...] = ()
    score: float | None = None
    linked: bool = True  # an officer may unlink an auto-detected response
    answers: tuple[str, ...] = ()  # the netizen messages this replies to (their item ids)
    # The principal leader (主要负责同志) took part (a press conference, an interview), as an
    # officer recorded it; None when nobody said (the report then reads the title).
    principal_attended: bool | None = None


class Deadline(BaseModel):
    rule: str
    label: str
    # Always set now; None only in events saved before provisional due times existed
    # (recompute-deadlines repairs them).
    due: AwareDatetime | None
    state: DeadlineState = DeadlineState.PENDING
    stage: int = 0  # how many due-soon warnings have fired
    met_at: AwareDatetime | None = None
    response_id: str | None = None
    subject: str | None = None  # the message item a per-message deadline is about
    start: AwareDatetime | None = None  # when its clock started (None: the event's first seen)
    # Counted Monday–Friday because the year's official schedule is not known yet.
    provisional: bool = False
    provisional_reason: str | None = None

    @property
    def key(self) -> str:
        """Unique within the event: the rule, and the message for per-message rules."""
        return self.rule if self.subject is None else f"{self.rule}@{self.subject}"

    @property
    def needs_recompute(self) -> bool:
        return self.provisional or self.due is None


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    who: str  # "system", "worker:<name>", "timer", or an officer's name
    what: str  # a stable verb: opened, item_joined, severity_raised, deadline_missed …
    why: str = ""


class ItemRef(BaseModel):
    """What an event keeps of each item it holds."""

    model_config = ConfigDict(frozen=True)

    id: str
    source_id: str
    title: str
    link: str | None
    published: AwareDatetime
    official: bool
    severity: str | None = None
    score: float | None = None  # similarity when it joined
    message: bool = False  # a netizen message: it has its own working-day deadline
    why: str | None = None  # the evidence it joined on (the pair features that weighed most)


class Event(BaseModel):
    id: str
    kind: EventKind = EventKind.OPINION
    title: str
    topic: str
    incident: str
    severity: str | None = None
    severity_evidence: dict[str, float] = Field(default_factory=dict)
    severity_source: str | None = None  # the item whose text gave the grade
    region: str | None = None
    county: str | None = None
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    item_count: int = 0
    sources: list[str] = Field(default_factory=list)
    needs_response: bool = False
    status: EventStatus = EventStatus.OPEN
    merged_into: str | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    responses: list[Response] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    # The first LEAD_REFS reports and the netizen messages (all of them: store.item_refs)
    items: list[ItemRef] = Field(default_factory=list)
    topic_votes: dict[str, float] = Field(default_factory=dict)
    incident_votes: dict[str, float] = Field(default_factory=dict)
    heat: float = 0.0  # items, decaying with a 6-hour time constant: volume and velocity
    heat_at: AwareDatetime | None = None
    centroid: dict[str, float] = Field(default_factory=dict)  # summed term weights
    # What identifies the matter (identity.py): finer places, counties, magnitudes.
    places: list[str] = Field(default_factory=list)
    counties: list[str] = Field(default_factory=list)
    magnitudes: list[float] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)  # clock times and counts (numbers_in)
    version: int = 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def linked_responses(self) -> list[Response]:
        return [r for r in self.responses if r.linked]

    def clock_start(self, deadline: Deadline) -> datetime:
        """When the deadline's clock started: the message it is about, the last response
        before it for the follow-up cadence, else the event's first seen."""
        start = deadline.start or self.first_seen
        if deadline.rule == "follow_up" and deadline.due is not None:
            start = max((r.at for r in self.linked_responses if r.at <= deadline.due),
                        default=start)
        return start

    def seconds_to_respond(self, deadline: Deadline) -> float | None:
        """From the start of the deadline's clock to the response that settled it."""
        if deadline.met_at is None:
            return None
        return max(0.0, (deadline.met_at - self.clock_start(deadline)).total_seconds())

    def owed_dues(self) -> list[datetime]:
        """Due times of the deadlines still owed."""
        return [d.due for d in self.deadlines if d.due is not None and d.state in OWED_STATES]


class EventGlance(BaseModel):
    """What the wall counts of an event, stored beside it at every save: a few hundred bytes
    to read and parse instead of the whole document (history, items, term vector), so a
    scrape stays cheap with tens of thousands of events."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    topic: str
    severity: str | None = None
    region: str | None = None
    status: EventStatus = EventStatus.OPEN
    deadlines: tuple[Deadline, ...] = ()

    @classmethod
    def of(cls, event: Event) -> EventGlance:
        return cls(id=event.id, topic=event.topic, severity=event.severity,
                   region=event.region, status=event.status, deadlines=tuple(event.deadlines))

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Conflict(Exception):
    """Someone saved a newer version of the event first; reload and apply again."""


@dataclass
class Change:
    """An event to save and what goes with it."""

    event: Event
    expected_version: int  # -1 for a new event
    next_check: datetime | None = None
    due_score: float | None = None
    item_ids: Sequence[str] = ()
    alerts: Sequence[AlertIntent] = field(default_factory=list)
    new_refs: Sequence[ItemRef] = ()  # appended to the event's list of item references
    replace_refs: bool = False  # new_refs replace the list instead (items split off)
    absorbed: Sequence[str] = ()  # merged events whose lists of references join this one
    # officers' corrections kept as labelled feedback: written with the event or not at all
    feedback: Sequence[Correction] = ()
