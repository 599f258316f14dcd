"""Arrival order must not change the outcome: one matter's reports, fed to the worker in
shuffled orders (each with its own publication time), end as one event with the same
deadlines, grade and responses; and two workers sharing the stream agree with one."""

from __future__ import annotations

import asyncio
import random

import pytest

from monitor.domain.events import DeadlineState
from monitor.store.keys import Keys
from monitor.track.evaluate import SAMPLE, scenario_outcomes
from monitor.track.policy import default_policy
from monitor.track.replay import read_items
from tests.track.conftest import Pipeline

pytestmark = pytest.mark.redis

SCENARIO = SAMPLE.with_name("three_ways_scenario.jsonl")
QUARRY = [i for i in read_items(SCENARIO) if "罗平" in i.title + i.summary]


def outcome(events):
    """What the officers see of each event: its count, grade, start, the deadlines that
    apply (a rule superseded on the way is a record of the order, not an outcome) and the
    responses."""
    return sorted((e.item_count, e.severity, e.first_seen,
                   tuple(sorted((d.key, d.due, d.state) for d in e.deadlines
                                if d.state is not DeadlineState.SUPERSEDED)),
                   tuple(sorted(r.id for r in e.responses))) for e in events)


async def run(redis, clock, prefix: str, items, workers: int = 1):
    pipeline = Pipeline(redis, Keys(prefix), clock)
    clock.set(max(i.published for i in items))
    await pipeline.items.emit_new(items)
    running = [await pipeline.worker(f"w{n}") for n in range(workers)]
    while any(r.items for r in await asyncio.gather(*(w.run_once(count=2) for w in running))):
        pass
    store = running[0].store
    return await store.load_many(await store.active_ids(0))


async def test_shuffled_arrival_gives_the_same_event(redis, clock, key_prefix):
    assert len(QUARRY) >= 5  # three outlets, a notice and a press conference
    outcomes = []
    for seed in range(3):
        items = random.Random(seed).sample(QUARRY, len(QUARRY))
        events = await run(redis, clock, f"{key_prefix}order{seed}:", items)
        assert len(events) == 1, [e.title for e in events]
        outcomes.append(outcome(events))
    assert outcomes[0] == outcomes[1] == outcomes[2]


async def test_two_workers_make_the_same_events_as_one(redis, clock, key_prefix):
    items = read_items(SCENARIO)
    one = await run(redis, clock, f"{key_prefix}one:", items)
    two = await run(redis, clock, f"{key_prefix}two:", items, workers=2)
    assert outcome(one) == outcome(two)


def test_the_three_ways_scenario_meets_its_hand_computed_outcomes():
    result = scenario_outcomes(default_policy(), "three_ways_scenario")
    wrong = [r for r in result["rows"] if r["expected"] != r["got"]]
    assert not wrong


def test_the_earthquake_scenario_deadlines():
    rows = scenario_outcomes(default_policy(), "earthquake_scenario")["rows"]
    got = {r["rule"]: r["got"] for r in rows}
    assert (got["authoritative_info_5h"], got["press_conference_24h"]) == ("met", "met_late")
    assert got["severity"] == "重大"  # 38 dead + 14 missing, by the earthquake plan
