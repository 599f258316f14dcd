"""Who is asking: one middleware for the API and the page.

An officer is known by `Authorization: Bearer <token>` (API clients) or by the page's
session cookie (HttpOnly, SameSite=Strict; mutations from the page also carry the session's
CSRF token). Reads need nobody from loopback (the default deployment is one machine);
from anywhere else they need a signed-in officer of any role. Writes check the role in the
handler (`require`)."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import quote

import structlog
from aiohttp import web

from monitor.officers import Officer, Officers, Role
from monitor.store.desk import Session, SessionStore

SESSION_COOKIE = "yq_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
LOGIN_FAILURES_ALLOWED = 5  # per client address per window (monitor.store.desk)
OPEN_PATHS = ("/healthz", "/metrics", "/login", "/api/openapi.json")
# Called by programs with their own token, which the handler checks (not an officer's):
# Alertmanager (monitor/web/alertmanager.py).
MACHINE_PATHS = ("/alertmanager/webhook",)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

OFFICER_KEY: web.RequestKey[Officer | None] = web.RequestKey("officer", object)
SESSION_KEY: web.RequestKey[Session | None] = web.RequestKey("session", object)

log = structlog.get_logger("monitor.web.auth")


@dataclass
class Auth:
    officers: Officers
    sessions: SessionStore
    secure_cookie: bool = False  # set when the public URL is https
    loopback_reads: bool = True  # reads from loopback need nobody (MONITOR_READS_NEED_SIGN_IN)


AUTH_KEY: web.AppKey[Auth] = web.AppKey("auth", Auth)


_REFUSALS: dict[int, type[web.HTTPException]] = {
    401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 429: web.HTTPTooManyRequests}


def AuthError(status: int, message: str) -> web.HTTPException:  # noqa: N802 (raised)
    """An answer in words: 401 (who are you?), 403 (you may not), 429 (slow down)."""
    return _REFUSALS[status](text=message)


@web.middleware
async def authenticate(request: web.Request, handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:  # 404/405: nothing to protect
        return await handler(request)
    if request.path in MACHINE_PATHS:
        return await handler(request)
    auth = request.app[AUTH_KEY]
    officer, session = await _identify(request, auth)
    request[OFFICER_KEY], request[SESSION_KEY] = officer, session
    if request.method in UNSAFE and session is not None and officer is not None \
            and _bearer(request) is None:
        await _check_csrf(request, session)
    if officer is None and not _open(request, auth.loopback_reads):
        if _wants_page(request):
            raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs)}")
        if request.method in UNSAFE:
            raise AuthError(401, "this action needs a signed-in officer: send "
                                 "`Authorization: Bearer <token>` (monitor officers token "
                                 "NAME issues one)")
        raise AuthError(401, "sign in: send `Authorization: Bearer <token>` (monitor "
                             "officers token NAME issues one); reads without a token are "
                             "open on loopback only")
    return await handler(request)


def require(request: web.Request, role: Role) -> Officer:
    """The officer making this request, if their role allows `role`; else 401/403."""
    officer: Officer | None = request.get(OFFICER_KEY)
    if officer is None:
        raise AuthError(401, "this action needs a signed-in officer: send `Authorization: "
                             "Bearer <token>` or sign in on the page")
    if not officer.role.allows(role):
        raise AuthError(403, f"{officer.name} is a {officer.role.value}; this action needs "
                             f"the {role.value} role")
    return officer


async def _identify(request: web.Request, auth: Auth) -> tuple[Officer | None, Session | None]:
    token = _bearer(request)
    if token is not None:
        return await _check_bearer(request, auth, token), None
    session = await auth.sessions.find(request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        return None, None
    officer = auth.officers.by_name(session.officer)
    if officer is None or officer.token_id != session.token_id:
        # Removed, or the token was rotated (perhaps because it leaked): sign in again.
        await auth.sessions.close(session.id)
        log.info("session_ended", officer=session.officer, reason="token rotated or removed")
        return None, None
    return officer, session


async def _check_bearer(request: web.Request, auth: Auth, token: str) -> Officer:
    officer = await _check_counted(request, auth, token, "token")
    if officer is None:
        raise AuthError(401, "the bearer token is not valid (unknown, rotated or "
                             "mistyped); ask an admin for a new one")
    return officer


# Per door: the log events for a throttled and a refused token, and the 429's words.
_DOORS = {
    "login": ("login_throttled", "login_failed",
              "too many failed sign-ins from this address; wait 15 minutes"),
    "token": ("token_throttled", "token_refused",
              "too many refused tokens from this address; wait 15 minutes"),
}


async def _check_counted(request: web.Request, auth: Auth, token: str,
                         door: str) -> Officer | None:
    """The token's officer, or None. Refused tokens count per client address for the login
    form and bearer tokens alike, so neither door can be used to guess; past the limit both
    answer 429. The token itself is never logged."""
    throttled, refused, too_many = _DOORS[door]
    client = request.remote or "unknown"
    if await auth.sessions.failures(client) >= LOGIN_FAILURES_ALLOWED:
        log.warning(throttled, client=client, path=request.path)
        raise AuthError(429, too_many)
    officer = auth.officers.check(token)
    if officer is None:
        failures = await auth.sessions.failed(client)
        log.warning(refused, client=client, path=request.path, failures=failures)
    return officer


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _check_csrf(request: web.Request, session: Session) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in ("application/x-www-form-urlencoded",
                                                 "multipart/form-data"):
        sent = (await request.post()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise AuthError(403, "the form's security token is missing or old; reload the page "
                             "and try again")


def _open(request: web.Request, loopback_reads: bool = True) -> bool:
    if request.path in OPEN_PATHS:
        return True
    return loopback_reads and request.method not in UNSAFE \
        and is_loopback_client(request.remote)


def is_loopback_client(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _wants_page(request: web.Request) -> bool:
    return request.method == "GET" and not request.path.startswith("/api/")


async def login(request: web.Request, token: str) -> Session | None:
    """Check a token typed into the login form; rate-limited per client address."""
    officer = await _check_counted(request, request.app[AUTH_KEY], token, "login")
    if officer is None:
        return None
    log.info("login", officer=officer.name, client=request.remote or "unknown")
    return await request.app[AUTH_KEY].sessions.open(officer.name, officer.token_id)


def set_session_cookie(response: web.StreamResponse, session: Session, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="Strict",
                        secure=secure, path="/")
