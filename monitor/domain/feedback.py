"""Officers' corrections of what the machine said: labelled examples for training."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

CorrectableField = Literal["topic", "incident", "severity", "region"]


class Correction(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    item_id: str | None  # None: the event as a whole
    field: CorrectableField
    machine: str | None  # what the machine had said
    officer_value: str | None  # what the officer says is right
    officer: str
    at: AwareDatetime
    reason: str = ""
    text: str = ""  # the title the label is about, so training needs no other lookup
