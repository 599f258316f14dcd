"""The officers' desk as `monitor run` wires it (monitor.app.build_desk), over a real socket
on the real store: a worker with two open events, a notifier on fake robots, three named
officers with real tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from monitor.app import build_desk
from monitor.metrics import Metrics
from monitor.notify import Notifier
from monitor.officers import Officers, Role, issue_token, load_officers
from monitor.track.readmodel import ReadModel
from monitor.track.worker import EventsWorker
from monitor.web.app import build_app
from tests.notify.conftest import base_config, make_notifier, robots  # noqa: F401
from tests.track.conftest import MESSAGE_AND_MAJOR_ACCIDENT, pipeline  # noqa: F401


@dataclass
class DeskWorld:
    server: TestServer
    worker: EventsWorker
    notifier: Notifier
    tokens: dict[str, str]  # role → token
    message_id: str  # the netizen message event (2 working days)
    mine_id: str  # the mine accident (重大: 5 h and 24 h)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def auth(self, role: str = "officer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def write_officers(path: Path) -> dict[str, str]:
    return {role.value: issue_token(path, name, role, create=True)
            for name, role in (("只读员王五", Role.VIEWER), ("值班员张三", Role.OFFICER),
                               ("科长李四", Role.ADMIN))}


@pytest.fixture
async def desk(pipeline, robots, make_notifier, settings, tmp_path,  # noqa: F811
               ) -> DeskWorld:
    tokens = write_officers(tmp_path / "officers.yaml")
    officers = Officers(load_officers(tmp_path / "officers.yaml"))
    notifier = make_notifier(base_config(robots))
    worker = await pipeline.worker()
    await pipeline.feed(worker, *MESSAGE_AND_MAJOR_ACCIDENT)
    ids = {e.kind.value: e.id for e in await worker.store.load_many(
        [r.decode() for r in await pipeline.redis.zrange(pipeline.keys.events_by_first_seen,
                                                         0, -1)])}
    read = ReadModel(worker.store, worker.orphans)
    app = build_app(pipeline.redis, Metrics(), read, notifier, pipeline.clock,
                    build_desk(settings, pipeline.redis, officers, worker, notifier, read,
                               pipeline.clock))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield DeskWorld(server, worker, notifier, tokens, ids["message"], ids["opinion"])
    await server.close()


@pytest.fixture
async def http() -> aiohttp.ClientSession:
    # unsafe: keep cookies for an IP address (the test server is 127.0.0.1)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session
