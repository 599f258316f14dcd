"""The events worker: reads the item stream in its consumer group, tags items (outside the
lease, so workers classify in parallel), then applies them to events holding the grouping
lease (so workers agree on which event an item joins), saves, and acknowledges."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis
import structlog

from monitor.clock import Clock, sleep_or_stop
from monitor.domain.events import Event, EventKind, response_id
from monitor.models import Item
from monitor.store.events import Change, Conflict, EventStore
from monitor.store.items import ItemConsumer, StreamEntry
from monitor.store.keys import GROUPING_LEASE_SECONDS, Keys
from monitor.track.answers import AnswerStore, Lookout, Move, moves_to
from monitor.track.grouping import EventIndex, span
from monitor.track.orphans import OrphanStore, best_for, waits_for_event
from monitor.track.policy import Policy
from monitor.track.tagging import tag, warm_up
from monitor.track.tracker import Tagged, Tracker, to_index_entry

log = structlog.get_logger("monitor.track")

STALE_CLAIM_MS = 60_000  # a consumer silent this long is presumed dead; its items are taken
MAX_RETRIES = 5
# How often a worker waiting for the grouping lease tries again. redis-py's default (0.1 s)
# left the lease idle for most of that while the other worker had its next batch ready.
LEASE_RETRY_SECONDS = 0.005
# Items a pass reads at most. Each pass takes the grouping lease once and, under it, makes a
# few Redis round trips (the change log, the applied marks, the save, the waiting answers),
# at each of which this process's event loop serves its polls meanwhile: a backlog taken 500
# at a time pays that a fifth as often as 100 at a time. A quiet stream reads what is there.
BATCH_ITEMS = 500
CACHED_EVENTS = 2048  # events kept as last saved, so a busy event is not loaded per batch

Tagger = Callable[[Sequence[Item], int], list[Tagged]]
# Told of each classified batch and the seconds it took (the wall's item metrics).
OnTagged = Callable[[Sequence[Tagged], float], None]
# Told of each batch's seconds waiting for the grouping lease and holding it.
OnLease = Callable[[float, float], None]


@dataclass
class BatchResult:
    items: int = 0
    opened: list[str] = field(default_factory=list)
    joined: int = 0
    responses: int = 0
    skipped: int = 0
    orphaned: int = 0  # official answers kept until an event they answer opens
    merged: int = 0  # pairs of events found to be one matter
    moved: int = 0  # answers that moved to an event opened later (answers.py)
    repeated: int = 0  # re-delivered items already applied before a crash


class EventsWorker:
    def __init__(self, redis: aioredis.Redis, keys: Keys, policy: Policy, clock: Clock,
                 name: str, retention_seconds: float, group: str = "track",
                 tagger: Tagger = tag, stale_ms: int = STALE_CLAIM_MS,
                 on_tagged: OnTagged | None = None, on_lease: OnLease | None = None) -> None:
        self._redis = redis
        self._keys = keys
        self.policy = policy
        self._clock = clock
        self.name = name
        self.store = EventStore(redis, keys, retention_seconds)
        self.index = EventIndex(policy.grouping)
        self.tracker = Tracker(policy, self.index, who=f"worker:{name}")
        self.orphans = OrphanStore(redis, keys, retention_seconds)
        self.answers = AnswerStore(redis, keys, retention_seconds)
        self._lookout = Lookout()
        self._consumer = ItemConsumer(redis, keys, group, name)
        self._tagger = tagger
        self._on_tagged = on_tagged
        self._on_lease = on_lease
        self._log_pos = "0-0"
        self._last_claim = float("-inf")
        self._stale_ms = stale_ms  # Redis measures idleness itself, in real milliseconds
        self._cache = EventCache(CACHED_EVENTS)

    async def warm_up(self) -> None:
        """Load the shipped tagger's model and tables now rather than on the first batch."""
        if self._tagger is tag:
            await asyncio.to_thread(warm_up, self.policy.grouping.centroid_terms)

    async def start(self) -> None:
        """Join the consumer group and build the grouping index from the active events."""
        await self._consumer.ensure_group()
        last = await self._redis.xrevrange(self._keys.index_log, count=1)
        self._log_pos = last[0][0].decode() if last else "0-0"
        since = self._clock.now().timestamp() - self.policy.grouping.answer_window
        for event in await self.store.load_many(await self.store.active_ids(since)):
            self.index.put(to_index_entry(event))

    async def run_once(self, count: int = BATCH_ITEMS, block_ms: int | None = None) -> BatchResult:
        stale = await self._take_over_stale(count)
        fresh = await self._consumer.read(count=count, block_ms=None if stale else block_ms)
        # Claimed entries join our own pending ones, which `read` returns too: once each.
        entries = list({e.entry_id: e for e in (*stale, *fresh)}.values())
        if not entries:
            return BatchResult()
        result = await self.process(entries)
        await self._consumer.ack(entries)
        return result

    async def _take_over_stale(self, count: int) -> list[StreamEntry]:
        """Items a dead worker read and never acknowledged, looked for every 30 s (also while
        new items keep coming, so they cannot starve)."""
        now = self._clock.now().timestamp()
        if now - self._last_claim < STALE_CLAIM_MS / 2000:
            return []
        self._last_claim = now
        stale = await self._consumer.claim_stale(self._stale_ms, count=count)
        await self._consumer.remove_dead(self._stale_ms)  # those whose items we now hold
        return stale

    async def process(self, entries: Sequence[StreamEntry]) -> BatchResult:
        items = sorted((e.item for e in entries), key=lambda i: i.published)
        started = time.perf_counter()
        tagged = await asyncio.to_thread(self._tagger, items, self.policy.grouping.centroid_terms)
        if self._on_tagged is not None:
            self._on_tagged(tagged, time.perf_counter() - started)
        lock = self._redis.lock(self._keys.grouping_lock, timeout=GROUPING_LEASE_SECONDS,
                                blocking_timeout=GROUPING_LEASE_SECONDS * 2,
                                sleep=LEASE_RETRY_SECONDS)
        asked = time.perf_counter()
        async with lock:
            got = time.perf_counter()
            try:
                await self.sync_index()
                return await self._apply_all(tagged)
            except BaseException:
                self._cache.clear()  # it may hold changes that were never saved
                raise
            finally:
                if self._on_lease is not None:
                    self._on_lease(got - asked, time.perf_counter() - got)

    async def sync_index(self) -> None:
        """Catch up with events other workers (or timers, or officers) changed."""
        changed, self._log_pos = await self.store.index_changes(self._log_pos)
        # Our own saves come back through the log too: the index has them already.
        stale = [i for i, v in changed.items() if v < 0 or self.index.version_of(i) != v]
        for event in await self.store.load_many(stale):
            if event.active:
                self.index.put(to_index_entry(event))
            else:
                self.index.remove(event.id)
            self._cache.keep(event)  # read here: a join to it needs no second read
        self.index.expire(self._clock.now().timestamp())

    async def _apply_all(self, tagged: Sequence[Tagged]) -> BatchResult:
        result = BatchResult(items=len(tagged))
        done = set(await self.store.item_applied([t.item.id for t in tagged]))
        batch = _Batch()
        for t in tagged:
            if t.item.id in done:  # applied before a crash, or twice in this batch
                result.repeated += 1
                continue
            done.add(t.item.id)
            if not await self._stage(t, batch, result):
                await self._flush(batch, result)  # answers and merges see saved events
                await self._apply(t, result)
        await self._flush(batch, result)
        return result

    async def _stage(self, tagged: Tagged, batch: _Batch, result: BatchResult) -> bool:
        """Joins and openings are applied in memory and saved once per event at the end of
        the batch (a viral event's hundred reposts cost one load and one save, not a hundred).
        False for anything else, which is applied at once."""
        action, match, runner_up = self.tracker.route_with_runner_up(tagged)
        now = self._clock.now()
        if action == "open":
            change = self.tracker.open(tagged, now)
        elif action == "join":
            event = batch.event(match.event_id) or await self._load(match.event_id)
            if event is None or not event.active:
                return False
            change = self.tracker.join(event, tagged, match, now)
        else:
            return False
        batch.add(change, tagged)
        self.index.put(to_index_entry(change.event))
        _count(result, action, change)
        if runner_up is not None:
            batch.merges.append((change.event.id, match, runner_up))
        return True

    async def _flush(self, batch: _Batch, result: BatchResult) -> None:
        pending, merges = batch.take()
        conflicted = {c.event.id for c in await self.store.save_each([s.change for s in pending])}
        for staged in pending:
            self._cache.keep(staged.change.event, staged.change.event.id not in conflicted)
        redo = [s for s in pending if s.change.event.id in conflicted]
        if redo:  # a timer or an officer saved these events meanwhile: redo their items
            await self.sync_index()
            await self._reindex([s.change.event.id for s in redo])
        for staged in redo:
            for tagged in staged.items:
                await self._apply(tagged, result)
        # Opened events, and joined ones (a new report may name what a waiting answer names).
        await self._adopt_orphans([s.change.event.id for s in pending
                                   if s.change.event.id not in conflicted], result)
        for joined, match, runner_up in merges:
            await self._merge_or_suggest(joined, match, runner_up, result)

    async def _reindex(self, event_ids: list[str]) -> None:
        """The index entries of these events as stored (the ones staged here were not saved;
        the change log may have been read past the save that beat them)."""
        stored = {e.id: e for e in await self.store.load_many(event_ids)}
        for event_id in event_ids:
            event = stored.get(event_id)
            if event is not None and event.active:
                self.index.put(to_index_entry(event))
            else:
                self.index.remove(event_id)

    async def _apply(self, tagged: Tagged, result: BatchResult) -> None:
        """One item, saved at once (answers, policy documents, re-tries after a conflict)."""
        for _ in range(MAX_RETRIES):
            now = self._clock.now()
            action, match, runner_up = self.tracker.route_with_runner_up(tagged)
            try:
                change = await self._change_for(action, match, tagged, now)
                if change is None:
                    await self._skip(tagged, result)
                    return
                if action == "respond":  # kept first: a record without its save is harmless
                    await self.answers.keep(tagged, change.event.id)
                await self.store.save(change)
            except Conflict:
                if match is not None:
                    self._cache.drop(match.event_id)
                await self.sync_index()  # a timer or an officer changed it: apply again
                continue
            self._cache.keep(change.event, True)
            self.index.put(to_index_entry(change.event))
            _count(result, action, change)
            if action.startswith("open") or action == "join":
                await self._adopt_orphans([change.event.id], result)
            if runner_up is not None:
                await self._merge_or_suggest(change.event.id, match, runner_up, result)
            return
        log.error("item_not_applied", item_id=tagged.item.id, hint="event kept changing")

    async def _load(self, event_id: str) -> Event | None:
        """The event as this worker last saved it if that is still the version the index
        knows (synced from the change log under the lease), else from Redis. Either way the
        save checks the version: a stale copy ends in a Conflict, never in a lost change."""
        event = self._cache.get(event_id, self.index.version_of(event_id))
        if event is None:
            event = await self.store.load(event_id)
        return event

    async def _skip(self, tagged: Tagged, result: BatchResult) -> None:
        """An official answer (通报, 情况说明 …) that matches no open event waits for one."""
        if waits_for_event(tagged):
            await self.orphans.keep(tagged)
            result.orphaned += 1
            log.info("answer_kept_for_later", item_id=tagged.item.id, title=tagged.item.title)
        else:
            result.skipped += 1

    async def _adopt_orphans(self, event_ids: Sequence[str], result: BatchResult) -> None:
        """New or grown events take the waiting answers that report their matter (the answers
        around all of them read at once: one round trip for a batch, not one per event); each
        goes to the open event it matches best, which may be another (orphans.best_for).
        Then they take back the answers attached elsewhere that are clearly theirs."""
        entries = [e for i in event_ids if (e := self.index.get(i)) is not None]  # not merged
        if not entries:
            return
        window = self.policy.grouping.window
        waiting = await self.orphans.around(*span(entries, window))
        taken: set[str] = set()
        for entry in entries:
            mine = [t for t in waiting if t.item.id not in taken
                    and entry.near(t.item.published.timestamp(), window)]
            for tagged, match in best_for(entry, mine, self.policy, self.index) if mine else []:
                if await self._attach(match.event_id, tagged, match):
                    await self.orphans.adopted(tagged.item.id)
                    taken.add(tagged.item.id)
                    result.responses += 1
        # Only events that are new or name something new look again (answers.Lookout).
        looked = [fresh for e in entries if (fresh := self.index.get(e.event_id)) is not None
                  and self._lookout.changed(fresh)]
        if looked:
            around = await self.answers.ids_around(*span(looked, window))
            if around:
                await self._take_back_answers(looked, around, result)

    async def _take_back_answers(self, entries, around: set[str],
                                 result: BatchResult) -> None:
        """Answers attached to a look-alike before their own matter's first report: each
        moves to the new or grown event it matches clearly better (answers.better_home).
        Only those sharing a term, a place or a county with the event are read and scored."""
        window = self.policy.grouping.window
        moved: set[str] = set()
        for entry in entries:
            if entry.event_id not in self.index:  # merged meanwhile
                continue
            attached = await self.answers.attached(self.answers.sharing(entry, around - moved))
            mine = [a for a in attached
                    if entry.near(a.tagged.item.published.timestamp(), window)]
            for move in moves_to(entry, mine, self.policy, self.index) if mine else []:
                if await self._move(move, entry.event_id):
                    moved.add(move.attached.tagged.item.id)
                    result.moved += 1

    async def _move(self, move: Move, to: str) -> bool:
        tagged, home = move.attached.tagged, move.attached.event_id
        moving = response_id(tagged.item.id)
        for _ in range(MAX_RETRIES):
            events = {e.id: e for e in await self.store.load_many([home, to])}
            if len(events) != 2 or not all(e.active for e in events.values()):
                return False
            old, new = events[home], events[to]
            if any(r.id == moving for r in new.responses):  # moved before a crash
                await self.answers.moved(tagged.item.id, to)
                return True
            response = next((r for r in old.responses if r.id == moving), None)
            if response is None or not response.linked or response.recorded_by:
                return False  # an officer unlinked it, or recorded it by hand: theirs
            # Its own reports grade the old event again only if this answer had graded it.
            refs = (await self.store.item_refs(old)
                    if old.severity_source == tagged.item.id else None)
            changes = self.tracker.move_response(old, new, tagged, move.old, move.new,
                                                 self._clock.now(), refs)
            try:
                await self.store.save_all(changes)
            except Conflict:
                continue
            for change in changes:
                self.index.put(to_index_entry(change.event))
            await self.answers.moved(tagged.item.id, to)
            log.info("answer_moved", item_id=tagged.item.id, from_event=home, to_event=to,
                     score_from=round(move.old.score, 3), score_to=round(move.new.score, 3))
            return True
        return False

    async def _attach(self, event_id: str, tagged: Tagged, match) -> bool:
        for _ in range(MAX_RETRIES):
            event = await self.store.load(event_id)
            if event is None:
                return False
            if any(r.id == response_id(tagged.item.id) for r in event.responses):
                return True  # attached before a crash
            change = self.tracker.respond(event, tagged, match, self._clock.now())
            await self.answers.keep(tagged, event_id)
            try:
                await self.store.save(change)
            except Conflict:
                continue
            self.index.put(to_index_entry(change.event))
            return True
        return False

    async def _merge_or_suggest(self, joined: str, match, other, result: BatchResult) -> None:
        """An item that reports two open events shows they may be one matter: merged when it
        reports both surely, else the officers are told (a suggestion in both histories)."""
        why = (f"one item reports both (p {match.score:.2f} and {other.score:.2f}; "
               f"{'; '.join(other.evidence)})")
        for _ in range(MAX_RETRIES):
            events = await self.store.load_many([joined, other.event_id])
            if len(events) != 2 or not all(e.active for e in events):
                return
            now = self._clock.now()
            by_id = {e.id: e for e in events}
            merge = self.tracker.merges_surely(match, other, by_id[joined],
                                               by_id[other.event_id])
            changes = (self.tracker.merge(*events, why, now) if merge
                       else self.tracker.suggest_merge(*events, why, now))
            try:
                await self.store.save_all(changes)
            except Conflict:
                continue
            for change in changes:
                if change.event.active:
                    self.index.put(to_index_entry(change.event))
                else:
                    self.index.remove(change.event.id)
            result.merged += int(merge)
            return

    async def _change_for(self, action: str, match, tagged: Tagged, now) -> Change | None:
        if action == "skip":
            return None
        if action == "open":
            return self.tracker.open(tagged, now)
        if action == "open_policy":
            return self.tracker.open(tagged, now, kind=EventKind.POLICY)
        event = await self._load(match.event_id)
        if event is None or not event.active:
            self.index.remove(match.event_id)
            self._cache.drop(match.event_id)
            raise Conflict(match.event_id)
        if action == "respond":
            return self.tracker.respond(event, tagged, match, now)
        return self.tracker.join(event, tagged, match, now)

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        # Meanwhile the collector collects: items wait in the stream, none is lost.
        await self.warm_up()
        log.info("events_worker_started", worker=self.name, open_events=len(self.index))
        while not stop.is_set():
            try:
                batch = await self.run_once(block_ms=1000)
                if batch.items:
                    log.info("items_tracked", worker=self.name, items=batch.items,
                             opened=len(batch.opened), joined=batch.joined,
                             responses=batch.responses, skipped=batch.skipped)
            except (OSError, aioredis.RedisError) as exc:
                log.error("events_worker_pass_failed", error=str(exc), hint="retrying in 2s")
                await sleep_or_stop(self._clock, 2.0, stop)


