"""Alertmanager's webhook message (version 4) → operations alert intents.

Prometheus's rules watch the service itself (prometheus/rules/); Alertmanager groups what
fires and posts it to the monitor, which sends each alert through the same outbox and routes
as the officers' alerts (route on `kind: [operations]` in notify.yaml). Alertmanager retries
a failed post and repeats a firing group: an alert's key is its fingerprint, status and
start, so each firing and each resolution is shown once.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from monitor.domain.alerts import AlertIntent, AlertKind, OperationsView

MAX_TEXT = 500  # characters of an annotation kept: the rest is for the rule file, not a chat


class AlertmanagerAlert(BaseModel):
    """One alert of the message; fields beyond these are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    status: str
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")

    @field_validator("status")
    @classmethod
    def _known_status(cls, status: str) -> str:
        if status not in ("firing", "resolved"):
            raise ValueError(f"status must be 'firing' or 'resolved', not {status[:20]!r}")
        return status

    @field_validator("ends_at", mode="before")
    @classmethod
    def _unset_end(cls, value: object) -> object:
        # A firing alert carries Go's zero time ("0001-01-01T00:00:00Z"): no end yet.
        return None if isinstance(value, str) and value.startswith("0001-01-01") else value


class AlertmanagerMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: str
    status: str = ""
    receiver: str = ""
    alerts: list[AlertmanagerAlert] = Field(max_length=1000)

    @field_validator("version")
    @classmethod
    def _version_4(cls, version: str) -> str:
        if version != "4":
            raise ValueError(f"this endpoint reads Alertmanager's webhook version 4, not "
                             f"{version[:10]!r}")
        return version


def intent_key(alert: AlertmanagerAlert) -> str:
    """The same alert in the same state from the same start: the same key."""
    return f"ops:{alert.fingerprint}:{alert.status}:{int(alert.starts_at.timestamp())}"


def operations_intent(alert: AlertmanagerAlert, at: datetime) -> AlertIntent:
    labels, notes = alert.labels, alert.annotations
    name = labels.get("alertname", "unnamed alert")[:MAX_TEXT]
    view = OperationsView(
        status=alert.status, alertname=name, severity=labels.get("severity"),
        summary=notes.get("summary", "")[:MAX_TEXT],
        description=notes.get("description", "")[:MAX_TEXT],
        instance=labels.get("instance"), starts_at=alert.starts_at,
        ends_at=alert.ends_at if alert.status == "resolved" else None)
    return AlertIntent(key=intent_key(alert), kind=AlertKind.OPERATIONS, at=at,
                       title=view.summary or name, operations=view)


def operations_intents(message: AlertmanagerMessage, at: datetime) -> list[AlertIntent]:
    return [operations_intent(alert, at) for alert in message.alerts]
