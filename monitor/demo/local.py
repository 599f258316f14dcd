"""Serve an aiohttp application on 127.0.0.1 at a free port: the demo's feed site and robot,
and the tests' fake sites and robots."""

from __future__ import annotations

from aiohttp import web


class LocalServer:
    """`start()` builds `app()`, listens on 127.0.0.1 at a free port, and sets `port`."""

    def __init__(self) -> None:
        self.port = 0
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start(self):
        # Slow handlers are cancelled at shutdown instead of being waited for.
        self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
