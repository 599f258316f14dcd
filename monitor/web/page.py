"""The duty page: server-rendered HTML (Jinja2), Chinese, working offline (no CDN, no build
step; the CSS and the countdown script are inline).

- `/`: open events, most urgent first, with live countdowns; the month's response rate per
  rule; the sources' health; the alert outbox. `?wall=1`: large type for a wall screen.
- `/events/<id>`: exactly where the alerts link: items, evidence, responses, deadlines,
  history, and a form for every action of the write API.
- `/login`, `/logout`: the page session (token in, HttpOnly cookie out)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from aiohttp import web

from monitor.clock import Clock
from monitor.domain.events import (
    DEADLINE_STATE_WORDS,
    OFFICER_VOTE,
    OWED_STATES,
    DeadlineState,
    Event,
    EventStatus,
    ItemRef,
    ResponseChannel,
)
from monitor.track.readmodel import ReadModel
from monitor.web.archived import archived_event
from monitor.web.auth import (
    AUTH_KEY,
    OFFICER_KEY,
    SESSION_COOKIE,
    SESSION_KEY,
    login,
    set_session_cookie,
)

if TYPE_CHECKING:
    from monitor.web.reports import MonthLinks

TEMPLATES = Path(__file__).with_name("templates")
SourcesHealth = Callable[[], Awaitable[list[dict]]]

STATUS_WORDS = {
    EventStatus.OPEN: "待处置", EventStatus.ACKNOWLEDGED: "已认领", EventStatus.ESCALATED: "已上报",
    EventStatus.NO_RESPONSE_NEEDED: "无需回应", EventStatus.MERGED: "已合并",
    EventStatus.CLOSED: "已关闭"}
SETTLED = (DeadlineState.MET, DeadlineState.MET_LATE, DeadlineState.MISSED)


@dataclass
class PageDeps:
    read: ReadModel
    clock: Clock
    outbox: Callable[[int], Awaitable[dict]] | None = None  # Notifier.status
    sources: SourcesHealth | None = None
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The monthly report's downloads and picture for the month of `now` (web/reports.py's
    # month_links), when the composition root serves the report.
    reports: Callable[[datetime], MonthLinks] | None = None
    secure_cookie: bool = False


PAGE_KEY: web.AppKey[PageDeps] = web.AppKey("page", PageDeps)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["local"] = _local
    env.filters["ms"] = lambda t: int(t.timestamp() * 1000) if t else 0
    env.globals.update(state_words=DEADLINE_STATE_WORDS, status_words=STATUS_WORDS,
                       duration_words=duration_words, due_class=due_class,
                       owed=OWED_STATES)
    return env


JINJA_KEY: web.AppKey[jinja2.Environment] = web.AppKey("jinja", jinja2.Environment)


def add_routes(app: web.Application, deps: PageDeps) -> None:
    app[PAGE_KEY], app[JINJA_KEY] = deps, environment()
    app.router.add_get("/", duty_list)
    app.router.add_get("/events/{event_id}", event_page)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)


def _render(request: web.Request, name: str, status: int = 200, **context: Any
            ) -> web.Response:
    deps = request.app[PAGE_KEY]
    now = deps.clock.now()
    session = request.get(SESSION_KEY)
    html = request.app[JINJA_KEY].get_template(name).render(
        now=now, officer=request.get(OFFICER_KEY), csrf=session.csrf if session else "",
        wall=request.query.get("wall") == "1", **context)
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store",
                                 "Content-Security-Policy": "default-src 'self'; "
                                 "style-src 'unsafe-inline'; script-src 'unsafe-inline'"})


WAITING_LISTED = 20  # official items waiting for their event, on the duty page


async def duty_list(request: web.Request) -> web.Response:
    deps = request.app[PAGE_KEY]
    now = deps.clock.now()
    rows = await deps.read.open_by_time_left(now, limit=500)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month = await deps.read.in_range(month_start, now)
    return _render(request, "list.html", rows=rows, rates=response_rates(month),
                   waiting=await deps.read.waiting_answers(WAITING_LISTED),
                   month=month_start, sources=await deps.sources() if deps.sources else None,
                   outbox=await deps.outbox(20) if deps.outbox else None,
                   reports=deps.reports(now) if deps.reports else None)


async def event_page(request: web.Request) -> web.Response:
    deps = request.app[PAGE_KEY]
    event = await deps.read.event(request.match_info["event_id"])
    if event is None:
        if archived := await archived_event(request.app, request.match_info["event_id"]):
            return _render(request, "archived.html", event=archived)
        return _render(request, "missing.html", status=404,
                       event_id=request.match_info["event_id"])
    items = await deps.read.items_of(event)
    return _render(request, "event.html", event=event, items=items,
                   evidence=evidence(event, items),
                   channels=list(ResponseChannel), labels=deps.labels,
                   waiting=await deps.read.waiting_answers(50),
                   error=request.query.get("error"), done=request.query.get("done") == "1",
                   history=sorted(event.history, key=lambda h: h.at, reverse=True))


async def login_form(request: web.Request) -> web.Response:
    return _render(request, "login.html", next=_safe_next(request.query.get("next")),
                   failed=False)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token, target = str(form.get("token", "")), _safe_next(str(form.get("next", "")))
    session = await login(request, token)
    if session is None:
        return _render(request, "login.html", status=401, next=target, failed=True)
    response = web.HTTPSeeOther(target)
    set_session_cookie(response, session, request.app[AUTH_KEY].secure_cookie)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    session = request.get(SESSION_KEY)
    if session is not None:
        await request.app[AUTH_KEY].sessions.close(session.id)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): the login cannot send elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return "/"


def response_rates(events: list[Event]) -> list[dict]:
    """Per rule: deadlines settled this month, met in time, late, missed, still running."""
    counts: dict[str, Counter] = {}
    labels: dict[str, str] = {}
    for event in events:
        for deadline in event.deadlines:
            counts.setdefault(deadline.rule, Counter())[deadline.state] += 1
            labels[deadline.rule] = deadline.label
    rows = []
    for rule, c in sorted(counts.items()):
        settled = sum(c[s] for s in SETTLED)
        rows.append({"rule": rule, "label": labels[rule], "met": c[DeadlineState.MET],
                     "late": c[DeadlineState.MET_LATE], "missed": c[DeadlineState.MISSED],
                     "running": c[DeadlineState.PENDING] + c[DeadlineState.DUE_SOON],
                     "rate": c[DeadlineState.MET] / settled if settled else None})
    return rows


def evidence(event: Event, items: list[ItemRef]) -> dict:
    """Why the machine said what it said, for the officer to check."""
    def top(votes: dict[str, float]) -> list[tuple[str, float | None]]:
        """Each label's share of the items' summed probabilities (None: an officer's
        correction, which outweighs any sum)."""
        machine = sum(v for v in votes.values() if v < OFFICER_VOTE)
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])[:4]
        return [(label, None if v >= OFFICER_VOTE else v / machine if machine else 0.0)
                for label, v in ranked]

    source = next((i for i in items if i.id == event.severity_source), None)
    return {"topic": top(event.topic_votes), "incident": top(event.incident_votes),
            "severity": event.severity_evidence, "severity_source": source,
            "severity_by": event.severity_source if source is None else None,
            "places": event.places[:12], "counties": event.counties}


def _local(value: datetime | str | None, fmt: str = "%m月%d日 %H:%M") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):  # an archived event's times, as the history API gives them
        value = datetime.fromisoformat(value)
    from monitor.collect.normalize import CHINA_TZ

    return value.astimezone(CHINA_TZ).strftime(fmt)


def duration_words(seconds: float) -> str:
    """The server-side text of a countdown (the script refreshes it every second)."""
    left = abs(int(seconds))
    days, rest = divmod(left, 86400)
    text = f"{days}天{rest // 3600}小时" if days else \
        f"{rest // 3600}小时{rest % 3600 // 60}分" if rest >= 3600 else f"{rest // 60}分"
    return f"已超时 {text}" if seconds < 0 else f"剩余 {text}"


def due_class(seconds: float, state: DeadlineState | None = None) -> str:
    if seconds < 0 or state is DeadlineState.MISSED:
        return "overdue"
    return "soon" if seconds < 2 * 3600 or state is DeadlineState.DUE_SOON else "ok"
