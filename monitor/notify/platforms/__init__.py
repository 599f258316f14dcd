"""One module per chat platform: build and sign a request, classify the answer."""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

import aiohttp

from monitor.clock import Clock
from monitor.notify.config import Platform, Target
from monitor.notify.platforms import dingtalk, feishu, slack, webhook, wecom
from monitor.notify.platforms.base import Answer, NotifyReason, Outcome, permanent, post

MODULES: dict[Platform, ModuleType] = {
    Platform.WECOM: wecom,
    Platform.DINGTALK: dingtalk,
    Platform.FEISHU: feishu,
    Platform.SLACK: slack,
    Platform.WEBHOOK: webhook,
}

__all__ = ["Answer", "NotifyReason", "Outcome", "MODULES", "send"]


async def send(session: aiohttp.ClientSession, target: Target, payload: dict,
               now: datetime, clock: Clock | None = None) -> Answer:
    """Sign and POST one message, and say what the platform's answer means; the robot's
    timeout runs on `clock`."""
    if not target.configured:
        return permanent(NotifyReason.NOT_CONFIGURED,
                         "missing " + ", ".join(target.missing))
    module = MODULES[target.robot.platform]
    result = await post(session, module.request(target, payload, now), target.robot.timeout,
                        clock)
    if isinstance(result, Answer):
        return result
    status, headers, body = result
    return module.classify(status, headers, body)
