"""The SQL history and the exports at a year's scale.

    .venv/bin/python bench/bench_export.py [--events 50000] [--database-url URL]

A year (2026) of synthetic events with their deadlines and responses is saved to Redis
(embedded, or REDIS_URL) through EventStore, as the tracker saves them; then:
- archive throughput: the history consumer reads the change log into SQL (changes/s), for
  new events and again for a second version of a fifth of them;
- the export of a month and of the year (XLSX, and JSON for the month), beside the plain SQL
  aggregate query alone (deadline outcomes counted per rule, GROUP BY in the database).
Default database: SQLite in a temporary directory; --database-url postgresql+psycopg://… for
PostgreSQL (tables go in a schema of their own, dropped after). Target: a month's XLSX < 5 s.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.benchredis import redis_url  # noqa: E402
from monitor.domain.events import (  # noqa: E402
    Change,
    Deadline,
    DeadlineState,
    Event,
    EventKind,
    EventStatus,
    HistoryEntry,
    ItemRef,
    Response,
    ResponseChannel,
)
from monitor.history import tables  # noqa: E402
from monitor.history.consumer import HistoryConsumer  # noqa: E402
from monitor.history.db import open_history  # noqa: E402
from monitor.history.rows import utc  # noqa: E402
from monitor.history.writer import HistoryWriter  # noqa: E402
from monitor.report.export import export  # noqa: E402
from monitor.report.period import parse_month, parse_year  # noqa: E402
from monitor.store.embedded import connect  # noqa: E402
from monitor.store.events import EventStore  # noqa: E402
from monitor.store.keys import Keys, delete_prefix  # noqa: E402
from monitor.track.workdays import CHINA_TZ  # noqa: E402

TOPICS = ["减税降费", "金融安全", "生态环境", "脱贫攻坚", "教育改革", "食品药品", "卫生健康",
          "养老服务", "公正监管", "社会保障", "社会治安", "房地产市场", "营商环境", "其他政务"]
REGIONS = ["昆明市", "曲靖市", "玉溪市", "保山市", "昭通市", "丽江市", "普洱市", "临沧市",
           "楚雄彝族自治州", "红河哈尼族彝族自治州", "大理白族自治州", None]
STATES = [(DeadlineState.MET, 80), (DeadlineState.MET_LATE, 8), (DeadlineState.MISSED, 9),
          (DeadlineState.WAIVED, 2), (DeadlineState.PENDING, 1)]
RULES = {"authoritative_info_5h": ("5小时内发布权威信息", 5), "press_conference_24h":
         ("24小时内举行新闻发布会", 24), "response_48h": ("48小时内予以回应", 48),
         "message_2wd": ("2个工作日内办理网民留言", 60), "policy_interpretation_3wd":
         ("3个工作日内发布政策解读", 96)}


def synthetic_event(n: int, rng: random.Random) -> Event:
    start = sa_year_start() + timedelta(seconds=rng.uniform(0, 364 * 86400))
    kind = rng.choices([EventKind.OPINION, EventKind.MESSAGE, EventKind.POLICY], [80, 15, 5])[0]
    severity = rng.choices(["重大", "较大", "一般", None], [3, 7, 20, 70])[0]
    if kind is EventKind.MESSAGE:
        rules = ["message_2wd"]
    elif kind is EventKind.POLICY:
        rules = ["policy_interpretation_3wd"]
    else:
        rules = ["authoritative_info_5h", "press_conference_24h"] if severity == "重大" \
            else ["response_48h"]
    deadlines, responses = [], []
    for rule in rules:
        label, hours = RULES[rule]
        state = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
        met_at = None
        if state in (DeadlineState.MET, DeadlineState.MET_LATE):
            share = rng.uniform(0.05, 1.0) if state is DeadlineState.MET else rng.uniform(1, 3)
            met_at = start + timedelta(hours=hours * share)
            channel = {"press_conference_24h": ResponseChannel.PRESS_CONFERENCE,
                       "policy_interpretation_3wd": ResponseChannel.POLICY_INTERPRETATION}.get(
                rule, rng.choice(list(ResponseChannel)))
            responses.append(Response(id=f"r-{n}-{rule}", at=met_at, channel=channel,
                                       title=f"关于事件{n}的情况通报", source_id="gov",
                                       link=f"https://gov.example/{n}/{rule}"))
        deadlines.append(Deadline(rule=rule, label=label, due=start + timedelta(hours=hours),
                                  state=state, met_at=met_at,
                                  response_id=responses[-1].id if met_at else None))
    closed = rng.random() < 0.7
    history = [HistoryEntry(at=start, who="worker:bench", what="opened")]
    if closed:
        history.append(HistoryEntry(at=start + timedelta(days=4), who="值班员", what="closed"))
    items = [ItemRef(id=f"src:{n}:{i}", source_id="src", title=f"事件{n}的报道{i}",
                     link=f"https://news.example/{n}/{i}", published=start, official=False)
             for i in range(rng.randint(1, 4))]
    return Event(id=f"ev-{n:06d}", kind=kind, title=f"合成事件{n}", topic=rng.choice(TOPICS),
                 incident="事故灾难" if severity else "无", severity=severity,
                 region=rng.choice(REGIONS), first_seen=start, last_seen=start,
                 item_count=len(items), needs_response=True,
                 status=EventStatus.CLOSED if closed else EventStatus.OPEN, version=1,
                 deadlines=deadlines, responses=responses, history=history, items=items)


def sa_year_start():
    from datetime import datetime
    return datetime(2026, 1, 1, tzinfo=CHINA_TZ)


async def save(store: EventStore, changes: list[Change], batch: int = 100) -> float:
    started = time.perf_counter()
    for n in range(0, len(changes), batch):
        await store.save_all(changes[n:n + batch])
    return time.perf_counter() - started


def timed(fn, *args):
    """Wall seconds, CPU seconds of this process, and the result."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return time.perf_counter() - started, time.process_time() - cpu, result


