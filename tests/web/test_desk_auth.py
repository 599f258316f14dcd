"""Sign-in and the page session (HttpOnly SameSite cookie, CSRF on every form), throttled
failed logins, reads beyond loopback, the start-up refusal, the OpenAPI document, and
check-config's warning about loopback links."""

from __future__ import annotations

import os
import re
import time

import jsonschema
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from openapi_spec_validator import validate

from monitor.cli import loopback_links_warning
from monitor.config import load_settings
from monitor.errors import ConfigError
from monitor.officers import Officers, OfficersFile, Role, issue_token, load_officers
from monitor.web.auth import AUTH_KEY, _open
from monitor.web.write import ROUTES
from tests.web.conftest import write_officers

pytestmark = pytest.mark.redis


async def login(http, desk, token: str):
    async with http.post(desk.url("/login"), data={"token": token, "next": "/events/x"},
                         allow_redirects=False) as response:
        return response.status, response.headers, await response.text()


async def test_the_page_session_carries_a_csrf_token_on_every_form(desk, http):
    status, headers, _ = await login(http, desk, desk.tokens["officer"])
    assert status == 303 and headers["Location"] == "/events/x"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    async with http.get(desk.url(f"/events/{desk.mine_id}")) as response:
        page = await response.text()
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page, re.S)
    assert len(forms) >= 10  # logout and every action the event allows
    csrf = set(re.findall(r'name="csrf" value="([^"]+)"', page))
    assert len(csrf) == 1 and all('name="csrf"' in f for f in forms)
    version = (await desk.worker.store.load(desk.mine_id)).version
    path = desk.url(f"/api/events/{desk.mine_id}/acknowledge")
    async with http.post(path, data={"version": version}, allow_redirects=False) as response:
        assert response.status == 403 and "security token" in await response.text()
    async with http.post(path, data={"version": version, "csrf": csrf.pop(), "note": "我来"},
                         allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == f"/events/{desk.mine_id}?done=1"
    event = await desk.worker.store.load(desk.mine_id)
    assert (event.history[-1].who, event.history[-1].what) == ("值班员张三", "acknowledged")


async def test_a_form_error_comes_back_to_the_page_in_words(desk, http):
    await login(http, desk, desk.tokens["officer"])
    async with http.get(desk.url(f"/events/{desk.mine_id}")) as response:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text()).group(1)
    async with http.post(desk.url(f"/api/events/{desk.mine_id}/escalate"),
                         data={"version": 0, "csrf": csrf, "reason": "x"}) as response:
        page = await response.text()
    assert response.url.path == f"/events/{desk.mine_id}"
    assert "操作未完成" in page and "changed meanwhile" in page


async def test_failed_logins_are_refused_then_throttled_and_never_logged(desk, http, caplog):
    for _ in range(5):
        status, _, page = await login(http, desk, "abcdef012345.guess")
        assert status == 401 and "令牌不正确" in page
    status, _, page = await login(http, desk, desk.tokens["officer"])
    assert status == 429 and "15 minutes" in page
    assert "guess" not in caplog.text


async def test_refused_bearer_tokens_are_throttled_like_the_login_form(desk, http, caplog):
    for _ in range(5):
        async with http.get(desk.url("/api/events"),
                            headers={"Authorization": "Bearer abcdef012345.guess"}) as response:
            assert response.status == 401
    async with http.get(desk.url("/api/events"), headers=desk.auth()) as response:
        assert response.status == 429 and "15 minutes" in await response.text()
    assert "guess" not in caplog.text


async def test_rotating_a_token_ends_the_sessions_signed_in_with_the_old_one(desk, http,
                                                                          tmp_path):
    path = tmp_path / "officers.yaml"  # the file the desk fixture wrote
    desk.server.app[AUTH_KEY].officers = Officers.from_path(path)
    await login(http, desk, desk.tokens["officer"])
    async with http.get(desk.url(f"/events/{desk.mine_id}")) as response:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text()).group(1)
    issue_token(path, "值班员张三")  # rotated, say because the old one leaked
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1))
    version = (await desk.worker.store.load(desk.mine_id)).version
    async with http.post(desk.url(f"/api/events/{desk.mine_id}/acknowledge"),
                         data={"version": version, "csrf": csrf},
                         allow_redirects=False) as response:
        assert response.status == 401
    assert (await desk.worker.store.load(desk.mine_id)).version == version


async def test_reads_beyond_loopback_need_a_signed_in_officer():
    outside = make_mocked_request("GET", "/api/events",
                                  transport=_Transport(("10.2.3.4", 5555)))
    inside = make_mocked_request("GET", "/api/events",
                                 transport=_Transport(("127.0.0.1", 5555)))
    assert not _open(outside) and _open(inside)
    assert _open(make_mocked_request("GET", "/healthz", transport=_Transport(("10.2.3.4", 1))))
    assert not _open(make_mocked_request("POST", "/api/silences",
                                         transport=_Transport(("127.0.0.1", 1))))
    assert not _open(inside, loopback_reads=False)  # MONITOR_READS_NEED_SIGN_IN


