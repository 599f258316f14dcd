"""Tracking speed (run: .venv/bin/python bench/bench_track.py). Prints figures; asserts nothing.

1. grouping alone: items/s through the real tracker (candidate lookup, scoring, event update)
   with 10,000 open events in the index, one core, no Redis. Target ≥ 1,000 items/s.
2. events worker: items/s end to end (stream → classify → group → save in Redis) with
   10,000 open events stored in Redis, and ATTACHED_ANSWERS official answers attached to
   them within the window, which every opened or grown event re-scores (track/answers.py);
   `--answers N` sets how many (0: none); `--worker-only` skips part 1.
3. timer lag: deadlines falling due every few milliseconds on the real clock while the worker
   is busy; lag = when the transition was recorded − its due time. Target: all within 1 s.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchredis import redis_url  # noqa: E402
from monitor.clock import SystemClock  # noqa: E402
from monitor.domain.events import Change, Event  # noqa: E402
from monitor.logs import configure  # noqa: E402
from monitor.models import Item  # noqa: E402
from monitor.store.embedded import connect  # noqa: E402
from monitor.store.items import ItemStore, ensure_groups  # noqa: E402
from monitor.store.keys import Keys, delete_prefix  # noqa: E402
from monitor.track.answers import moves_to  # noqa: E402
from monitor.track.grouping import EventIndex, idf_table, normalise  # noqa: E402
from monitor.track.identity import Marks, title_grams  # noqa: E402
from monitor.track.policy import default_policy  # noqa: E402
from monitor.track.tagging import tag  # noqa: E402
from monitor.track.timers import TimerRunner  # noqa: E402
from monitor.track.tracker import Tagged, Tracker, to_index_entry  # noqa: E402
from monitor.track.worker import EventsWorker  # noqa: E402

T0 = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
OPEN_EVENTS = 10_000
# A busy week's 通报 and replies in the grouping window; a tenth are notices of the very
# matters the bench's news items report (they share terms, so they are scored in full).
ATTACHED_ANSWERS = 1_000


def vocabulary(rng: random.Random) -> list[str]:
    table, _ = idf_table()
    words = [w for w in table if len(w) >= 2]
    return rng.sample(words, 60_000)


def random_vector(rng: random.Random, words: list[str], n: int) -> dict[str, float]:
    return normalise({w: rng.uniform(0.5, 2.0) for w in rng.sample(words, n)})


def item(n: int, at: datetime) -> Item:
    return Item(id=f"bench:{n}", source_id=f"s{n % 50}", source_name="bench", title=f"条目{n}",
                summary="", link=None, published=at, fetched=at, official=False,
                channel="news")


def tagged(n: int, vector: dict[str, float], at: datetime) -> Tagged:
    return Tagged(item=item(n, at), topic="其他政务", topic_p=0.8, incident="无", incident_p=0.9,
                  severity=None, severity_evidence={}, region=None, county=None, vector=vector,
                  marks=Marks(at=at.timestamp(), grams=title_grams(f"条目{n}")))


def seed_events(rng, words, policy, tracker, count) -> list[Change]:
    changes = []
    for n in range(count):
        t = tagged(n, random_vector(rng, words, 30), T0)
        change = tracker.open(t, T0)
        tracker.index.put(to_index_entry(change.event))
        changes.append(change)
    return changes


def bench_grouping(rng: random.Random, words: list[str]) -> None:
    policy = default_policy()
    tracker = Tracker(policy, EventIndex(policy.grouping))
    events = {c.event.id: c.event for c in seed_events(rng, words, policy, tracker, OPEN_EVENTS)}
    ids = list(events)
    batch = []
    for n in range(5_000):
        if n % 2:  # a repost: an existing event's terms, reweighted, plus a little noise
            base = events[rng.choice(ids)].centroid
            vector = normalise({**{t: w * rng.uniform(0.8, 1.2) for t, w in base.items()},
                                **random_vector(rng, words, 3)})
        else:
            vector = random_vector(rng, words, 30)
        batch.append(tagged(100_000 + n, vector, T0 + timedelta(minutes=1)))
    joined = opened = 0
    cpu = time.process_time()
    for t in batch:
        action, match = tracker.route(t)
        if action == "join":
            change = tracker.join(events[match.event_id], t, match, t.item.published)
            joined += 1
        else:
            change = tracker.open(t, t.item.published)
            opened += 1
        events[change.event.id] = change.event
        tracker.index.put(to_index_entry(change.event))
    cpu = time.process_time() - cpu
    print(f"grouping alone: {len(batch)} items against {OPEN_EVENTS:,} open events in "
          f"{cpu:.2f} CPU s → {len(batch) / cpu:,.0f} items/s ({joined} joined, {opened} "
          f"opened; half were reposts) — target ≥ 1,000 items/s")


async def bench_worker(redis_url: str, rng: random.Random, words: list[str],
                       answers: int) -> None:
    redis = connect(redis_url)
    keys = Keys(f"bench:{uuid.uuid4().hex[:8]}:")
    policy = default_policy()
    clock = SystemClock()
    try:
        tracker = Tracker(policy, EventIndex(policy.grouping))
        now = clock.now()
        worker = EventsWorker(redis, keys, policy, clock, "bench", 86400 * 30)
        started = time.perf_counter()
        stored = []
        for change in seed_events(rng, words, policy, tracker, OPEN_EVENTS):
            event = change.event.model_copy(update={"first_seen": now, "last_seen": now})
            change = tracker.finish(event, now, -1)
            await worker.store.save(change)
            stored.append(event.id)
        print(f"events worker: stored {OPEN_EVENTS:,} open events in "
              f"{time.perf_counter() - started:.1f}s")
        await ensure_groups(redis, keys.items_stream, ["track"])
        await worker.start()
        await seed_answers(worker, rng, words, now, stored[:answers])
        await worker.warm_up()  # as `monitor run` does before it serves
        texts = news_texts()
        items = [Item(id=f"bench:w{n}", source_id=f"s{n % 40}", source_name="bench",
                      title=texts[n % len(texts)][0] + f"（{n}）",
                      summary=texts[n % len(texts)][1], link=None, published=now,
                      fetched=now, official=False, channel="news") for n in range(2_000)]
        await ItemStore(redis, keys, 86400).emit_new(items)
        lags = await run_with_timers(worker, clock, redis, keys, policy, len(items))
        print_lags(lags)
        await time_one_look(worker, now, answers)
    finally:
        await delete_prefix(redis, keys.prefix)
        await redis.aclose()


async def run_with_timers(worker, clock, redis, keys, policy, total) -> list[float]:
    """Process the items while a timer runner fires deadlines due every 20 ms."""
    timers = TimerRunner(worker.store, worker.tracker, clock)
    due_events = await schedule_due_deadlines(worker, clock, policy, count=300)
    stop = asyncio.Event()
    timer_task = asyncio.create_task(timers.run(stop))
    started, cpu, done = time.perf_counter(), time.process_time(), 0
    while done < total:
        done += (await worker.run_once(count=100)).items
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"events worker: {done} items (classify + group + save) with {OPEN_EVENTS:,} open "
          f"events in {wall:.1f}s → {done / wall:,.0f} items/s; {cpu / done * 1000:.2f} CPU ms "
          f"per item")
    await asyncio.sleep(max(0.0, max(due_events.values()) - time.time()) + 1.5)
    stop.set()
    await timer_task
    return await lags_of(worker, due_events)


async def schedule_due_deadlines(worker, clock, policy, count: int) -> dict[str, float]:
    """Events whose 48 h deadline is due a few seconds from now, 20 ms apart."""
    due = {}
    start = clock.now() + timedelta(seconds=2)
    for n in range(count):
        due_at = start + timedelta(milliseconds=20 * n)
        first_seen = due_at - timedelta(hours=48)
        event = Event(id=f"ev-timer{n}", title="t", topic="其他政务", incident="无",
                      first_seen=first_seen, last_seen=first_seen, needs_response=True,
                      item_count=2)
        change = worker.tracker.finish(event, clock.now(), -1)
        await worker.store.save(change)
        due[event.id] = due_at.timestamp()
    return due


async def lags_of(worker, due_events: dict[str, float]) -> list[float]:
    lags = []
    for event in await worker.store.load_many(due_events):
        fired = [h.at for h in event.history if h.what == "deadline_missed"]
        if fired:
            lags.append(fired[0].timestamp() - due_events[event.id])
    return lags


def print_lags(lags: list[float]) -> None:
    if not lags:
        print("timer lag: no transition fired")
        return
    lags.sort()
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    print(f"timer lag under load: {len(lags)} missed transitions; median "
          f"{statistics.median(lags) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max "
          f"{lags[-1] * 1000:.0f} ms — target every one within 1 s")


async def seed_answers(worker, rng, words, now, homes: list[str]) -> None:
    """Answers attached to random stored events, kept as the worker keeps them; the worker's
    memory of their tagged forms is emptied, so the first look reads them from Redis."""
    count = len(homes)
    if not count:
        return
    texts = news_texts()
    notices = [Item(id=f"bench:a{n}", source_id="gov", source_name="bench",
                    title=f"关于{texts[n % len(texts)][0]}的情况通报", summary=texts[n % len(texts)][1],
                    link=None, published=now, fetched=now, official=True, channel="website")
               for n in range(count // 10)]
    answers = tag(notices, worker.policy.grouping.centroid_terms)
    answers += [tagged(200_000 + n, random_vector(rng, words, 30), now)
                for n in range(count - len(answers))]
    for answer, home in zip(answers, homes, strict=True):
        await worker.answers.keep(answer, home)
    worker.answers._tagged.clear()
    print(f"events worker: {count:,} attached answers kept to be re-matched")


async def time_one_look(worker, now, count: int) -> None:
    """What one new event costs the worker to look at the attached answers around it (read
    their homes, re-score those sharing anything): paid per event that opens or names
    something new, not per item."""
    if not count:
        return
    # The bench's news events (they name counties and places; the seeded ones do not): the
    # answers about the same matters share terms with them, so these are scored in full.
    hot = [e for e in worker.index._entries.values() if e.marks.counties or e.marks.places]
    window = worker.policy.grouping.window
    reads, scores = [], []
    for entry in hot[:20]:
        started = time.perf_counter()
        around = await worker.answers.ids_around(now.timestamp() - window,
                                                 now.timestamp() + window)
        read = time.perf_counter()
        attached = await worker.answers.attached(worker.answers.sharing(entry, around))
        moves_to(entry, attached, worker.policy, worker.index)
        reads.append(read - started)
        scores.append(time.perf_counter() - read)
    if reads:
        print(f"answers look: {len(around):,} attached answers listed in "
              f"{statistics.median(reads) * 1000:.1f} ms (once per batch); those sharing "
              f"anything with one new event read and re-scored in "
              f"{statistics.median(scores) * 1000:.1f} ms (median of {len(reads)} events)")


def news_texts() -> list[tuple[str, str]]:
    return [
        ("镇雄县一煤矿发生透水事故致3人死亡", "昭通市镇雄县一煤矿井下发生透水事故，已造成3人死亡，多人被困。"),
        ("洱海流域多处污水直排 村民反映水体发黑", "大理州洱海流域部分村庄生活污水直接排入洱海。"),
        ("盘龙区某小区物业擅自提高物业费", "昆明市盘龙区某小区物业公司未经业主同意擅自上涨物业费。"),
        ("多地反映减税降费政策落实不到位", "小微企业反映减税降费政策落实不到位，仍被收取多项费用。"),
        ("某县养老院护理人员短缺 老人照护成难题", "有家属反映某县养老院护理人员严重不足，老人得不到照护。"),
    ] * 3


async def main() -> None:
    configure("console", "warning")
    rng = random.Random(11)
    words = vocabulary(rng)
    answers = int(sys.argv[sys.argv.index("--answers") + 1]) if "--answers" in sys.argv \
        else ATTACHED_ANSWERS
    if "--worker-only" not in sys.argv:
        bench_grouping(rng, words)
    async with redis_url(ROOT / "var" / "bench-redis") as url:
        await bench_worker(url, rng, words, answers)


if __name__ == "__main__":
    asyncio.run(main())
