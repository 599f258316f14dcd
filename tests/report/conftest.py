"""The shipped replay sample, run once per session through the real tracker; each test saves its events
into its own keys and its own history database."""

from __future__ import annotations

import asyncio

import pytest

from monitor.domain.events import Change, Event
from monitor.history.consumer import HistoryConsumer
from monitor.history.writer import HistoryWriter
from monitor.store.embedded import connect
from monitor.store.events import EventStore
from monitor.store.keys import Keys, delete_prefix
from monitor.track.policy import default_policy
from monitor.track.replay import SAMPLE, read_items, replay
from tests.history.conftest import history, history_url  # noqa: F401 (fixtures)


@pytest.fixture(scope="session")
def sample_events(redis_url) -> list[Event]:
    async def run() -> list[Event]:
        client = connect(redis_url)
        keys = Keys("report-sample:")
        try:
            result = await replay(client, keys, default_policy(), read_items(SAMPLE))
            return result.events
        finally:
            await delete_prefix(client, keys.prefix)
            await client.aclose()

    return asyncio.run(run())


@pytest.fixture
async def sample_history(sample_events, redis, keys, history):  # noqa: F811
    """The sample's events in Redis, read into the SQL history by the consumer."""
    store = EventStore(redis, keys, 86400)
    for event in sample_events:
        await store.save(Change(event=event, expected_version=-1))
    await HistoryConsumer(redis, keys, store, HistoryWriter(history)).run_once()
    return history
