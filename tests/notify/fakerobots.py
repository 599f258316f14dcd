"""Fake chat robots on 127.0.0.1 that answer like the real platforms (REFERENCE.md §1).

One aiohttp server hosts any number of robots, each at its platform's path:

    POST /cgi-bin/webhook/send?key=K                      WeCom
    POST /robot/send?access_token=T[&timestamp=&sign=]    DingTalk (加签 checked)
    POST /open-apis/bot/v2/hook/T                         Feishu (body signature checked)
    POST /services/T                                      Slack
    POST /hooks/T                                         generic webhook (HMAC header checked)

Errors come back the way each platform sends them: inside a 200 body for WeCom, DingTalk and
Feishu; as HTTP statuses for Slack and the webhook. Rate limits use the robot's own clock
(the test's FakeClock) and count every authenticated request: WeCom 45009 past 20 a minute,
DingTalk 130101 past 20 a minute and then 10 minutes of 130101, Feishu 11232 past 100 a
minute or 5 a second, Slack 429 + Retry-After past 1 a second. `violations` counts requests
that went over a limit: the sender must keep it at zero. A robot set to `hang` shows the
message and then never answers (`hung` counts those requests): the sender cannot know.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from tests.localserver import LocalServer

LIMITS = {"wecom": ((60.0, 20),), "dingtalk": ((60.0, 20),), "feishu": ((60.0, 100), (1.0, 5)),
          "slack": ((1.0, 1),), "webhook": ()}


@dataclass
class Received:
    robot: str
    payload: dict
    text: str  # what an officer reads (markdown/plain text, titles included)
    at: datetime
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeRobot:
    platform: str
    token: str
    secret: str | None = None
    keyword: str | None = None
    down: bool = False  # answers 502 from the "gateway"
    removed: bool = False  # answers like a robot removed from its group
    busy: int = 0  # answer "system busy" this many more times
    hang: bool = False  # show the message, then never answer
    hung: int = 0  # requests left unanswered
    messages: list[Received] = field(default_factory=list)
    requests: list[datetime] = field(default_factory=list)  # authenticated, counted ones
    violations: int = 0
    refused: list[str] = field(default_factory=list)  # why a request was refused
    throttled_until: datetime | None = None


class FakeRobots(LocalServer):
    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.now = now or (lambda: datetime.now(UTC))
        self.robots: dict[str, FakeRobot] = {}
        self._never = asyncio.Event()  # what a hanging robot waits for

    # ---- setup

    def add(self, name: str, platform: str, *, secret: str | None = None,
            keyword: str | None = None) -> FakeRobot:
        robot = FakeRobot(platform, f"tok-{name}", secret, keyword)
        self.robots[name] = robot
        return robot

    def url(self, name: str) -> str:
        robot = self.robots[name]
        base = f"http://127.0.0.1:{self.port}"
        return {
            "wecom": f"{base}/cgi-bin/webhook/send?key={robot.token}",
            "dingtalk": f"{base}/robot/send?access_token={robot.token}",
            "feishu": f"{base}/open-apis/bot/v2/hook/{robot.token}",
            "slack": f"{base}/services/{robot.token}",
            "webhook": f"{base}/hooks/{robot.token}",
        }[robot.platform]

    def texts(self, name: str) -> list[str]:
        return [m.text for m in self.robots[name].messages]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/open-apis/bot/v2/hook/{token}", self._feishu)
        app.router.add_post("/services/{token}", self._slack)
        app.router.add_post("/hooks/{token}", self._webhook)
        return app

    # ---- shared rules

    def _find(self, platform: str, token: str | None) -> FakeRobot | None:
        for robot in self.robots.values():
            if robot.platform == platform and robot.token == token:
                return robot
        return None

    def _over_limit(self, robot: FakeRobot, now: datetime) -> bool:
        """Count this request; True if it goes over one of the platform's windows."""
        robot.requests.append(now)
        for window, limit in LIMITS[robot.platform]:
            start = now - timedelta(seconds=window)
            if sum(1 for t in robot.requests if t > start) > limit:
                robot.violations += 1
                return True
        return False

    @staticmethod
    def _name(robot: FakeRobot, robots: dict[str, FakeRobot]) -> str:
        return next(n for n, r in robots.items() if r is robot)

    async def _accept(self, robot: FakeRobot, payload: dict, text: str, request: web.Request,
                      answer: web.Response) -> web.Response:
        """Show the message, then answer (or, when hanging, keep the sender waiting)."""
        robot.messages.append(Received(self._name(robot, self.robots), payload, text,
                                       self.now(), dict(request.headers)))
        if robot.hang:
            robot.hung += 1
            await self._never.wait()  # cancelled when the client gives up or the server stops
        return answer

    @staticmethod
    def _err(body: dict) -> web.Response:
        return web.json_response(body, status=200)

    @staticmethod
    def _down() -> web.Response:
        return web.Response(status=502, text="<html>502 Bad Gateway</html>",
                            content_type="text/html")

    # ---- WeCom

    async def _wecom(self, request: web.Request) -> web.Response:
        robot = self._find("wecom", request.query.get("key"))
        if robot and robot.down:
            return self._down()
        if robot is None or robot.removed:
            return self._err({"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"})
        payload = await request.json()
        if robot.busy:
            robot.busy -= 1
            return self._err({"errcode": -1, "errmsg": "system busy"})
        if self._over_limit(robot, self.now()):
            return self._err({"errcode": 45009, "errmsg": "api freq out of limit"})
        kind = payload.get("msgtype")
        content = (payload.get(kind) or {}).get("content", "") if kind else ""
        if kind not in ("text", "markdown", "markdown_v2"):
            return self._err({"errcode": 40008, "errmsg": "invalid message type"})
        if not content:
            return self._err({"errcode": 44004, "errmsg": "empty content"})
        limit = 2048 if kind == "text" else 4096
        if len(content.encode()) > limit:
            return self._err({"errcode": 40058, "errmsg": f"content exceed max length {limit}"})
        return await self._accept(robot, payload, content, request,
                                  self._err({"errcode": 0, "errmsg": "ok"}))

    # ---- DingTalk

    async def _dingtalk(self, request: web.Request) -> web.Response:
        robot = self._find("dingtalk", request.query.get("access_token"))
        if robot and robot.down:
            return self._down()
        if robot is None or robot.removed:
            return self._err({"errcode": 300001, "errmsg": "token is not exist"})
        payload = await request.json()
        if robot.secret:
            ts, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
            if not ts.isdigit() or abs(int(ts) / 1000 - self.now().timestamp()) > 3600:
                robot.refused.append("timestamp")
                return self._err({"errcode": 310000, "errmsg": "invalid timestamp"})
            mac = hmac.new(robot.secret.encode(), f"{ts}\n{robot.secret}".encode(),
                           hashlib.sha256)
            if not hmac.compare_digest(base64.b64encode(mac.digest()).decode(), sign):
                robot.refused.append("sign")
                return self._err({"errcode": 310000, "errmsg": "sign not match"})
        now = self.now()
        if robot.throttled_until and now < robot.throttled_until:
            robot.violations += 1
            return self._err({"errcode": 130101,
                              "errmsg": "send too fast, exceed 20 times per minute"})
        if self._over_limit(robot, now):
            robot.throttled_until = now + timedelta(minutes=10)
            return self._err({"errcode": 130101,
                              "errmsg": "send too fast, exceed 20 times per minute"})
        kind = payload.get("msgtype")
        part = payload.get(kind) or {}
        text = part.get("text") or part.get("content") or ""
        shown = f"{part.get('title', '')}\n{text}"
        if robot.keyword and robot.keyword not in shown:
            robot.refused.append("keyword")
            return self._err({"errcode": 310000, "errmsg": "keywords not in content"})
        return await self._accept(robot, payload, text, request,
                                  self._err({"errcode": 0, "errmsg": "ok"}))

    # ---- Feishu

    async def _feishu(self, request: web.Request) -> web.Response:
        robot = self._find("feishu", request.match_info["token"])
        if robot and robot.down:
            return self._down()
        if robot is None or robot.removed:
            return self._err({"code": 19001, "msg": "param invalid: incoming webhook access "
                                                    "token invalid", "data": {}})
        raw = await request.read()
        if len(raw) > 20 * 1024:
            return self._err({"code": 9499, "msg": "Bad Request", "data": {}})
        payload = json.loads(raw)
        if robot.secret:
            ts = str(payload.get("timestamp", ""))
            mac = hmac.new(f"{ts}\n{robot.secret}".encode(), b"", hashlib.sha256)
            good = base64.b64encode(mac.digest()).decode()
            fresh = ts.isdigit() and abs(int(ts) - self.now().timestamp()) <= 3600
            if not fresh or not hmac.compare_digest(good, str(payload.get("sign", ""))):
                robot.refused.append("sign")
                return self._err({"code": 19021, "msg": "sign match fail or timestamp is not "
                                                        "within one hour from current time"})
        if self._over_limit(robot, self.now()):
            return self._err({"code": 11232, "msg": "frequency limited psm[lark.oapi]",
                              "data": {}})
        text = _feishu_text(payload)
        if robot.keyword and robot.keyword not in text:
            robot.refused.append("keyword")
            return self._err({"code": 19024, "msg": "Key Words Not Found"})
        return await self._accept(robot, payload, text, request, self._err(
            {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {},
             "msg": "success"}))

    # ---- Slack

    async def _slack(self, request: web.Request) -> web.Response:
        robot = self._find("slack", request.match_info["token"])
        if robot and robot.down:
            return web.Response(status=500, text="rollup_error")
        if robot is None or robot.removed:
            return web.Response(status=404, text="channel_not_found")
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if self._over_limit(robot, self.now()):
            return web.Response(status=429, text="rate_limited", headers={"Retry-After": "1"})
        if not payload.get("text"):
            return web.Response(status=400, text="no_text")
        return await self._accept(robot, payload, payload["text"], request,
                                  web.Response(status=200, text="ok"))

    # ---- generic webhook

    async def _webhook(self, request: web.Request) -> web.Response:
        robot = self._find("webhook", request.match_info["token"])
        if robot and robot.down:
            return web.Response(status=503, text="down", headers={"Retry-After": "30"})
        if robot is None or robot.removed:
            return web.Response(status=404, text="no such hook")
        raw = await request.read()
        if robot.secret:
            ts = request.headers.get("X-Yq-Timestamp", "")
            mac = hmac.new(robot.secret.encode(), f"{ts}.".encode() + raw, hashlib.sha256)
            if not hmac.compare_digest("sha256=" + mac.hexdigest(),
                                       request.headers.get("X-Yq-Signature", "")):
                robot.refused.append("sign")
                return web.Response(status=401, text="bad signature")
        payload = json.loads(raw)
        self._over_limit(robot, self.now())
        return await self._accept(robot, payload, payload.get("text", ""), request,
                                  web.json_response({"accepted": True}))


def _feishu_text(payload: dict) -> str:
    if payload.get("msg_type") == "text":
        return payload.get("content", {}).get("text", "")
    post = payload.get("content", {}).get("post", {}).get("zh_cn", {})
    parts = [post.get("title", "")]
    for paragraph in post.get("content", []):
        parts.append("".join(el.get("text", "") for el in paragraph))
    return "\n".join(parts)
