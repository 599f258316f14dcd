"""Every Redis key name and TTL the service uses, in one place.

All keys start with a prefix (MONITOR_KEY_PREFIX, default 'yq:') so one Redis can hold
several deployments, and so tests can isolate themselves without flushing a shared server.
"""

from __future__ import annotations

from dataclasses import dataclass


# How long an in-flight poll keeps its lease on a source: twice the longest a fetch may take
# (MONITOR_TOTAL_TIMEOUT), at least 10 s. A process that dies mid-poll frees the source after
# this, so another process (or its own restart) takes it over.
def poll_lease_seconds(total_timeout: float) -> int:
    return max(10, int(2 * total_timeout))
# Fetch results are remembered per item id for the retention period: the dedup window.
DEFAULT_RETENTION_SECONDS = 90 * 86400
# A timer claimed by a worker that dies fires again after this.
TIMER_LEASE_SECONDS = 60
# The grouping lease: one worker at a time reads and changes the event index.
GROUPING_LEASE_SECONDS = 30


@dataclass(frozen=True)
class Keys:
    prefix: str = "yq:"

    @property
    def items_stream(self) -> str:
        """Stream of new items; later stages read it through consumer groups."""
        return f"{self.prefix}items"

    def seen(self, item_id: str) -> str:
        """Marker that an item was emitted (string, TTL = retention)."""
        return f"{self.prefix}seen:{item_id}"

    @property
    def schedule(self) -> str:
        """Sorted set: source id → next poll time (unix seconds); also the poll lease."""
        return f"{self.prefix}sources:schedule"

    def source_state(self, source_id: str) -> str:
        """Hash of one source's polling state (failures, validators, last error ...)."""
        return f"{self.prefix}source:{source_id}"

    def lease_owner(self, source_id: str) -> str:
        """Who holds the poll lease on a source (string, TTL = poll_lease_seconds())."""
        return f"{self.prefix}lease:{source_id}"

    @property
    def heartbeat(self) -> str:
        """Hash: worker name → last heartbeat (unix seconds)."""
        return f"{self.prefix}workers"

    # ------------------------------------------------------------------------------------
    # Notify (monitor/notify): outbox, delivery log, rate windows, quiet rules.
    # Every notify key starts with "<prefix>notify:".
    # ------------------------------------------------------------------------------------

    @property
    def notify_outbox(self) -> str:
        """Sorted set: '<robot>|<alert key>' → due time (unix s); a claim moves it to the
        lease end, so an entry whose sender died becomes due again."""
        return f"{self.prefix}notify:outbox"

    def notify_intent(self, alert_key: str) -> str:
        """String: the AlertIntent JSON, written once (SET NX) by submit (TTL NOTIFY_KEEP)."""
        return f"{self.prefix}notify:intent:{alert_key}"

    def notify_entry(self, entry: str) -> str:
        """Hash of one outbox entry: attempts, last_error, inflight (TTL NOTIFY_KEEP)."""
        return f"{self.prefix}notify:entry:{entry}"

    def notify_delivered(self, entry: str) -> str:
        """String: the delivery id that showed this '<robot>|<alert key>' (TTL NOTIFY_KEEP):
        the dedup record checked before every send."""
        return f"{self.prefix}notify:delivered:{entry}"

    @property
    def notify_recent(self) -> str:
        """List (newest first, capped at NOTIFY_RECENT): delivery records as JSON."""
        return f"{self.prefix}notify:recent"

    @property
    def notify_failed(self) -> str:
        """Hash: entry → JSON of a permanent failure (kept until the entry is retried/cleared)."""
        return f"{self.prefix}notify:failed"

    def notify_window(self, robot: str) -> str:
        """Sorted set: send timestamps (ms) of one robot, the shared sliding-window budget."""
        return f"{self.prefix}notify:rate:{robot}"

    def notify_robot(self, robot: str) -> str:
        """Hash: one robot's health (failures, blocked_until, last_error, last_ok)."""
        return f"{self.prefix}notify:robot:{robot}"

    def notify_group(self, robot: str, event_id: str) -> str:
        """String with TTL = group interval: a message about this event went to this robot
        recently, so further alerts for it wait and are merged."""
        return f"{self.prefix}notify:group:{robot}:{event_id}"

    @property
    def notify_repeats(self) -> str:
        """Sorted set: alert key of a missed deadline → time of its next reminder."""
        return f"{self.prefix}notify:repeats"

    @property
    def notify_reminded(self) -> str:
        """Hash: alert key of a missed deadline → how many reminders were queued for it."""
        return f"{self.prefix}notify:reminded"

    @property
    def notify_silences(self) -> str:
        """Hash: silence id → JSON (matchers, expiry, reason, by)."""
        return f"{self.prefix}notify:silences"

    def notify_ack(self, event_id: str) -> str:
        """String: who acknowledged the event and when (TTL NOTIFY_KEEP)."""
        return f"{self.prefix}notify:ack:{event_id}"

    def notify_resolved(self, event_id: str) -> str:
        """String: the event was closed or answered; reminders stop (TTL NOTIFY_KEEP)."""
        return f"{self.prefix}notify:resolved:{event_id}"

    def notify_summary(self, day: str) -> str:
        """String (SET NX, TTL 2 days): the daily summary for this local date was taken."""
        return f"{self.prefix}notify:summary:{day}"

    def notify_summary_lock(self, day: str) -> str:
        """String (SET NX, TTL 300 s): one process is building today's summary."""
        return f"{self.prefix}notify:summary-lock:{day}"


    # ── track ───────────────────────────────────────────────────────────────────────────

    def event(self, event_id: str) -> str:
        """Hash: v (version), json (the Event)."""
        return f"{self.prefix}event:{event_id}"

    def event_items(self, event_id: str) -> str:
        """List: the JSON ItemRef of every item the event took, in arrival order."""
        return f"{self.prefix}event_items:{event_id}"

    @property
    def events_active(self) -> str:
        """Sorted set: active event id → last seen (unix s); rebuilds the grouping index."""
        return f"{self.prefix}events:active"

    @property
    def events_by_first_seen(self) -> str:
        """Sorted set: every event id → first seen (unix s); for time-range reports."""
        return f"{self.prefix}events:first_seen"

    @property
    def events_due(self) -> str:
        """Sorted set: event id → the due time that matters most now (unix s)."""
        return f"{self.prefix}events:due"

    @property
    def timers(self) -> str:
        """Sorted set: event id → when its deadlines next need a look (unix s)."""
        return f"{self.prefix}track:timers"

    @property
    def index_log(self) -> str:
        """Stream of changed event ids, so every worker's grouping index catches up."""
        return f"{self.prefix}events:index"

    def item_event(self, item_id: str) -> str:
        """Which event an item was applied to (string, TTL = retention): makes re-delivery
        of an item after a crash harmless."""
        return f"{self.prefix}track:item:{item_id}"

    @property
    def alerts_out(self) -> str:
        """Stream of alert intents written with the event change that caused them."""
        return f"{self.prefix}track:alerts"

    @property
    def grouping_lock(self) -> str:
        return f"{self.prefix}lock:grouping"

    @property
    def history_lease(self) -> str:
        """Which process writes the SQL history now (its name; expires if it dies)."""
        return f"{self.prefix}lock:history"

    @property
    def orphans(self) -> str:
        """Sorted set: official answer item id → published (unix s), for answers (通报,
        情况说明 …) that matched no open event yet; re-matched when one opens."""
        return f"{self.prefix}track:orphans"

    @property
    def orphan_items(self) -> str:
        """Hash: orphan item id → JSON (the item, its marks and term vector)."""
        return f"{self.prefix}track:orphan-items"

    @property
    def answers(self) -> str:
        """Sorted set: attached official answer item id → published (unix s): the answers an
        event that opens later may show to be its own (track/answers.py)."""
        return f"{self.prefix}track:answers"

    @property
    def answer_items(self) -> str:
        """Hash: attached answer item id → JSON (the item, its marks and term vector)."""
        return f"{self.prefix}track:answer-items"

    @property
    def answer_homes(self) -> str:
        """Hash: attached answer item id → the event it is attached to."""
        return f"{self.prefix}track:answer-homes"

    # ------------------------------------------------------------------------------------
    # The officers' desk (monitor/web): page sessions, login throttling, idempotent
    # retries of mutations, and officers' corrections kept as labelled feedback.
    # ------------------------------------------------------------------------------------

    def desk_session(self, session_id: str) -> str:
        """Hash: officer, csrf token (TTL = the session's life)."""
        return f"{self.prefix}desk:session:{session_id}"

    def desk_login_failures(self, client: str) -> str:
        """Counter of failed logins from one client address (TTL = the throttle window)."""
        return f"{self.prefix}desk:login-failures:{client}"

    def desk_idempotent(self, officer: str, key: str) -> str:
        """The answer given to one Idempotency-Key of one officer (TTL one day)."""
        return f"{self.prefix}desk:idem:{officer}:{key}"

    @property
    def feedback(self) -> str:
        """Stream of officers' corrections (topic, incident, severity, region) for training."""
        return f"{self.prefix}feedback:labels"


# Notify: how long intents, delivery records, acks and resolutions are kept (dedup window).
NOTIFY_KEEP_SECONDS = 30 * 86400
# How many delivery records `monitor outbox` and the API can show.
NOTIFY_RECENT = 500


async def delete_prefix(redis, prefix: str, batch: int = 1000) -> int:
    """Delete every key under `prefix` (a deployment, a replay, a test), a batch at a time
    so a large keyspace neither blocks Redis nor fills memory; how many were deleted."""
    found: list = []
    deleted = 0
    async for key in redis.scan_iter(match=f"{prefix}*", count=batch):
        found.append(key)
        if len(found) >= batch:
            deleted += await redis.delete(*found)
            found.clear()
    if found:
        deleted += await redis.delete(*found)
    return deleted
