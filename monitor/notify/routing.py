"""Intent → receivers, walking the route tree the way Alertmanager does.

At each node the children are tried in order; the first that matches is followed and the walk
stops there unless that child says `continue: true`. A node none of whose children matched
sends to its own receivers. The root is the default route.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain.alerts import AlertIntent
from monitor.notify.config import SEVERITIES, Match, NotifyConfig, Route


@dataclass(frozen=True)
class Routed:
    receivers: tuple[str, ...]  # robot ids, in route order, each once
    routes: tuple[str, ...]  # names of the routes that chose them (for silences by route)


def matches(match: Match, intent: AlertIntent) -> bool:
    if match.topic is not None and intent.topic not in match.topic:
        return False
    if match.region is not None and intent.region not in match.region:
        return False
    if match.kind is not None and intent.kind not in match.kind:
        return False
    if match.severity is not None and intent.severity not in match.severity:
        return False
    if match.severity_at_least is not None:
        if intent.severity not in SEVERITIES:
            return False
        return SEVERITIES.index(intent.severity) >= SEVERITIES.index(match.severity_at_least)
    return True


def route(config: NotifyConfig, intent: AlertIntent) -> Routed:
    receivers: list[str] = []
    names: list[str] = []
    _walk(config.route, intent, receivers, names, root=True)
    if config.summary and config.summary.receivers and intent.kind == "daily_summary":
        receivers = list(config.summary.receivers)
    return Routed(tuple(dict.fromkeys(receivers)), tuple(dict.fromkeys(names)))


def _walk(node: Route, intent: AlertIntent, receivers: list[str], names: list[str],
          root: bool = False) -> None:
    matched_child = False
    for child in node.routes:
        if not matches(child.match, intent):
            continue
        matched_child = True
        _walk(child, intent, receivers, names)
        if not child.continue_:
            break
    if not matched_child:
        receivers.extend(node.receivers)
        name = node.name or ("default" if root else None)
        if name:
            names.append(name)