async def test_a_page_read_without_an_officer_from_elsewhere_goes_to_the_login(desk, http):
    # Over the socket every client is loopback; a bad bearer token is refused even there.
    async with http.get(desk.url("/api/events"),
                        headers={"Authorization": "Bearer nope.nope"}) as response:
        assert response.status == 401


class _Transport:
    def __init__(self, peer):
        self._peer = peer

    def get_extra_info(self, name, default=None):
        return self._peer if name == "peername" else default

    def is_closing(self):
        return False


def test_a_non_loopback_bind_without_officers_is_refused(tmp_path):
    from monitor.app import refuse_open_bind

    settings = load_settings(MONITOR_HTTP_HOST="0.0.0.0",
                             MONITOR_OFFICERS=tmp_path / "officers.yaml")
    with pytest.raises(ConfigError, match="names no officer: add one with"):
        refuse_open_bind(settings, Officers(OfficersFile()))
    write_officers(tmp_path / "officers.yaml")
    refuse_open_bind(settings, Officers(load_officers(tmp_path / "officers.yaml")))
    refuse_open_bind(load_settings(MONITOR_HTTP_HOST="127.0.0.1"), Officers(OfficersFile()))


def test_a_rotated_token_replaces_the_old_one(tmp_path):
    path = tmp_path / "officers.yaml"
    first = issue_token(path, "值班员张三", Role.OFFICER, create=True)
    second = issue_token(path, "值班员张三")
    officers = Officers(load_officers(path))
    assert officers.check(first) is None
    assert officers.check(second).name == "值班员张三"
    assert first.split(".")[1] not in path.read_text() and "scrypt$" in path.read_text()
    with pytest.raises(ConfigError, match="exists"):
        issue_token(path, "值班员张三", create=True)


def test_the_public_url_defaults_from_the_listen_address():
    assert load_settings(MONITOR_HTTP_PORT=9090).public_url == "http://127.0.0.1:9090"
    assert load_settings(MONITOR_PUBLIC_URL="https://yq.gov.cn/").public_url == \
        "https://yq.gov.cn"


def test_check_config_warns_when_links_point_at_loopback():
    local = load_settings(MONITOR_HTTP_PORT=9090)
    assert "only this machine" in loopback_links_warning(local, configured_robots=2)
    assert loopback_links_warning(local, configured_robots=0) is None
    public = load_settings(MONITOR_PUBLIC_URL="https://yq.gov.cn")
    assert loopback_links_warning(public, configured_robots=2) is None


async def test_the_openapi_document_covers_every_route_and_its_models(desk, http):
    async with http.get(desk.url("/api/openapi.json")) as response:
        doc = await response.json()
    schemas = doc["components"]["schemas"]
    for route in ROUTES:
        operation = doc["paths"][route.path]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[1] == route.body.__name__
        assert set(route.body.model_fields) <= set(schemas[route.body.__name__]["properties"])
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', str(doc).replace("'", '"')))
    assert refs <= set(schemas), refs - set(schemas)
    router_paths = {r.resource.canonical for r in desk.server.app.router.routes()
                    if r.method == "POST" and r.resource.canonical.startswith("/api/")}
    assert router_paths == {r.path for r in ROUTES}
    validate(doc)  # valid OpenAPI 3.1
    body = {"version": 3, "channel": "微博/微信", "at": "2026-11-16T12:00:00+08:00",
            "text": "通报", "link": "https://weibo.com/1"}
    schema = {"$ref": "#/components/schemas/RecordResponse", **doc}
    jsonschema.validate(body, schema)  # what the models accept, the document accepts
    with pytest.raises(jsonschema.ValidationError, match="'电报' is not one of"):
        jsonschema.validate({**body, "channel": "电报"}, schema)


def test_the_officers_command_issues_and_rotates_tokens(tmp_path, capsys):
    from monitor.cli import main

    path = tmp_path / "officers.yaml"
    assert main(["officers", "--file", str(path), "add", "科长李四", "--role", "admin"]) == 0
    first = capsys.readouterr().out.splitlines()[1]
    assert main(["officers", "--file", str(path), "token", "科长李四"]) == 0
    second = capsys.readouterr().out.splitlines()[1]
    officers = Officers(load_officers(path))
    assert officers.check(first) is None and officers.check(second).role is Role.ADMIN
    assert main(["officers", "--file", str(path), "list"]) == 0
    assert "科长李四\tadmin" in capsys.readouterr().out
    assert main(["officers", "--file", str(path), "token", "无此人"]) == 2


async def test_the_list_in_wall_mode_and_a_missing_event(desk, http):
    async with http.get(desk.url("/?wall=1")) as response:
        page = await response.text()
    assert response.status == 200 and '<body class="wall">' in page
    rows = re.findall(r'data-event="([^"]+)"', page)
    assert rows == [desk.mine_id, desk.message_id]  # the 5-hour deadline before 2 working days
    assert f'href="/events/{desk.mine_id}?wall=1"' in page
    async with http.get(desk.url("/events/ev-nope")) as response:
        assert response.status == 404 and "未找到事件" in await response.text()


