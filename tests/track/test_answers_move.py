"""A notice published before the first report of its own matter, while a look-alike was open,
attaches to the look-alike; when its own matter's event opens it moves there (answers.py):
the right event's 5 h rule is met by it, the look-alike's is owed again, and both histories
say why. A new event that matches it only a little better does not take it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitor.domain.events import DeadlineState
from monitor.track.answers import MOVE_MARGIN
from tests.track.conftest import make_item

pytestmark = pytest.mark.redis

# A quarry collapse in 威信县 (county A), then a 通报 of another in neighbouring 镇雄县 (B),
# before any news of B: with nothing else open it passes the answer bar for A.
LOOKALIKE = make_item(1, "威信县一采石场发生垮塌事故 已致10人死亡",
                      "16日上午，昭通市威信县扎西镇一采石场发生垮塌，截至目前已造成10人死亡，"
                      "救援工作正在进行。", source="outlet-a")
NOTICE = make_item(2, "关于镇雄县某采石场“11·16”坍塌事故的情况通报",
                   "11月16日10时20分许，镇雄县某采石场在开采作业中发生坍塌，造成12人死亡。"
                   "事故发生后，县委、县政府立即组织救援，事故原因正在调查。",
                   hours=0.5, source="zx-gov", official=True, channel="website")
OWN_REPORT = make_item(3, "镇雄县一采石场发生坍塌 12人死亡",
                       "记者从昭通市镇雄县获悉，16日10时20分许，该县一采石场发生坍塌事故，"
                       "已造成12人死亡。", hours=1, source="outlet-b")
# Of 镇雄县 too, but says nothing of the toll or the time: only a little closer.
VAGUE_REPORT = make_item(4, "镇雄县一采石场发生坍塌事故",
                         "16日上午，镇雄县一采石场发生坍塌事故，伤亡情况正在核实。",
                         hours=1, source="outlet-c")
RULE = "authoritative_info_5h"


async def _events(pipeline, worker) -> dict:
    ids = [i.decode() for i in await pipeline.redis.zrange(
        pipeline.keys.events_by_first_seen, 0, -1)]
    return {e.id: e for e in await worker.store.load_many(ids)}


def _deadline(event, rule=RULE):
    return next(d for d in event.deadlines if d.rule == rule)


async def test_a_notice_on_a_lookalike_moves_to_its_own_event_when_that_opens(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, LOOKALIKE, NOTICE)
    [lookalike] = (await _events(pipeline, worker)).values()
    # Today's rules: the notice lands on the look-alike and meets its 5 h rule.
    assert [r.id for r in lookalike.responses] == [f"r-{NOTICE.id}"]
    assert _deadline(lookalike).state is DeadlineState.MET

    await pipeline.feed(worker, OWN_REPORT)
    events = await _events(pipeline, worker)
    assert len(events) == 2
    own = next(e for e in events.values() if e.id != lookalike.id)
    lookalike = events[lookalike.id]
    assert [r.id for r in own.responses] == [f"r-{NOTICE.id}"]
    assert lookalike.responses == []
    # The notice came first: the matter was public from then, and it met the 5 h rule.
    assert own.first_seen == NOTICE.published
    assert _deadline(own).state is DeadlineState.MET
    assert _deadline(own).response_id == f"r-{NOTICE.id}"
    # The look-alike owes its 5 h rule again, by its own clock (one hour in of five).
    assert _deadline(lookalike).state is DeadlineState.PENDING
    assert _deadline(lookalike).due == LOOKALIKE.published + timedelta(hours=5)
    [gone] = [h for h in lookalike.history if h.what == "response_moved"]
    [came] = [h for h in own.history if h.what == "response_moved"]
    assert own.id in gone.why and lookalike.id in came.why
    assert "p 0.9" in gone.why and "county_conflict" in gone.why
    # The new event's 已回应 as usual; nothing alarming for the look-alike now.
    kinds = [(json.loads(i)["kind"], json.loads(i)["event_id"]) for _, i in
             await pipeline.alerts()]
    assert ("response_detected", own.id) in kinds
    assert not [k for k, e in kinds if e == lookalike.id and k.startswith("deadline")]
    assert await worker.answers.around(0, 2e9) and all(
        a.event_id == own.id for a in await worker.answers.around(0, 2e9))

    # Its clock runs out as any other: missed at five hours, once.
    pipeline.clock.set(LOOKALIKE.published + timedelta(hours=5, minutes=1))
    await pipeline.timers(worker).run_once()
    lookalike = await worker.store.load(lookalike.id)
    assert _deadline(lookalike).state is DeadlineState.MISSED
    assert _deadline(await worker.store.load(own.id)).state is DeadlineState.MET


# The look-alike's own report gives the notice's time and toll (by chance: another county).
LOOKALIKE_SAME_COUNTS = make_item(
    5, "威信县一采石场发生垮塌事故 已致12人死亡",
    "16日10时20分许，昭通市威信县扎西镇一采石场发生垮塌，截至目前已造成12人死亡，"
    "救援工作正在进行。", source="outlet-a")


# Of 镇雄县 too, but it names neither the kind of collapse nor the toll: the county in the
# first hours makes it a little closer to the notice than the look-alike, not much.
VAGUER_REPORT = make_item(6, "镇雄县一采石场发生事故",
                          "16日上午，镇雄县一采石场发生事故，伤亡情况正在核实。",
                          hours=1, source="outlet-c")


async def test_a_notice_stays_when_the_new_event_matches_it_only_a_little_better(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, LOOKALIKE_SAME_COUNTS, NOTICE, VAGUER_REPORT)
    events = await _events(pipeline, worker)
    assert len(events) == 2  # the vague report opened its own event …
    lookalike = next(e for e in events.values() if e.title == LOOKALIKE_SAME_COUNTS.title)
    other = next(e for e in events.values() if e.id != lookalike.id)
    # … which matches the notice better, though by less than the margin: it stays.
    [notice] = [a.tagged for a in await worker.answers.around(0, 2e9)]
    # Each scored against the other, as answers.better_home does.
    there, here = (worker.index.score(e.id, notice.marks, notice.vector, (rival.id,))
                   for e, rival in ((other, lookalike), (lookalike, other)))
    assert here.score < there.score < here.score + MOVE_MARGIN
    assert [r.id for r in lookalike.responses] == [f"r-{NOTICE.id}"]
    assert other.responses == []
    assert not any(h.what == "response_moved" for e in events.values() for h in e.history)



async def test_the_lookalike_clocks_start_at_its_own_first_report_again(pipeline):
    """The notice, published before the look-alike's first report but delivered after it,
    had moved the look-alike's clocks back; once it leaves, they start at that report."""
    early = NOTICE.model_copy(update={"published": LOOKALIKE.published - timedelta(hours=1)})
    worker = await pipeline.worker()
    await pipeline.feed(worker, LOOKALIKE, early)
    [lookalike] = (await _events(pipeline, worker)).values()
    assert lookalike.first_seen == early.published
    await pipeline.feed(worker, OWN_REPORT)
    lookalike = await worker.store.load(lookalike.id)
    assert lookalike.responses == []
    assert lookalike.first_seen == LOOKALIKE.published
    assert _deadline(lookalike).due == LOOKALIKE.published + timedelta(hours=5)
    whats = [h.what for h in lookalike.history]
    moved = whats.index("response_moved")
    assert whats[moved + 1] == "first_seen_moved" and "moved to another" in \
        lookalike.history[moved + 1].why


