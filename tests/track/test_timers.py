"""Due-soon and missed transitions fire on time with no item arriving, once, across restarts
and with several runners; a late response turns a miss into met late."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from monitor.domain.events import DeadlineState as S
from tests.track.conftest import T0, make_item

pytestmark = pytest.mark.redis

SECOND = timedelta(seconds=1)


async def open_48h_event(pipeline):
    """A 48-hour event first seen at T0 (a policy complaint in two outlets)."""
    worker = await pipeline.worker()
    await pipeline.feed(worker, *[
        make_item(n, "多地反映减税降费政策落实不到位 小微企业仍被收取多项费用",
                  "有小微企业反映，当地减税降费政策落实不到位，仍被违规收取各种费用。",
                  source=f"outlet{n}") for n in range(2)])
    [raw] = await pipeline.redis.zrange(pipeline.keys.events_by_first_seen, 0, -1)
    return worker, raw.decode()


async def deadline(worker, event_id):
    [d] = [d for d in (await worker.store.load(event_id)).deadlines if d.rule == "response_48h"]
    return d


async def alert_kinds(pipeline) -> list[str]:
    return [json.loads(intent)["kind"] for _, intent in await pipeline.alerts()]


async def test_due_soon_and_missed_fire_at_their_times_without_items(pipeline):
    worker, event_id = await open_48h_event(pipeline)
    timers = pipeline.timers(worker)
    for at, state, stage in [(24 * 3600 - 1, S.PENDING, 0), (24 * 3600, S.DUE_SOON, 1),
                             (0.8 * 48 * 3600, S.DUE_SOON, 2), (48 * 3600 - 1, S.DUE_SOON, 2),
                             (48 * 3600, S.MISSED, 2)]:
        pipeline.clock.set(T0 + timedelta(seconds=at))
        await timers.run_once()
        d = await deadline(worker, event_id)
        assert (d.state, d.stage) == (state, stage), at
    assert await alert_kinds(pipeline) == ["new_event", "deadline_due_soon", "deadline_due_soon",
                                           "deadline_missed"]
    assert await worker.store.next_timer() is None  # nothing more to watch


async def test_restart_between_due_soon_and_missed_loses_and_repeats_nothing(pipeline):
    worker, event_id = await open_48h_event(pipeline)
    pipeline.clock.set(T0 + timedelta(hours=30))
    await pipeline.timers(worker).run_once()
    assert (await deadline(worker, event_id)).state is S.DUE_SOON
    # The process stops here. A new one starts long after the due time.
    restarted = await pipeline.worker("w-restarted")
    pipeline.clock.set(T0 + timedelta(hours=50))
    await pipeline.timers(restarted).run_once()
    await pipeline.timers(restarted).run_once()
    assert (await deadline(restarted, event_id)).state is S.MISSED
    kinds = await alert_kinds(pipeline)
    # One warning at 30 h; at 50 h the miss is reported, not a stale second warning.
    assert kinds.count("deadline_missed") == 1 and kinds.count("deadline_due_soon") == 1


async def test_several_runners_fire_each_transition_once(pipeline):
    worker, event_id = await open_48h_event(pipeline)
    runners = [pipeline.timers(await pipeline.worker(f"w{i}")) for i in range(3)]
    for hours in (24, 38.4, 48):
        pipeline.clock.set(T0 + timedelta(hours=hours))
        await asyncio.gather(*(r.run_once() for r in runners))
    history = [h.what for h in (await worker.store.load(event_id)).history]
    assert history.count("deadline_due_soon") == 2 and history.count("deadline_missed") == 1
    assert (await alert_kinds(pipeline)).count("deadline_missed") == 1


async def test_a_runner_dying_after_its_claim_is_covered_by_the_lease(pipeline):
    worker, event_id = await open_48h_event(pipeline)
    pipeline.clock.set(T0 + timedelta(hours=48))
    assert await worker.store.claim_timers(pipeline.clock.now()) == [event_id]  # then dies
    survivor = pipeline.timers(await pipeline.worker("w2"))
    assert await survivor.run_once() == 0  # still leased to the dead runner
    pipeline.clock.set(T0 + timedelta(hours=48, minutes=2))
    await survivor.run_once()
    assert (await deadline(worker, event_id)).state is S.MISSED


async def test_a_response_after_the_miss_is_met_late(pipeline):
    worker, event_id = await open_48h_event(pipeline)
    pipeline.clock.set(T0 + timedelta(hours=49))
    await pipeline.timers(worker).run_once()
    answer = make_item(9, "市财政局回应小微企业反映减税降费政策落实不到位问题",
                       "针对小微企业反映减税降费政策落实不到位、仍被收取费用的问题，市财政局回应称已开展专项检查。",
                       hours=50, source="gov", official=True, channel="website")
    await pipeline.feed(worker, answer)
    d = await deadline(worker, event_id)
    assert (d.state, d.met_at) == (S.MET_LATE, answer.published)
    assert (await alert_kinds(pipeline))[-1] == "response_detected"
