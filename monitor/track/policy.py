"""Tracking policy, from tracking.yaml: grouping thresholds, what needs a response, and the
deadline rules (defaults from DOMAIN.md: 5 h / 24 h for 特别重大 and 重大, 48 h otherwise,
2 working days for netizen messages, 3 working days for policy interpretation)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.config import Duration
from monitor.domain.events import EventKind, ResponseChannel
from monitor.track.workdays import PublishedYear
from monitor.yamlconfig import duplicate_ids, load_yaml_model

MAJOR = ("特别重大", "重大")
SEVERITY_ORDER = {"一般": 1, "较大": 2, "重大": 3, "特别重大": 4}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Applies(_Strict):
    """Which events a rule covers; every given condition must hold."""

    kinds: tuple[EventKind, ...] = (EventKind.OPINION,)
    severities: tuple[str, ...] | None = None  # only these grades
    not_severities: tuple[str, ...] = ()  # not these grades (the stricter rules own them)


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    applies: Applies = Applies()
    within: Duration | None = None  # wall-clock window from the clock start
    working_days: int | None = Field(default=None, ge=1, le=30)
    met_by: tuple[ResponseChannel, ...] | Literal["any"] = "any"
    enabled: bool = True
    # "message": one deadline per netizen message in the event, from that message, met by
    # the reply to it (or an officer's record for it); "event": one for the whole event.
    per: Literal["event", "message"] = "event"

    @model_validator(mode="after")
    def _one_window(self) -> Rule:
        if (self.within is None) == (self.working_days is None):
            raise ValueError("give exactly one of 'within' (e.g. 48h) or 'working_days'")
        return self

    def accepts(self, channel: ResponseChannel) -> bool:
        return self.met_by == "any" or channel in self.met_by


class FollowUp(_Strict):
    """Keep informing while the event is active: a response every `every` after the last."""

    enabled: bool = False
    every: Duration = 24 * 3600.0
    severities: tuple[str, ...] = MAJOR
    label: str = "持续发布权威信息"


class Grouping(_Strict):
    # Probabilities from the pair scorer (identity.py) that an item reports an event's matter.
    join_threshold: float = Field(default=0.5, gt=0, le=1)
    response_threshold: float = Field(default=0.3, gt=0, le=1)
    # An item that reports two open events this surely shows they are one: they merge. Below
    # it (but both above join_threshold) officers get a merge suggestion instead.
    merge_threshold: float = Field(default=0.85, gt=0, le=1)
    # An event takes items up to this long after its last one: a reporter's recap, the
    # investigation's result come days later (the pair scorer weighs how late).
    window: Duration = 7 * 86400.0
    # An official answer is matched to an event still owing one up to this long after its
    # last item or due time: replies to netizen messages often come a week or two late.
    answer_window: Duration = 30 * 86400.0
    candidate_terms: int = Field(default=12, ge=1, le=100)
    centroid_terms: int = Field(default=60, ge=5, le=500)


class NeedsResponse(_Strict):
    """What counts as worth a response: government public opinion, with enough weight."""

    never_topics: tuple[str, ...] = ("无关",)
    min_items: int = Field(default=2, ge=1)  # for non-incident 其他政务
    key_topics_min_items: int = Field(default=1, ge=1)  # the 13 topics of plan task 7
    broad_topic: str = "其他政务"


class Policy(_Strict):
    version: Literal[1] = 1
    due_soon_at: tuple[float, ...] = (0.5, 0.8)
    grouping: Grouping = Grouping()
    needs_response: NeedsResponse = NeedsResponse()
    rules: tuple[Rule, ...] = ()
    follow_up: FollowUp = FollowUp()
    # Years the installed chinesecalendar does not know yet, as published (see workdays.py).
    calendar: dict[int, PublishedYear] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fractions(self) -> Policy:
        if any(not 0 < f < 1 for f in self.due_soon_at) or list(self.due_soon_at) != sorted(
            self.due_soon_at
        ):
            raise ValueError("due_soon_at must be increasing fractions between 0 and 1")
        return self

    @property
    def enabled_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)


DEFAULT_RULES = (
    Rule(id="authoritative_info_5h", label="5小时内发布权威信息", within=5 * 3600,
         applies=Applies(severities=MAJOR)),
    Rule(id="press_conference_24h", label="24小时内举行新闻发布会", within=24 * 3600,
         applies=Applies(severities=MAJOR), met_by=(ResponseChannel.PRESS_CONFERENCE,)),
    Rule(id="response_48h", label="48小时内予以回应", within=48 * 3600,
         applies=Applies(not_severities=MAJOR)),
    Rule(id="message_2wd", label="2个工作日内办理网民留言", working_days=2, per="message",
         applies=Applies(kinds=tuple(EventKind))),
    Rule(id="policy_interpretation_3wd", label="3个工作日内发布政策解读", working_days=3,
         applies=Applies(kinds=(EventKind.POLICY,)),
         met_by=(ResponseChannel.POLICY_INTERPRETATION,)),
)


def default_policy() -> Policy:
    return Policy(rules=DEFAULT_RULES)


def load_policy(path: Path | None) -> Policy:
    """tracking.yaml if given (and present), else the defaults of DOMAIN.md."""
    if path is None or (path == Path("tracking.yaml") and not path.exists()):
        return default_policy()
    policy = load_yaml_model(path, Policy, checks=(duplicate_ids("rules"),))
    return policy if policy.rules else policy.model_copy(update={"rules": DEFAULT_RULES})
