"""Working-day deadlines that run into a year the installed chinesecalendar does not know
(2027 from 2026-12-29): a provisional due time counted Monday–Friday without the statutory
holidays (New Year's Day is off by law whatever the schedule), said as such in the event, the
API, the alert and the metrics; recomputed with a history entry once the year is entered.
Everything on the fake clock, across 2026-12-28 → 2027-01-15, against the real Redis."""

from __future__ import annotations

import json
from datetime import date, datetime

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from monitor.domain.alerts import AlertIntent
from monitor.domain.events import Change, Deadline, DeadlineState, Event, EventKind
from monitor.metrics import Metrics
from monitor.notify.render import compose
from monitor.track.readmodel import ReadModel
from monitor.track.recompute import recompute_provisional, warn_if_calendar_runs_out
from monitor.track.workdays import PublishedYear, WorkCalendar, add_working_days
from monitor.web.app import build_app
from tests.track.conftest import make_item

pytestmark = pytest.mark.redis

BEIJING = "+08:00"
NOTE = "暂按周一至周五（扣除法定节假日）计算，2027年调休安排未录入"
# A schedule as an operator would enter it (the test does not depend on the real one):
# New Year's Day and the Monday after it off, and a swapped working Sunday.
Y2027 = PublishedYear(holidays=(date(2027, 1, 1), date(2027, 1, 4)),
                      workdays=(date(2027, 1, 10),))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + BEIJING)


HEATING = ("网民留言：小区供暖不达标，家中只有十几度",
           "昆明市五华区某小区供暖温度不达标，多次反映无人处理，请求有关部门督促解决。")
BUS = ("网民留言：公交线路调整后老人看病不便",
       "曲靖市麒麟区公交线路调整后，医院附近站点取消，老人看病出行困难，希望恢复站点。")


def message(n: int, when: str, words: tuple[str, str] = HEATING):
    item = make_item(n, *words, source="board", channel="message_board")
    return item.model_copy(update={"published": at(when), "fetched": at(when),
                                   "id": f"board:{n:04d}"})


async def message_event(pipeline, worker, n: int, when: str, words=HEATING) -> Event:
    await pipeline.feed(worker, message(n, when, words))
    [event] = [e for e in await worker.store.load_many(await worker.store.active_ids(0))
               if any(i.id == f"board:{n:04d}" for i in e.items)]
    return event


def the(event: Event, rule: str = "message_2wd") -> Deadline:
    return next(d for d in event.deadlines if d.rule == rule)


@pytest.mark.parametrize(("received", "days", "due", "guessed"), [
    ("2026-12-28T10:00", 2, "2026-12-31T00:00", ()),  # all in 2026: official
    ("2026-12-29T10:00", 2, "2027-01-01T00:00", ()),  # ends at midnight into 2027, counts 2026
    ("2026-12-30T10:00", 2, "2027-01-05T00:00", (2027,)),  # Thu 31 Dec, Mon 4 Jan: 元旦 off
    ("2027-02-04T10:00", 2, "2027-02-11T00:00", (2027,)),  # 除夕 Fri 5 – 初三 Mon 8 Feb off
    ("2027-09-30T10:00", 1, "2027-10-05T00:00", (2027,)),  # 国庆 1–3 Oct, then Mon 4 Oct
    ("2027-01-08T10:00", 3, "2027-01-14T00:00", (2027,)),  # Mon–Wed of the next week
    ("2027-01-15T10:00", 2, "2027-01-20T00:00", (2027,)),  # over a weekend
])
def test_monday_to_friday_for_2027(received, days, due, guessed):
    counted = add_working_days(at(received), days)
    assert (counted.due, counted.guessed_years) == (at(due), guessed)


def test_an_entered_year_replaces_the_guess():
    counted = add_working_days(at("2026-12-30T10:00"), 2, {2027: Y2027})
    assert counted.due == at("2027-01-06T00:00") and not counted.guessed_years  # 31 Dec, 5 Jan
    # the swapped Sunday counts: Fri 8 → Sun 10, Mon 11
    assert add_working_days(at("2027-01-08T10:00"), 2, {2027: Y2027}).due == \
        at("2027-01-12T00:00")


def test_calendar_known_until():
    assert WorkCalendar({}).known_until_year() == 2026
    assert WorkCalendar({2027: Y2027}).known_until_year() == 2027
    assert WorkCalendar({2028: Y2027}).known_until_year() == 2026  # a gap is not known