def plain_aggregate(engine, month) -> list:
    d, e = tables.deadlines, tables.events
    query = (sa.select(d.c.rule, d.c.state, sa.func.count())
             .join(e, e.c.id == d.c.event_id)
             .where(d.c.start >= utc(month.start), d.c.start < utc(month.end))
             .group_by(d.c.rule, d.c.state))
    with engine.connect() as conn:
        return conn.execute(query).all()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        async with redis_url(tmp_path / "redis") as url:
            redis = connect(url)
            keys = Keys(f"bench-export:{uuid.uuid4().hex[:8]}:")
            db_url, schema = database(args.database_url, tmp_path)
            engine = open_history(db_url)
            try:
                await run(args, rng, redis, keys, engine, tmp_path)
            finally:
                engine.dispose()
                drop_schema(args.database_url, schema)
                await delete_prefix(redis, keys.prefix)
                await redis.aclose()


async def run(args, rng, redis, keys, engine, tmp_path: Path) -> None:
    store = EventStore(redis, keys, 86400)
    consumer = HistoryConsumer(redis, keys, store, HistoryWriter(engine))
    await consumer.run_once()  # the group exists before the first save, as in the service
    made = time.perf_counter()
    events = [synthetic_event(n, rng) for n in range(args.events)]
    made = time.perf_counter() - made
    deadlines = sum(len(e.deadlines) for e in events)
    responses = sum(len(e.responses) for e in events)
    saved = await save(store, [Change(event=e, expected_version=-1) for e in events])
    print(f"{len(events)} events ({deadlines} deadlines, {responses} responses) made in "
          f"{made:.1f}s, saved to Redis in {saved:.1f}s ({len(events) / saved:.0f}/s)")

    print(f"machine load before the timings: {os.getloadavg()[0]:.1f} (2 cores)")
    started = time.perf_counter()
    done = await consumer.run_once()
    took = time.perf_counter() - started
    print(f"archive, new events: {done.entries} changes → {done.written} rows sets in "
          f"{took:.1f}s = {done.entries / took:.0f} changes/s")
    again = [Change(event=e.model_copy(update={"version": 2}), expected_version=1)
             for e in events[::5]]
    await save(store, again)
    started = time.perf_counter()
    done = await consumer.run_once()
    took = time.perf_counter() - started
    print(f"archive, second versions: {done.entries} changes in {took:.1f}s = "
          f"{done.entries / took:.0f} changes/s")

    month, year = parse_month("2026-06"), parse_year("2026")
    aggregate, _, rows = timed(plain_aggregate, engine, month)
    print(f"plain SQL aggregate (a month, GROUP BY rule, state): {aggregate * 1000:.0f} ms, "
          f"{sum(r[2] for r in rows)} deadlines")
    out = tmp_path / "exports"
    took, cpu, _ = timed(export, engine, parse_month("2026-01"), "json", out)
    print(f"first export in a process (loads matplotlib and its fonts): {took:.2f}s "
          f"({cpu:.2f} CPU s)")
    for label, period, fmt in (("month xlsx", month, "xlsx"), ("month json", month, "json"),
                               ("month csv", month, "csv"), ("year xlsx", year, "xlsx")):
        took, cpu, (report, _) = timed(export, engine, period, fmt, out)
        target = "  (target < 5 s)" if label == "month xlsx" else ""
        print(f"export {label} with its PNG: {took:.2f}s ({cpu:.2f} CPU s), "
              f"{len(report.events)} events listed{target}")


def database(url: str | None, tmp_path: Path) -> tuple[str, str | None]:
    if not url:
        return f"sqlite:///{tmp_path / 'history.sqlite3'}", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", schema


def drop_schema(url: str | None, schema: str | None) -> None:
    if url and schema:
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
