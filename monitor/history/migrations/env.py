"""Alembic environment: runs on the connection the service hands over (monitor.history.db
.migrate), or on sqlalchemy.url when run by the alembic command line."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from monitor.history.tables import metadata

config = context.config


def run_on(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        run_on(conn)