async def test_a_provisional_deadline_runs_alerts_and_is_repaired_when_2027_is_entered(
        pipeline):
    pipeline.clock.set(at("2026-12-28T09:00"))
    worker = await pipeline.worker()
    event = await message_event(pipeline, worker, 1, "2026-12-30T10:00")
    deadline = the(event)
    assert deadline.due == at("2027-01-05T00:00") and deadline.state is DeadlineState.PENDING
    assert deadline.provisional and deadline.provisional_reason == NOTE
    assert NOTE in event.history[-1].why  # the clock's start says it is provisional
    assert await worker.store.next_timer() is not None  # a timer runs
    assert [o.event.id for o in await ReadModel(worker.store).open_by_time_left(
        pipeline.clock.now())] == [event.id]  # and the officers see it

    # Half the window (67 h) has passed at 2 Jan 05:00: the warning carries the note.
    pipeline.clock.set(at("2027-01-02T05:00"))
    await pipeline.timers(worker).run_once()
    key, raw = (await pipeline.alerts())[-1]
    warning = AlertIntent.model_validate_json(raw)
    assert warning.kind == "deadline_due_soon"
    text = "\n".join(line.text for line in compose(warning, pipeline.clock.now(), "").lines)
    assert f"⚠ {NOTE}" in text and "01月05日 00:00" in text

    # The operator enters 2027 at 06:00; start-up (or the command) recomputes.
    pipeline.clock.set(at("2027-01-02T06:00"))
    entered = pipeline.policy.model_copy(update={"calendar": {2027: Y2027}})
    result = await recompute_provisional(worker.store, entered, pipeline.clock.now())
    assert (result.events_checked, result.due_times_changed, result.still_provisional) == \
        (1, 1, 0)
    event = await worker.store.load(event.id)
    assert the(event).due == at("2027-01-06T00:00") and not the(event).provisional
    changed = [h for h in event.history if h.what == "deadline_due_changed"]
    assert len(changed) == 1 and changed[0].who == "calendar"
    assert "2027-01-05T00:00:00+08:00 → 2027-01-06T00:00:00+08:00" in changed[0].why
    assert (await pipeline.alerts())[-1][0] == key  # a corrected due time is not an alert
    again = await recompute_provisional(worker.store, entered, pipeline.clock.now())
    assert again.events_checked == 0  # nothing provisional is left

    # The old due time passes quietly; the new one is missed on time, without the note.
    pipeline.policy = entered
    worker = await pipeline.worker("w-restarted")
    for when in ("2027-01-05T00:01", "2027-01-05T23:59"):
        pipeline.clock.set(at(when))
        await pipeline.timers(worker).run_once()
        assert the(await worker.store.load(event.id)).state is DeadlineState.DUE_SOON
    pipeline.clock.set(at("2027-01-06T00:00"))
    await pipeline.timers(worker).run_once()
    assert the(await worker.store.load(event.id)).state is DeadlineState.MISSED
    missed = AlertIntent.model_validate_json((await pipeline.alerts())[-1][1])
    assert missed.kind == "deadline_missed" and missed.due == at("2027-01-06T00:00")
    assert NOTE not in json.dumps(missed.model_dump(mode="json"), ensure_ascii=False)


async def test_a_deadline_saved_without_a_due_time_is_repaired(pipeline):
    """Events saved by the earlier code kept `due: null` for 2027: recompute gives them one."""
    pipeline.clock.set(at("2026-12-31T09:00"))
    worker = await pipeline.worker()
    event = Event(id="ev-old", kind=EventKind.MESSAGE, title="留言", topic="其他政务",
                  incident="无", first_seen=at("2026-12-30T10:00"),
                  last_seen=at("2026-12-30T10:00"), needs_response=True,
                  deadlines=[Deadline(rule="message_2wd", label="2个工作日内办理网民留言",
                                      due=None)])
    await worker.store.save(Change(event, expected_version=-1))
    result = await recompute_provisional(worker.store, pipeline.policy, pipeline.clock.now())
    assert result.due_times_changed == 1 and result.still_provisional == 1
    repaired = the(await worker.store.load("ev-old"))
    assert repaired.due == at("2027-01-05T00:00") and repaired.provisional
    assert await worker.store.next_timer() is not None


