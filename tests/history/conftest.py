"""The SQL history under test: an SQLite file per test, or — in CI's second pass, with
DATABASE_URL set to the PostgreSQL server — a schema of its own per test, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from monitor.domain.events import (
    Change,
    Deadline,
    DeadlineState,
    Event,
    EventStatus,
    HistoryEntry,
    Response,
    ResponseChannel,
)
from monitor.history.db import open_history
from monitor.track.workdays import CHINA_TZ


@pytest.fixture
def history_url(tmp_path) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'history.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def history(history_url):
    engine = open_history(history_url)
    yield engine
    engine.dispose()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def make_event(event_id: str, first_seen: datetime, *, topic: str = "生态环境",
               state: DeadlineState = DeadlineState.MET, answered_after: float | None = 3.0,
               status: EventStatus = EventStatus.OPEN, version: int = 1,
               channel: ResponseChannel = ResponseChannel.OTHER) -> Event:
    """An event with one 48 h deadline, answered `answered_after` hours after first seen."""
    responses, met_at = [], None
    if answered_after is not None:
        met_at = first_seen + timedelta(hours=answered_after)
        responses = [Response(id=f"r-{event_id}", at=met_at, channel=channel,
                              title=f"关于{event_id}的情况通报", source_id="gov",
                              link=f"https://gov.example/{event_id}")]
    history = [HistoryEntry(at=first_seen, who="worker:w1", what="opened")]
    if status is EventStatus.CLOSED:
        history.append(HistoryEntry(at=first_seen + timedelta(days=3), who="值班员张三",
                                    what="closed"))
    return Event(id=event_id, title=f"事件{event_id}", topic=topic, incident="无",
                 region="大理白族自治州", first_seen=first_seen, last_seen=first_seen,
                 needs_response=True, status=status, version=version,
                 deadlines=[Deadline(rule="response_48h", label="48小时内予以回应",
                                     due=first_seen + timedelta(hours=48), state=state,
                                     met_at=met_at,
                                     response_id=responses[0].id if responses else None)],
                 responses=responses, history=history)


def new(event: Event) -> Change:
    return Change(event=event, expected_version=-1)


def changed(event: Event, **update) -> Change:
    return Change(event=event.model_copy(update={**update, "version": event.version + 1}),
                  expected_version=event.version)
