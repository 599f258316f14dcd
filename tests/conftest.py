"""Shared fixtures: a real Redis (embedded, or the server at REDIS_URL), per-test key
prefixes instead of flushing a shared server, a fake clock, and the fake feed site."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from monitor.clock import FakeClock
from monitor.config import Settings, load_settings
from monitor.logs import configure
from monitor.store.embedded import EmbeddedRedis, connect
from monitor.store.keys import Keys, delete_prefix
from tests.fakesite import FakeSite

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"real-world fixtures not present at {SHARED_DATA} (only on the project's CI)",
)



@pytest.fixture(autouse=True)
def _logging() -> None:
    """Every test starts with the same logging, whatever a CLI test configured before it."""
    configure("console", os.environ.get("MONITOR_LOG_LEVEL", "warning"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set (CI's second pass); otherwise our embedded server."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = asyncio.run(server.start())
    yield url
    asyncio.run(server.stop())


@pytest.fixture
def key_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:10]}:"


@pytest.fixture
async def redis(redis_url: str, key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = connect(redis_url)
    yield client
    await delete_prefix(client, key_prefix)
    await client.aclose()


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


@pytest.fixture
def settings(key_prefix: str, redis_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        REDIS_URL=redis_url, MONITOR_KEY_PREFIX=key_prefix, MONITOR_DATA_DIR=tmp_path,
        MONITOR_CONNECT_TIMEOUT=2, MONITOR_READ_TIMEOUT=1, MONITOR_TOTAL_TIMEOUT=2,
        MONITOR_MAX_BODY_BYTES=256 * 1024, MONITOR_JITTER=0.1,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


@pytest.fixture
async def site() -> AsyncIterator[FakeSite]:
    fake = await FakeSite().start()
    yield fake
    await fake.stop()