@dataclass
class _Staged:
    change: Change  # every staged item's change to one event, combined
    items: list[Tagged]


@dataclass
class _Batch:
    """Changes applied in memory during one batch, saved per event at its end."""

    staged: dict[str, _Staged] = field(default_factory=dict)
    merges: list[tuple] = field(default_factory=list)

    def event(self, event_id: str):
        staged = self.staged.get(event_id)
        return staged.change.event if staged else None

    def add(self, change: Change, tagged: Tagged) -> None:
        before = self.staged.get(change.event.id)
        if before is None:
            self.staged[change.event.id] = _Staged(change, [tagged])
            return
        first = before.change
        before.change = Change(change.event, first.expected_version, change.next_check,
                               change.due_score, [*first.item_ids, *change.item_ids],
                               [*first.alerts, *change.alerts],
                               [*first.new_refs, *change.new_refs],
                               [*first.absorbed, *change.absorbed])
        before.items.append(tagged)

    def take(self) -> tuple[list[_Staged], list[tuple]]:
        taken = (list(self.staged.values()), self.merges)
        self.staged, self.merges = {}, []
        return taken


def _count(result: BatchResult, action: str, change: Change) -> None:
    if action.startswith("open"):
        result.opened.append(change.event.id)
    elif action == "respond":
        result.responses += 1
    else:
        result.joined += 1


class EventCache:
    """Events as this worker saved them, the most recently used kept. Its entries are the
    very objects the tracker changes in place: one whose change was not saved is dropped."""

    def __init__(self, size: int) -> None:
        self._events: OrderedDict[str, Event] = OrderedDict()
        self._size = size

    def get(self, event_id: str, version: int | None) -> Event | None:
        event = self._events.get(event_id)
        if event is None or version is None or event.version != version:
            self.drop(event_id)
            return None
        self._events.move_to_end(event_id)
        return event

    def keep(self, event: Event, ok: bool = True) -> None:
        """The event as stored (saved by this worker, or read); `ok` False: its change was
        not saved."""
        if not ok or not event.active:
            self.drop(event.id)
            return
        self._events[event.id] = event
        self._events.move_to_end(event.id)
        while len(self._events) > self._size:
            self._events.popitem(last=False)

    def drop(self, event_id: str) -> None:
        self._events.pop(event_id, None)

    def clear(self) -> None:
        self._events.clear()