async def test_the_api_shows_the_provisional_due_time(pipeline):
    pipeline.clock.set(at("2026-12-30T09:00"))
    worker = await pipeline.worker()
    event = await message_event(pipeline, worker, 2, "2026-12-30T10:00")
    server = TestServer(build_app(pipeline.redis, Metrics(), ReadModel(worker.store), None,
                                  pipeline.clock), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=server.make_url("")) as http:
            async with http.get("/api/events") as response:
                [row] = (await response.json())["events"]
            async with http.get(f"/api/events/{event.id}") as response:
                one = await response.json()
    finally:
        await server.close()
    assert row["id"] == event.id
    [deadline] = one["deadlines"]
    assert deadline["provisional"] is True and deadline["provisional_reason"] == NOTE
    assert deadline["due"] == "2027-01-05T00:00:00+08:00"


@pytest.mark.parametrize(("today", "calendar", "warned"), [
    ("2026-11-01T09:00", {}, []),  # 60 days ahead is 31 Dec
    ("2026-11-02T09:00", {}, [2027]),  # 1 Jan 2027 is within 60 days
    ("2026-12-28T09:00", {2027: Y2027}, []),  # entered
])
def test_one_warning_while_the_next_60_days_reach_an_unknown_year(pipeline, today, calendar,
                                                                  warned):
    policy = pipeline.policy.model_copy(update={"calendar": calendar})
    with capture_logs() as logs:
        assert warn_if_calendar_runs_out(policy, at(today)) == warned
    assert len([e for e in logs if e["event"] == "calendar_year_unknown"]) == len(warned[:1])


async def test_start_up_recomputes_and_sets_the_calendar_metrics(pipeline):
    from monitor.app import settle_calendar

    pipeline.clock.set(at("2026-12-30T09:00"))
    worker = await pipeline.worker()
    await message_event(pipeline, worker, 3, "2026-12-30T10:00")
    await message_event(pipeline, worker, 4, "2026-12-28T10:00", BUS)  # all in 2026
    metrics = Metrics()

    def sample(name: str) -> float | None:
        return metrics.registry.get_sample_value(name)

    await settle_calendar(worker.store, pipeline.policy, pipeline.clock, metrics)
    assert (sample("yq_calendar_known_until_year"), sample("yq_deadlines_provisional")) == \
        (2026, 1)
    entered = pipeline.policy.model_copy(update={"calendar": {2027: Y2027}})
    await settle_calendar(worker.store, entered, pipeline.clock, metrics)
    assert (sample("yq_calendar_known_until_year"), sample("yq_deadlines_provisional")) == \
        (2027, 0)


async def test_recompute_deadlines_command(pipeline, settings, tmp_path, monkeypatch, capsys):
    import asyncio

    import yaml

    from monitor.cli import main

    pipeline.clock.set(at("2026-12-30T09:00"))
    worker = await pipeline.worker()
    event = await message_event(pipeline, worker, 5, "2026-12-30T10:00")
    tracking = tmp_path / "tracking.yaml"
    tracking.write_text(yaml.safe_dump({"version": 1, "calendar": {2027: {
        "holidays": ["2027-01-01", "2027-01-04"], "workdays": ["2027-01-10"]}}}))
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("MONITOR_KEY_PREFIX", settings.key_prefix)
    monkeypatch.setenv("MONITOR_LOG_LEVEL", "error")
    code = await asyncio.to_thread(main, ["recompute-deadlines", "--tracking", str(tracking)])
    assert code == 0
    out = capsys.readouterr().out
    assert "calendar known until 2027" in out and "1 due times changed" in out
    assert the(await worker.store.load(event.id)).due == at("2027-01-06T00:00")


async def test_each_message_of_a_wave_counts_as_its_own_recomputed_due_time(pipeline):
    pipeline.clock.set(at("2026-12-30T09:00"))
    worker = await pipeline.worker()
    event = await message_event(pipeline, worker, 6, "2026-12-30T10:00")
    # The same matter a day later: its old due time (6 Jan, provisional) is the first
    # message's new one, so a count by rule would miss a change.
    await pipeline.feed(worker, message(7, "2026-12-31T10:00"))
    event = await worker.store.load(event.id)
    assert [d.key for d in event.deadlines if d.provisional] == [
        f"message_2wd@board:{n:04d}" for n in (6, 7)]
    entered = pipeline.policy.model_copy(update={"calendar": {2027: Y2027}})
    result = await recompute_provisional(worker.store, entered, pipeline.clock.now())
    assert (result.events_checked, result.due_times_changed) == (1, 2)
