"""The history database: an engine for DATABASE_URL (default: an SQLite file under the data
directory) brought to the latest schema by the Alembic migrations shipped in this package."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_FILE = "history.sqlite3"


_DRIVERS = ("sqlite", "postgresql+psycopg")


def check_database_url(url: str) -> str:
    """DATABASE_URL as an operator writes it: only the databases this service ships drivers
    for, with the password kept out of the message."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise ValueError("is not a database address: write sqlite:///path/history.sqlite3 "
                         "or postgresql+psycopg://user@host:5432/db") from None
    if parsed.drivername not in _DRIVERS:
        raise ValueError(f"{parsed.drivername}:// is not supported: use sqlite:///path or "
                         "postgresql+psycopg://user@host:5432/db")
    if parsed.drivername != "sqlite" and not (parsed.host and parsed.database):
        raise ValueError("needs a host and a database, e.g. "
                         "postgresql+psycopg://user@127.0.0.1:5432/monitor")
    return url


def database_url(configured: str | None, data_dir: Path) -> str:
    """DATABASE_URL when set; otherwise the embedded SQLite file (created on first use)."""
    if configured:
        return configured
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


def create_history_engine(url: str) -> Engine:
    """An engine for the URL (for PostgreSQL, `?options=-csearch_path%3Dname` puts the tables
    in a schema of their own)."""
    kwargs: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # One writer at a time; readers (the export, the API) wait rather than fail.
        kwargs["connect_args"] = {"timeout": 30}
    try:
        engine = sa.create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"DATABASE_URL is not usable: {exc}") from exc
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL: the export reads while the consumer writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; run at every start)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot prepare the history database: {_short(exc)}") from exc


def open_history(url: str) -> Engine:
    engine = create_history_engine(url)
    migrate(engine)
    return engine


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0]
