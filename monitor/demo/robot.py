"""A chat robot on 127.0.0.1 that answers like a WeCom group robot (POST
/cgi-bin/webhook/send?key=K, errors inside a 200 body) and prints every message it gets,
as the duty group would see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from monitor.demo.local import LocalServer
from monitor.track.workdays import CHINA_TZ

KEY = "demo"


@dataclass
class Message:
    at: datetime  # on the demo's clock
    text: str


class PrintingRobot(LocalServer):
    def __init__(self, now: Callable[[], datetime], show: Callable[[str], None] = print,
                 ) -> None:
        super().__init__()
        self._now = now
        self._show = show
        self.messages: list[Message] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={KEY}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._send)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        if request.query.get("key") != KEY:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        try:
            payload = await request.json()
        except ValueError:
            return web.json_response({"errcode": 40001, "errmsg": "invalid json"})
        kind = payload.get("msgtype")
        content = (payload.get(kind) or {}).get("content", "") if kind else ""
        if kind not in ("text", "markdown", "markdown_v2") or not content:
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        message = Message(self._now(), content)
        self.messages.append(message)
        stamp = message.at.astimezone(CHINA_TZ).strftime("%m-%d %H:%M")
        self._show(f"\n[robot {stamp}] " + content.strip().replace("\n", "\n    "))
        return web.json_response({"errcode": 0, "errmsg": "ok"})
