"""POST /alertmanager/webhook: Alertmanager's alerts about the service, to the robots.

The caller is a program, not an officer: it sends `Authorization: Bearer <token>` with the
token set in MONITOR_ALERTMANAGER_TOKEN (alertmanager.yml reads the same token from a file,
`http_config.authorization.credentials_file`). The officers' auth middleware leaves this path
to the handler (monitor.web.auth.MACHINE_PATHS).

Answers as Alertmanager reads them: 200 once every alert is in the outbox; 401 for a wrong
token and 400 for a message that is not a version-4 webhook (neither gets better by retrying);
503 while no token is configured here and 500 if Redis fails, which Alertmanager retries —
nothing is lost, and a retried alert is recognised by its key.
"""

from __future__ import annotations

import hmac
import json

import structlog
from aiohttp import web
from pydantic import SecretStr, ValidationError

from monitor.clock import Clock
from monitor.notify.notifier import Notifier
from monitor.notify.operations import AlertmanagerMessage, operations_intents

PATH = "/alertmanager/webhook"
TOKEN_ENV = "MONITOR_ALERTMANAGER_TOKEN"

log = structlog.get_logger("monitor.web.alertmanager")


def add_alertmanager_route(app: web.Application, notifier: Notifier, clock: Clock,
                           token: SecretStr | str | None) -> None:
    secret = token.get_secret_value() if isinstance(token, SecretStr) else (token or "")

    async def webhook(request: web.Request) -> web.Response:
        _check_token(request, secret)
        message = await _message(request)
        now = clock.now()
        for intent in operations_intents(message, now):
            await notifier.submit(intent)
        log.info("alertmanager_received", alerts=len(message.alerts), status=message.status,
                 receiver=message.receiver)
        return web.json_response({"received": len(message.alerts)})

    app.router.add_post(PATH, webhook)


def _check_token(request: web.Request, secret: str) -> None:
    if not secret:
        raise web.HTTPServiceUnavailable(
            text=f"the Alertmanager webhook is off: set {TOKEN_ENV} on the monitor and give "
                 "Alertmanager the same token (alertmanager.yml, http_config.authorization)")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(),
                                                             secret.encode()):
        log.warning("alertmanager_token_refused", client=request.remote)
        raise web.HTTPUnauthorized(
            text=f"send `Authorization: Bearer <token>` with the token in {TOKEN_ENV}")


async def _message(request: web.Request) -> AlertmanagerMessage:
    try:
        return AlertmanagerMessage.model_validate(await request.json())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="the body is not JSON: expected Alertmanager's webhook "
                                      "message (version 4)") from None
    except ValidationError as exc:
        raise web.HTTPBadRequest(text=f"not an Alertmanager webhook message (version 4): "
                                      f"{_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"
