"""Small builders shared by the tests."""

from __future__ import annotations

from typing import Any

import aiohttp

from monitor.config import FeedsFile


def feeds(*sources: dict[str, Any]) -> FeedsFile:
    # The fake sites listen on 127.0.0.1, which a source may reach only when allowed.
    defaults = {"name": "测试源", "kind": "rss", "interval": 600, "allow_private": True}
    return FeedsFile.model_validate({"sources": [{**defaults, **s} for s in sources]})


PAGE_SELECTORS = {"item": "ul.list li", "title": "a", "link": "a", "date": "span"}


async def service_healthy(port: int) -> bool:
    """Whether a service on this machine answers /healthz with 200."""
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{port}/healthz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False
