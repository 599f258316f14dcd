"""The Redis a benchmark runs against: the server at REDIS_URL, or an embedded one."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from monitor.store.embedded import EmbeddedRedis


@contextlib.asynccontextmanager
async def redis_url(data_dir: Path) -> AsyncIterator[str]:
    """REDIS_URL when set; otherwise an embedded server under `data_dir`, stopped after."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    embedded = EmbeddedRedis(data_dir)
    try:
        yield await embedded.start()
    finally:
        await embedded.stop()
