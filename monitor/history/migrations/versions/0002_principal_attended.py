"""responses: whether the principal leader (主要负责同志) took part, as an officer recorded it

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('history_responses', sa.Column('principal_attended', sa.Boolean(),
                                                 nullable=True))


def downgrade() -> None:
    op.drop_column('history_responses', 'principal_attended')