async def test_the_page_names_failing_silent_quiet_and_decode_suspect_sources(redis, keys):
    from monitor.app import sources_health
    from monitor.clock import FakeClock
    from monitor.config import FeedsFile
    from monitor.store.sources import SourceState, SourceStore

    feeds = FeedsFile.model_validate({"sources": [
        {"id": f"s{n}", "name": f"站点{n}", "kind": "rss", "url": f"http://example.cn/{n}",
         "interval": "10m"} for n in range(5)]})
    clock = FakeClock()
    now, day = clock.now().timestamp(), 86400
    store = SourceStore(redis, keys)
    states = {"s0": SourceState(last_poll=now, last_success=now, items_total=3,
                                first_success=now - 9 * day, last_new_item_at=now - 600),
              "s1": SourceState(last_poll=now, last_success=now - 60, failures=1,
                                last_error="HTTP 500"),
              "s2": SourceState(last_poll=now, last_success=now - 3600, failures=6,
                                last_error="timed out"),
              "s3": SourceState(last_poll=now, failures=1, last_error_reason="decode_suspect"),
              "s4": SourceState(last_poll=now, last_success=now, items_total=30,
                                first_success=now - 30 * day, last_new_item_at=now - 9 * day)}
    for source_id, state in states.items():
        await redis.hset(keys.source_state(source_id), mapping=state.to_hash())
    rows = await sources_health(feeds, store, clock)()
    assert {r["id"]: r["state"] for r in rows} == {
        "s0": "ok", "s1": "failing", "s2": "silent", "s3": "decode_suspect", "s4": "quiet"}
    assert next(r for r in rows if r["id"] == "s1")["detail"] == "HTTP 500"
    assert next(r for r in rows if r["id"] == "s4")["last_new_item"].timestamp() == \
        now - 9 * day


async def test_unknown_paths_and_methods_stay_404_and_405(desk, http):
    async with http.post(desk.url("/api/nope")) as response:
        assert response.status == 404
    async with http.delete(desk.url("/api/events")) as response:
        assert response.status == 405


def test_monitor_run_refuses_a_public_bind_without_officers(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from monitor.cli import main

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("MONITOR_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("MONITOR_OFFICERS", str(tmp_path / "officers.yaml"))
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MONITOR_TRACKING", str(root / "tracking.yaml"))
    assert main(["run", "--feeds", str(root / "feeds.yaml")]) == 2
    assert "names no officer: add one with `monitor officers add" in capsys.readouterr().err


async def test_the_list_links_the_months_report_and_shows_its_picture(desk, http):
    # the test clock is 2026-11-16 (Beijing): this month and the one before
    async with http.get(desk.url("/")) as response:
        page = await response.text()
    assert 'href="/api/reports/monthly?month=2026-11&amp;format=xlsx"' in page
    assert 'href="/api/reports/monthly?month=2026-10&amp;format=xlsx"' in page
    assert 'src="/api/reports/monthly?month=2026-11&amp;format=png"' in page


def test_officers_follow_their_file_without_a_restart(tmp_path):
    path = tmp_path / "officers.yaml"
    first = issue_token(path, "值班员张三", Role.OFFICER, create=True)
    officers = Officers.from_path(path)
    assert officers.check(first).name == "值班员张三"
    rotated = issue_token(path, "值班员张三")  # an admin rotates the token meanwhile
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1))  # even within one mtime tick
    assert officers.check(first) is None and officers.check(rotated).name == "值班员张三"
    added = issue_token(path, "科长李四", Role.ADMIN, create=True)
    assert officers.check(added).role is Role.ADMIN and len(officers) == 2
    path.write_text("officers: [{name: 坏}]\n", encoding="utf-8")  # broken meanwhile
    assert officers.check(rotated).name == "值班员张三"  # the last good file stays in force


async def test_the_openapi_document_lists_every_route_the_service_serves(desk):
    """The app as the composition root assembles it: the desk's routes, the monthly report's
    and Alertmanager's webhook — each path and method is in the document."""
    from monitor.web.alertmanager import add_alertmanager_route
    from monitor.web.openapi import document
    from monitor.web.reports import add_report_routes

    others = web.Application()
    add_report_routes(others, sa.create_engine("sqlite://"))
    add_alertmanager_route(others, desk.notifier, None, None)
    routes = [*desk.server.app.router.routes(), *others.router.routes()]
    served = {(r.method.lower(), r.resource.canonical) for r in routes
              if r.method in ("GET", "POST") and r.resource is not None
              and (r.resource.canonical.startswith(("/api/", "/alertmanager/"))
                   or r.resource.canonical in ("/healthz", "/metrics"))}
    assert ("get", "/api/reports/monthly") in served and ("post", "/alertmanager/webhook") in served
    paths = document()["paths"]
    assert {(m, p) for m, p in served if m not in paths.get(p, {})} == set()
