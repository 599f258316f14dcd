"""The history database: the shipped migrations create exactly the tables the code uses,
run again harmlessly, and DATABASE_URL is checked with a message an operator understands."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from monitor.config import load_settings
from monitor.errors import ConfigError
from monitor.history.db import migrate
from monitor.history.tables import metadata

pytestmark = [pytest.mark.sql]


def test_the_migrations_match_the_tables_and_run_again_harmlessly(history):
    migrate(history)  # a second start
    with history.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


@pytest.mark.parametrize("url, message", [
    ("mysql://u@h/db", "mysql:// is not supported: use sqlite:///path or "
                       "postgresql+psycopg://user@host:5432/db"),
    ("postgresql+psycopg:///db", "needs a host and a database, e.g. "
                                 "postgresql+psycopg://user@127.0.0.1:5432/monitor"),
    ("not a url", "is not a database address: write sqlite:///path/history.sqlite3 or "
                  "postgresql+psycopg://user@host:5432/db"),
])
def test_a_bad_database_url_is_named(url, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(DATABASE_URL=url)
    assert caught.value.problems == [f"environment DATABASE_URL: {message}"]
