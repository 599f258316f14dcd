"""The write API's request bodies: typed, strict (an unknown field is an error), each field
described for the OpenAPI document. Answers are the shared domain records (Event)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from monitor.domain.events import Event, ResponseChannel
from monitor.domain.feedback import CorrectableField

Reason = Annotated[str, Field(min_length=1, max_length=500,
                              description="why, in words; kept in the event's history")]
Note = Annotated[str, Field(default="", max_length=2000)]


class Versioned(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: int = Field(ge=0, description="the event version the officer saw; a newer one "
                                           "answers 409 with the current event")


class Acknowledge(Versioned):
    note: Note = ""


class Escalate(Versioned):
    reason: Reason


class NoResponseNeeded(Versioned):
    reason: Reason


class Close(Versioned):
    reason: Note = ""


class Reopen(Versioned):
    reason: Reason


class RecordResponse(Versioned):
    channel: ResponseChannel
    at: AwareDatetime = Field(description="when the response was published (with offset)")
    link: Annotated[str | None, Field(default=None, max_length=2000,
                                      pattern=r"^https?://\S+$")] = None
    text: Annotated[str, Field(min_length=1, max_length=2000,
                               description="what was said, or its title")]
    publisher: Annotated[str, Field(default="", max_length=100,
                                    description="who responded, e.g. 市应急管理局")] = ""
    principal_attended: bool | None = Field(
        default=None, description="the principal leader (主要负责同志) took part, for the "
        "official statistics table; omitted: not known")


class LinkResponse(Versioned):
    item_id: str | None = Field(default=None, description="an item of the event that is a "
                                "response the service did not recognise")
    response_id: str | None = Field(default=None, description="an unlinked response to "
                                    "count again")
    channel: ResponseChannel = ResponseChannel.OTHER
    reason: Note = ""


class UnlinkResponse(Versioned):
    response_id: str
    reason: Reason


class Merge(Versioned):
    into: str = Field(min_length=1, description="the other event's id; the one first seen "
                                                "earlier is kept")
    reason: Reason


class Split(Versioned):
    item_ids: list[str] = Field(min_length=1, description="items to move to a new event")
    reason: Reason


class Correct(Versioned):
    field: CorrectableField
    value: Annotated[str | None, Field(default=None, max_length=40,
                                       description="the right label; empty clears a "
                                       "severity or region")] = None
    item_id: str | None = Field(default=None, description="label one item (feedback only) "
                                "instead of the event")
    reason: Note = ""


class Silence(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scope: Literal["event", "topic", "region"]
    value: str = Field(min_length=1, max_length=80, description="the event id, topic or "
                                                                 "region (prefecture)")
    hours: float = Field(gt=0, le=24 * 30, description="how long alerts stay quiet")
    reason: Reason


class EventAnswer(BaseModel):
    """What a mutation answers: the event as saved (with its new version)."""

    event: Event


class SilenceAnswer(BaseModel):
    id: str
    scope: str
    value: str
    until: AwareDatetime
    by: str
    reason: str


class ErrorAnswer(BaseModel):
    status: int
    error: str
    message: str
    field: str | None = None
    problems: list[dict] | None = None
    current_version: int | None = None
