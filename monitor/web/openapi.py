"""The OpenAPI 3.1 document, made from the write routes' table and their pydantic models
(the read routes are listed by hand: they answer the same domain records)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic.json_schema import models_json_schema

from monitor.web import requests as rq
from monitor.web.write import ROUTES

REF = "#/components/schemas/{model}"

# (method, path, summary, parameters) of the read routes.
READS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("get", "/api/events", "Open events, most urgent first (?days=N: all first seen in the "
                           "last N days)", ("limit", "days")),
    ("get", "/api/events/{event_id}", "One event with its history (an event archived out "
                                      "of Redis is read from the SQL history, with "
                                      "`archived: true`)", ()),
    ("get", "/api/orphans", "Official answers waiting for their event", ("limit",)),
    ("get", "/api/outbox", "Alert deliveries: pending, failed, recent; robots; silences",
     ("limit",)),
    ("get", "/api/openapi.json", "This document", ()),
    ("get", "/healthz", "Health (Redis reachable)", ()),
    ("get", "/metrics", "Prometheus metrics", ()),
)


def _others() -> dict[str, dict[str, Any]]:
    """Routes other modules serve: the monthly report (reports.py) and Alertmanager's
    webhook (alertmanager.py, a machine caller with its own token)."""
    return {"/api/reports/monthly": {"get": _monthly_report()},
            "/alertmanager/webhook": {"post": _alertmanager()}}


def _monthly_report() -> dict[str, Any]:
    def query(name: str, schema: dict, **extra: Any) -> dict:
        return {"name": name, "in": "query", "schema": schema, **extra}

    return {
        "summary": "The month's response report from the SQL history (JSON, a workbook, one "
                   "CSV part, or its picture)",
        "parameters": [
            query("month", {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, required=True),
            query("format", {"type": "string", "enum": ["json", "xlsx", "csv", "png"]}),
            query("part", {"type": "string"}, description="for csv: rules, by-topic, "
                  "by-severity, by-region, by-lead-unit, months, events, official, "
                  "official-events")],
        "responses": {"200": {"description": "the report"}, "4XX": _error_ref()}}


def _alertmanager() -> dict[str, Any]:
    body = {"type": "object", "required": ["version", "alerts"],
            "properties": {"version": {"const": "4"}, "status": {"type": "string"},
                           "alerts": {"type": "array", "items": {"type": "object"}}}}
    return {
        "summary": "Alertmanager's webhook (version 4): each firing or resolved alert goes to "
                   "the operators' robots once",
        "description": "`Authorization: Bearer $MONITOR_ALERTMANAGER_TOKEN`; 503 while unset",
        "security": [{"bearer": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"200": {"description": "accepted"}, "4XX": _error_ref(),
                      "503": {"description": "no token set"}}}


def document() -> dict[str, Any]:
    models = {m for r in ROUTES for m in (r.body, r.answer)} | {rq.ErrorAnswer}
    _, schemas = models_json_schema([(m, "validation") for m in
                                     sorted(models, key=lambda m: m.__name__)],
                                    ref_template=REF)
    paths: dict[str, dict] = {}
    for method, path, summary, params in READS:
        paths.setdefault(path, {})[method] = _read(summary, path, params)
    for route in ROUTES:
        paths.setdefault(route.path, {})["post"] = _write(route)
    paths.update(_others())
    return {
        "openapi": "3.1.0",
        "info": {"title": "舆情回应监测 API", "version": "1",
                 "description": "Reads are open on loopback; elsewhere and for every write, "
                                "`Authorization: Bearer <token>` (monitor officers token)."},
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _read(summary: str, path: str, params: tuple[str, ...]) -> dict:
    parameters = [{"name": "event_id", "in": "path", "required": True,
                   "schema": {"type": "string"}}] if "{event_id}" in path else []
    parameters += [{"name": p, "in": "query", "schema": {"type": "integer", "minimum": 1}}
                   for p in params]
    return {"summary": summary, "parameters": parameters,
            "responses": {"200": {"description": "OK"}, "4XX": _error_ref()}}


def _write(route) -> dict:
    parameters = [{"name": "Idempotency-Key", "in": "header", "required": False,
                   "schema": {"type": "string", "maxLength": 200},
                   "description": "a retry with the same key gets the first answer"}]
    if "{event_id}" in route.path:
        parameters.insert(0, {"name": "event_id", "in": "path", "required": True,
                              "schema": {"type": "string"}})
    return {
        "operationId": route.name, "summary": route.summary,
        "description": f"Needs the {route.role.value} role.",
        "security": [{"bearer": []}], "parameters": parameters,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF.format(model=route.body.__name__)}}}},
        "responses": {
            "200": {"description": "applied", "content": {"application/json": {
                "schema": {"$ref": REF.format(model=route.answer.__name__)}}}},
            "400": _error_ref("a field is missing or wrong (`field` names it)"),
            "401": _error_ref("no token, or not a valid one"),
            "403": _error_ref("the officer's role does not allow it"),
            "404": _error_ref("no such event"),
            "409": _error_ref("the event changed since `version`; `current_version` and "
                              "`event` are the current one"),
        },
    }


def _error_ref(description: str = "error") -> dict:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": REF.format(model="ErrorAnswer")}}}}


async def serve(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_KEY])


OPENAPI_KEY: web.AppKey[dict] = web.AppKey("openapi", dict)


def add_route(app: web.Application) -> None:
    app[OPENAPI_KEY] = document()
    app.router.add_get("/api/openapi.json", serve)