async def test_another_worker_moves_an_answer_the_first_attached(pipeline):
    """The second worker never saw the notice: it reads its tagged form from Redis."""
    first, second = await pipeline.worker("w1"), await pipeline.worker("w2")
    await pipeline.feed(first, LOOKALIKE, NOTICE)
    await pipeline.feed(second, OWN_REPORT)
    events = await _events(pipeline, second)
    own = next(e for e in events.values() if e.title == OWN_REPORT.title)
    assert [r.id for r in own.responses] == [f"r-{NOTICE.id}"]
    assert not any(e.responses for e in events.values() if e.id != own.id)
    assert [a.event_id for a in await first.answers.around(0, 2e9)] == [own.id]


async def test_the_lookalike_falls_back_to_its_own_grade_when_the_notice_leaves(pipeline):
    """The notice's toll (12 dead) had raised the look-alike, a one-death collapse, to 重大;
    once the notice goes to its own matter the look-alike is graded by its own report."""
    minor = LOOKALIKE.model_copy(update={
        "title": "威信县一采石场发生垮塌事故 致1人死亡",
        "summary": "16日上午，昭通市威信县扎西镇一采石场发生垮塌，造成1人死亡，2人受伤。"})
    worker = await pipeline.worker()
    await pipeline.feed(worker, minor, NOTICE)
    [lookalike] = (await _events(pipeline, worker)).values()
    assert lookalike.severity == "重大" and lookalike.severity_source == NOTICE.id
    await pipeline.feed(worker, OWN_REPORT)
    lookalike = await worker.store.load(lookalike.id)
    assert lookalike.responses == []
    assert (lookalike.severity, lookalike.severity_source) == ("一般", minor.id)
    [lowered] = [h for h in lookalike.history if h.what == "severity_lowered"]
    assert lowered.why.startswith("重大 → 一般") and minor.title in lowered.why
    # Officers were told of the raise (级别上调); they are told it is undone, once.
    kinds = [json.loads(i) for _, i in await pipeline.alerts()]
    lowered = [a for a in kinds if a["kind"] == "severity_lowered"]
    assert [(a["event_id"], a["previous_severity"], a["severity"]) for a in lowered] == [
        (lookalike.id, "重大", "一般")]
    assert NOTICE.title in lowered[0]["lowered_why"]
    # The 48 h rule of a 一般 matter now applies; the major-event clocks are set aside.
    assert {d.rule: d.state for d in lookalike.deadlines} == {
        "response_48h": DeadlineState.PENDING, RULE: DeadlineState.SUPERSEDED,
        "press_conference_24h": DeadlineState.SUPERSEDED}


async def test_the_counts_a_notice_brought_do_not_hold_it_and_leave_with_it(pipeline):
    """Attached to the look-alike, the notice's time and toll (10:20, 12人) were added to it;
    re-scored there they are no evidence, so the 镇雄县 report that says nothing of them is
    home enough, and the look-alike loses them when the notice moves."""
    worker = await pipeline.worker()
    await pipeline.feed(worker, LOOKALIKE, NOTICE)
    [lookalike] = (await _events(pipeline, worker)).values()
    assert {"12人", "10:20"} <= set(lookalike.numbers)
    await pipeline.feed(worker, VAGUE_REPORT)
    lookalike = await worker.store.load(lookalike.id)
    assert lookalike.responses == [] and not {"12人", "10:20"} & set(lookalike.numbers)
    [other] = [e for e in (await _events(pipeline, worker)).values() if e.id != lookalike.id]
    assert [r.id for r in other.responses] == [f"r-{NOTICE.id}"]
