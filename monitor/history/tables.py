"""The history tables (SQLAlchemy Core). One row shape for the reports, the API and the
archive; the migrations in migrations/versions create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

Stamp = DateTime(timezone=True)

events = Table(
    "history_events", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("topic", String(32), nullable=False, index=True),
    Column("incident", String(32), nullable=False),
    Column("severity", String(16)),  # the final grade
    Column("region", String(32)),
    Column("county", String(32)),
    Column("lead_unit", String(64)),
    Column("status", String(24), nullable=False),
    Column("merged_into", String(64)),
    Column("needs_response", Boolean, nullable=False),
    Column("first_seen", Stamp, nullable=False, index=True),
    Column("last_seen", Stamp, nullable=False),
    Column("closed_at", Stamp),  # when it stopped being active (None: still active)
    Column("changed_at", Stamp, nullable=False),  # its latest history entry
    Column("item_count", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("evicted_at", Stamp),  # when it left Redis (the SQL row is then the only copy)
)

items = Table(
    "history_items", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("item_id", String(255), primary_key=True),
    Column("source_id", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("link", Text),
    Column("published", Stamp, nullable=False),
    Column("official", Boolean, nullable=False),
    Column("message", Boolean, nullable=False),
)

deadlines = Table(
    "history_deadlines", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("key", String(320), primary_key=True),  # rule, or rule@message for per-message
    Column("rule", String(64), nullable=False, index=True),
    Column("label", Text, nullable=False),
    Column("subject", String(255)),
    Column("start", Stamp, nullable=False, index=True),  # when its clock started
    Column("due", Stamp),
    Column("provisional", Boolean, nullable=False),
    Column("state", String(16), nullable=False),
    Column("met_at", Stamp),
    Column("response_id", String(255)),
    Column("seconds_to_respond", Float),  # start → the response that settled it
)

responses = Table(
    "history_responses", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("response_id", String(255), primary_key=True),
    Column("at", Stamp, nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("link", Text),
    Column("title", Text, nullable=False),
    Column("source_id", String(64)),
    Column("official", Boolean, nullable=False),  # detected from an official source
    Column("recorded_by", String(64)),  # the officer, for hand-recorded responses
    Column("linked", Boolean, nullable=False),
    Column("evidence", Text, nullable=False),  # matched terms, score, note
    # 主要负责同志参加 as an officer recorded it; NULL: not recorded, read from the title
    Column("principal_attended", Boolean),
)

actions = Table(
    "history_actions", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", Stamp, nullable=False),
    Column("who", String(64), nullable=False),
    Column("what", String(48), nullable=False),
    Column("why", Text, nullable=False),
)

feedback = Table(
    "history_feedback", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),  # the action it comes from
    Column("at", Stamp, nullable=False),
    Column("who", String(64), nullable=False),
    Column("label", String(32), nullable=False),  # grouping, response_match, needs_response …
    Column("value", Text, nullable=False),
)

cursor = Table(
    "history_cursor", metadata,
    Column("name", String(32), primary_key=True),
    Column("stream_id", String(32), nullable=False),  # the last index_log entry applied
)

CHILDREN = (items, deadlines, responses, actions, feedback)
