"""Events that have left Redis, answered from the SQL history: an alert's link keeps working
after MONITOR_ARCHIVE_AFTER. The history engine is the one the report routes use."""

from __future__ import annotations

import asyncio

from aiohttp import web

from monitor.history.reader import ArchivedEvents
from monitor.web.reports import HISTORY_KEY


async def archived_event(app: web.Application, event_id: str) -> dict | None:
    """The event as the history keeps it, or None (no history configured, or never seen)."""
    engine = app.get(HISTORY_KEY)
    if engine is None:
        return None
    return await asyncio.to_thread(ArchivedEvents(engine).report, event_id)
