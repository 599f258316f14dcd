"""Notify: alert intents → routes → outbox → chat robots (WeCom, DingTalk, Feishu, Slack, webhook).

Public surface (wired by monitor.app):

    load_notify_config(path=None) -> NotifyConfig
    Notifier(redis, keys, config, clock, metrics=None, session=None, rng=None)
        await submit(intent); await acknowledge(event_id, by, at); await resolve(event_id)
        await silence(reason=..., until=|duration=, event_id=|topic=|route=, by=)
        await unsilence(silence_id); await run_once() -> list[Delivery]; await run(stop)
        set_summary_source(async (now) -> AlertIntent | None); await status()
"""

from monitor.domain.alerts import AlertIntent, AlertKind, DeadlineView
from monitor.notify.config import NotifyConfig, load_notify_config
from monitor.notify.metrics import NotifyMetrics
from monitor.notify.notifier import Delivery, Notifier

__all__ = ["AlertIntent", "AlertKind", "DeadlineView", "Delivery", "Notifier", "NotifyConfig",
           "NotifyMetrics", "load_notify_config"]
