"""history tables

Revision ID: 0001
Revises:
Create Date: 2026-12-01 12:04:06.977117
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('history_actions',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('who', sa.String(length=64), nullable=False),
    sa.Column('what', sa.String(length=48), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'seq')
    )
    op.create_table('history_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('stream_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('history_deadlines',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_id', sa.String(length=255), nullable=True),
    sa.Column('seconds_to_respond', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('event_id', 'key')
    )
    with op.batch_alter_table('history_deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_history_deadlines_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_history_deadlines_start'), ['start'], unique=False)

    op.create_table('history_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=32), nullable=False),
    sa.Column('incident', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=True),
    sa.Column('region', sa.String(length=32), nullable=True),
    sa.Column('county', sa.String(length=32), nullable=True),
    sa.Column('lead_unit', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('merged_into', sa.String(length=64), nullable=True),
    sa.Column('needs_response', sa.Boolean(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('evicted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('history_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_history_events_first_seen'), ['first_seen'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_history_events_topic'), ['topic'], unique=False)

    op.create_table('history_feedback',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('who', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'seq')
    )
    op.create_table('history_items',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('published', sa.DateTime(timezone=True), nullable=False),
    sa.Column('official', sa.Boolean(), nullable=False),
    sa.Column('message', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'item_id')
    )
    op.create_table('history_responses',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('response_id', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=True),
    sa.Column('official', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('linked', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'response_id')
    )
    with op.batch_alter_table('history_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_history_responses_at'), ['at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('history_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_responses_at'))

    op.drop_table('history_responses')
    op.drop_table('history_items')
    op.drop_table('history_feedback')
    with op.batch_alter_table('history_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_events_topic'))
        batch_op.drop_index(batch_op.f('ix_history_events_first_seen'))

    op.drop_table('history_events')
    with op.batch_alter_table('history_deadlines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_deadlines_start'))
        batch_op.drop_index(batch_op.f('ix_history_deadlines_rule'))

    op.drop_table('history_deadlines')
    op.drop_table('history_cursor')
    op.drop_table('history_actions')
