"""Real netizen messages and the government's replies to them (Teddy Cup 2020,
messages_with_replies.tsv), as a message board publishes them: each reply lands on its own
message, and each message's 2-working-day clock is the official calendar's, as computed here
with chinesecalendar directly (not with the tracker's own code)."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta

import pytest
from chinese_calendar import is_workday

from monitor.collect.normalize import CHINA_TZ
from monitor.collect.social import is_board_reply
from monitor.domain.events import DeadlineState
from monitor.models import Item
from tests.conftest import SHARED_DATA, needs_shared_data

pytestmark = [pytest.mark.redis, needs_shared_data]

REPLIES = SHARED_DATA / "tipdm2020" / "messages_with_replies.tsv"
PAIRS = 24  # the first pairs answered within 20 days (within the answer window)


def when(text: str) -> datetime:
    return datetime.strptime(text.strip().replace("/", "-"), "%Y-%m-%d %H:%M:%S") \
        .replace(tzinfo=CHINA_TZ)


def board_item(n: int, title: str, text: str, at: datetime, *, reply: bool) -> Item:
    return Item(id=f"board:{n}{'r' if reply else 'm'}", source_id="board", source_name="留言板",
                title=title, summary=text[:600], link=f"http://liuyan.example.cn/{n}",
                published=at, fetched=at, official=reply, channel="message_board")


def pairs() -> list[tuple[Item, Item]]:
    found = []
    with REPLIES.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            asked, answered = when(row["留言时间"]), when(row["答复时间"])
            if answered - asked > timedelta(days=20):
                continue
            n, subject = row["留言编号"].strip(), row["留言主题"].strip()
            found.append((board_item(n, subject, row["留言详情"], asked, reply=False),
                          board_item(n, f"答复：{subject}", row["答复意见"], answered,
                                     reply=True)))
            if len(found) == PAIRS:
                return found
    return found


def two_working_days_after(moment: datetime) -> datetime:
    """End of the second official working day after the day of `moment` (Beijing)."""
    day, counted = moment.astimezone(CHINA_TZ).date(), 0
    while counted < 2:
        day += timedelta(days=1)
        counted += is_workday(day)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)


async def test_each_reply_lands_on_its_message_on_the_official_calendar(pipeline):
    found = pairs()
    assert len(found) == PAIRS and all(is_board_reply(r.title) for _, r in found)
    items = sorted((i for p in found for i in p), key=lambda i: i.published)
    pipeline.clock.set(items[0].published)  # the board's own years (2017–2019)
    worker = await pipeline.worker()
    await pipeline.feed(worker, *items)
    outcomes = {"met": 0, "met_late": 0}
    for message, reply in found:
        event_id = (await worker.store.item_applied([message.id]))[message.id]
        event = await worker.store.load(event_id)
        [deadline] = [d for d in event.deadlines
                      if d.rule == "message_2wd" and d.subject == message.id]
        due = two_working_days_after(message.published)
        assert deadline.due == due, message.title
        answering = [r for r in event.responses if message.id in r.answers]
        assert [r.id for r in answering] == [f"r-{reply.id}"], message.title
        expected = DeadlineState.MET if reply.published <= due else DeadlineState.MET_LATE
        assert (deadline.state, deadline.met_at) == (expected, reply.published), message.title
        outcomes[expected.value] += 1
    assert outcomes["met"] >= 3 and outcomes["met_late"] >= 3  # both outcomes were checked


def test_the_oracle_knows_the_swapped_working_weekends():
    # 2019-04-28 (a Sunday) was a working day before May Day; 2019-05-01..04 were off.
    assert two_working_days_after(datetime(2019, 4, 26, 10, tzinfo=CHINA_TZ)) == \
        datetime(2019, 4, 30, tzinfo=CHINA_TZ)
    assert is_workday(date(2019, 4, 28)) and not is_workday(date(2019, 5, 2))
