"""The officers' desk, wired into the web app: the auth middleware's state, the write API,
the duty page and the OpenAPI document. Built by the composition root (monitor/app.py)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from monitor.web import openapi, page, write
from monitor.web.auth import AUTH_KEY, Auth


@dataclass
class DeskApp:
    auth: Auth
    desk: write.Desk
    page: page.PageDeps

    def install(self, app: web.Application) -> None:
        app[AUTH_KEY] = self.auth
        write.add_routes(app, self.desk)
        page.add_routes(app, self.page)
        openapi.add_route(app)
