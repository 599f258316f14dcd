"""The write API: one table of routes (path, request model, role, action), from which the
aiohttp routes and the OpenAPI document are both made.

Each call: the officer's role is checked; a retry with the same `Idempotency-Key` gets the
first answer again; the body is validated (400 naming the field); the action runs as one
atomic save that checks the version the officer saw (409 with the current event). A form
post from the page gets a redirect back to the page instead of JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import web
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError

from monitor.clock import Clock
from monitor.domain.events import Event
from monitor.officers import Officer, Role
from monitor.store.desk import IdempotencyStore
from monitor.track.actions import ActionError, Actions, VersionConflict
from monitor.web import requests as rq
from monitor.web.auth import CSRF_FIELD, require

log = structlog.get_logger("monitor.web.write")
CHINA_OFFSET = "+08:00"  # a form's datetime-local has no offset: the officers' time


@dataclass
class Desk:
    actions: Actions
    clock: Clock
    idempotency: IdempotencyStore
    silencer: Any | None = None  # monitor.notify.Notifier
    labels: dict[str, tuple[str, ...]] | None = None  # allowed topic/incident/severity


DESK_KEY: web.AppKey[Desk] = web.AppKey("desk", Desk)


@dataclass(frozen=True)
class Call:
    event_id: str
    officer: Officer
    now: datetime
    body: Any
    idempotency_key: str | None


Run = Callable[[Desk, Call], Awaitable[dict]]


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    body: type[BaseModel]
    answer: type[BaseModel]
    role: Role
    summary: str
    run: Run


def _event(event: Event) -> dict:
    return {"event": event.model_dump(mode="json")}


def _status_change(action: str, words: str) -> Callable[[Desk, Call], Awaitable[dict]]:
    """The actions that change an event's status with the officer's words: one shape."""
    async def handler(d: Desk, c: Call) -> dict:
        act = getattr(d.actions, action)
        return _event(await act(c.event_id, c.officer.name, c.now, getattr(c.body, words),
                                expected=c.body.version))
    return handler


_acknowledge = _status_change("acknowledge", "note")
_escalate = _status_change("escalate", "reason")
_no_response = _status_change("no_response_needed", "reason")
_close = _status_change("close", "reason")
_reopen = _status_change("reopen", "reason")


async def _record(d: Desk, c: Call) -> dict:
    b: rq.RecordResponse = c.body
    note = f"{b.publisher}：{b.text}" if b.publisher else b.text
    # The same key names the same response, so even a retry racing the first call adds one.
    response_id = "r-manual-" + hashlib.sha256(
        f"{c.officer.name}:{c.idempotency_key}".encode()).hexdigest()[:10] \
        if c.idempotency_key else None
    return _event(await d.actions.record_response(
        c.event_id, c.officer.name, c.now, b.at, b.channel, b.link, note,
        expected=b.version, response_id=response_id, principal_attended=b.principal_attended))


async def _link(d: Desk, c: Call) -> dict:
    b: rq.LinkResponse = c.body
    if b.item_id:
        return _event(await d.actions.link_item(c.event_id, b.item_id, b.channel,
                                                c.officer.name, c.now, b.reason,
                                                expected=b.version))
    if b.response_id:
        return _event(await d.actions.set_response_link(c.event_id, b.response_id, True,
                                                        c.officer.name, c.now, b.reason,
                                                        expected=b.version))
    raise FieldError("item_id", "name the item (item_id) or the response (response_id) "
                                "to count as a response")


async def _unlink(d: Desk, c: Call) -> dict:
    b: rq.UnlinkResponse = c.body
    return _event(await d.actions.set_response_link(c.event_id, b.response_id, False,
                                                    c.officer.name, c.now, b.reason,
                                                    expected=b.version))


async def _merge(d: Desk, c: Call) -> dict:
    return _event(await d.actions.merge(c.event_id, c.body.into, c.officer.name, c.now,
                                        c.body.reason, expected=c.body.version))


async def _split(d: Desk, c: Call) -> dict:
    return _event(await d.actions.split(c.event_id, c.body.item_ids, c.officer.name, c.now,
                                        c.body.reason, expected=c.body.version))


async def _correct(d: Desk, c: Call) -> dict:
    b: rq.Correct = c.body
    value = b.value or None
    allowed = (d.labels or {}).get(b.field)
    if allowed and value is not None and value not in allowed:
        raise FieldError("value", f"{value!r} is not a {b.field}; one of: "
                                  f"{'、'.join(allowed)}")
    if value is None and b.field in ("topic", "incident"):
        raise FieldError("value", f"a {b.field} cannot be empty")
    # The labelled feedback is saved with the event (monitor.track.actions.correct).
    event, _, _ = await d.actions.correct(c.event_id, b.field, value, c.officer.name, c.now,
                                          b.reason, b.item_id, expected=b.version)
    return _event(event)


async def _silence(d: Desk, c: Call) -> dict:
    b: rq.Silence = c.body
    if b.scope != "event" and not c.officer.role.allows(Role.ADMIN):
        raise web.HTTPForbidden(text=f"{c.officer.name} is a {c.officer.role.value}; "
                                     f"silencing a whole {b.scope} needs the admin role")
    if d.silencer is None:
        raise web.HTTPServiceUnavailable(text="alerting is not configured here")
    target = {"event": "event_id", "topic": "topic", "region": "region"}[b.scope]
    silence = await d.silencer.silence(reason=b.reason, duration=b.hours * 3600,
                                       by=c.officer.name, **{target: b.value})
    return rq.SilenceAnswer(id=silence.id, scope=b.scope, value=b.value, until=silence.until,
                            by=c.officer.name, reason=b.reason).model_dump(mode="json")


_E = "/api/events/{event_id}"
ROUTES: tuple[Route, ...] = (
    Route("acknowledge", f"{_E}/acknowledge", rq.Acknowledge, rq.EventAnswer, Role.OFFICER,
          "Acknowledge: an officer has it in hand; reminders stop", _acknowledge),
    Route("escalate", f"{_E}/escalate", rq.Escalate, rq.EventAnswer, Role.OFFICER,
          "Escalate to the leadership", _escalate),
    Route("record_response", f"{_E}/responses", rq.RecordResponse, rq.EventAnswer,
          Role.OFFICER, "Record a response the service could not see", _record),
    Route("link_response", f"{_E}/responses/link", rq.LinkResponse, rq.EventAnswer,
          Role.OFFICER, "Count an item of the event (or an unlinked response) as a response",
          _link),
    Route("unlink_response", f"{_E}/responses/unlink", rq.UnlinkResponse, rq.EventAnswer,
          Role.OFFICER, "A detected response is not one: stop counting it", _unlink),
    Route("no_response_needed", f"{_E}/no-response-needed", rq.NoResponseNeeded,
          rq.EventAnswer, Role.OFFICER, "Mark as needing no response (deadlines waived)",
          _no_response),
    Route("close", f"{_E}/close", rq.Close, rq.EventAnswer, Role.OFFICER, "Close", _close),
    Route("reopen", f"{_E}/reopen", rq.Reopen, rq.EventAnswer, Role.OFFICER,
          "Re-open: clocks and reminders run again", _reopen),
    Route("merge", f"{_E}/merge", rq.Merge, rq.EventAnswer, Role.OFFICER,
          "Merge with another event (both saved in one step)", _merge),
    Route("split", f"{_E}/split", rq.Split, rq.EventAnswer, Role.OFFICER,
          "Split items off into a new event (both saved in one step); answers the new one",
          _split),
    Route("correct", f"{_E}/correct", rq.Correct, rq.EventAnswer, Role.OFFICER,
          "Correct topic, incident, severity or region; kept as labelled feedback",
          _correct),
    Route("silence", "/api/silences", rq.Silence, rq.SilenceAnswer, Role.OFFICER,
          "Silence alerts for an event (officer), a topic or a region (admin)", _silence),
)


class FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def add_routes(app: web.Application, desk: Desk) -> None:
    app[DESK_KEY] = desk
    for route in ROUTES:
        app.router.add_post(route.path, _handler(route), name=route.name)


def _handler(route: Route):
    async def handle(request: web.Request) -> web.StreamResponse:
        officer = require(request, route.role)
        desk = request.app[DESK_KEY]
        key = request.headers.get("Idempotency-Key")
        if key is not None and (len(key) > 200 or not key.strip()):
            return _answer(request, 400, error_body(400, "Idempotency-Key must be 1 to 200 "
                                                         "characters", field="Idempotency-Key"))
        if key and (stored := await desk.idempotency.answer(officer.name, key)):
            return _answer(request, *stored)
        status, body = await _run(request, route, desk, officer, key)
        if key and status < 400:
            await desk.idempotency.remember(officer.name, key, status, body)
        return _answer(request, status, body)

    handle.__doc__ = route.summary
    return handle


async def _run(request: web.Request, route: Route, desk: Desk, officer: Officer,
               key: str | None) -> tuple[int, dict]:
    try:
        body = route.body.model_validate(await _fields(request))
        call = Call(request.match_info.get("event_id", ""), officer, desk.clock.now(), body,
                    key)
        answer = await route.run(desk, call)
    except ValidationError as exc:
        return 400, _validation_body(exc)
    except FieldError as exc:
        return 400, error_body(400, str(exc), field=exc.field)
    except VersionConflict as exc:
        return 409, error_body(409, str(exc), current_version=exc.current.version,
                               event=exc.current.model_dump(mode="json"))
    except ActionError as exc:
        status = 404 if str(exc).startswith("no event") else 400
        return status, error_body(status, str(exc))
    log.info("officer_action", action=route.name, officer=officer.name,
             event_id=request.match_info.get("event_id"))
    return 200, answer


async def _fields(request: web.Request) -> dict:
    if _is_form(request):
        return _form_fields(await request.post())
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FieldError("body", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise FieldError("body", "the body must be a JSON object")
    return data


def _form_fields(form: MultiDictProxy) -> dict:
    """Form fields as the models expect them: lists for repeated names, the officers'
    offset for a datetime-local, empty optional fields left out."""
    fields: dict[str, Any] = {}
    for name in set(form.keys()) - {CSRF_FIELD, "back"}:
        values = [v for v in form.getall(name) if isinstance(v, str)]
        if name == "item_ids":
            fields[name] = [v for v in values if v]
        elif values and values[0] != "":
            fields[name] = values[0]
    if isinstance(fields.get("at"), str) and len(fields["at"]) <= 19:
        fields["at"] = fields["at"] + (":00" if len(fields["at"]) == 16 else "") + CHINA_OFFSET
    return fields


def _is_form(request: web.Request) -> bool:
    return request.content_type in ("application/x-www-form-urlencoded",
                                    "multipart/form-data")


def _validation_body(exc: ValidationError) -> dict:
    problems = [{"field": ".".join(str(p) for p in e["loc"]) or "body",
                 "message": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]
    first = problems[0]
    return error_body(400, f"{first['field']}: {first['message']}", field=first["field"],
                      problems=problems)


def error_body(status: int, message: str, **extra: Any) -> dict:
    return {"status": status, "error": HTTPStatus(status).phrase, "message": message, **extra}


def _answer(request: web.Request, status: int, body: dict) -> web.StreamResponse:
    if _is_form(request):  # the page: back to where the officer was, with what happened
        return _back(request, status, body)
    return web.json_response(body, status=status,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _back(request: web.Request, status: int, body: dict) -> web.StreamResponse:
    event_id = request.match_info.get("event_id")
    if status < 400 and "event" in body:
        event_id = body["event"]["id"]  # a merge or split shows the event that remains
    path = f"/events/{quote(event_id, safe='')}" if event_id else "/"
    if status >= 400:
        path += f"?error={quote(body.get('message', ''))}"
    else:
        path += "?done=1"
    raise web.HTTPSeeOther(path)
