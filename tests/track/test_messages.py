"""Netizen messages about a matter that already has an event join it, and each keeps its own
2-working-day deadline, met by the reply to it; the matter's 48 h clock runs from its first
item."""

from __future__ import annotations

import pytest

from monitor.domain.alerts import AlertIntent
from monitor.domain.events import DeadlineState as S
from monitor.notify.render import compose
from tests.track.conftest import make_item

pytestmark = pytest.mark.redis

TEXT = "安宁市草铺街道一化工厂夜间排放刺鼻气味，周边居民反映头晕恶心，希望环保部门查处该化工厂违法排污。"
NEWS = make_item(1, "安宁草铺街道化工厂夜间排放刺鼻气味 居民投诉", TEXT, source="outlet")
FIRST = make_item(2, "草铺街道化工厂夜间排放刺鼻气味扰民", TEXT, hours=2, source="board",
                  channel="message_board")
SECOND = make_item(3, "安宁市草铺街道化工厂排污刺鼻 请求查处", TEXT, hours=5, source="board",
                   channel="message_board")
REPLY = make_item(4, "关于草铺街道化工厂夜间排放刺鼻气味扰民的回复",
                  "安宁市生态环境局已对草铺街道该化工厂开展现场检查，责令停产整改刺鼻气味排放问题。",
                  hours=26, source="board-reply", official=True, channel="message_board")


async def test_messages_join_the_matter_and_keep_their_own_deadlines(pipeline):
    worker = await pipeline.worker()
    await pipeline.feed(worker, NEWS, FIRST, SECOND)
    [event] = await worker.store.load_many(await worker.store.active_ids(0))
    assert event.item_count == 3  # one matter, not one event per message
    deadlines = {d.key: d for d in event.deadlines}
    first, second = f"message_2wd@{FIRST.id}", f"message_2wd@{SECOND.id}"
    assert set(deadlines) == {"response_48h", first, second}
    assert deadlines["response_48h"].due == NEWS.published.replace(day=18)  # from the news
    # Mon 16 Nov: each message is due at the end of Wed 18 Nov, from its own arrival.
    assert deadlines[first].start == FIRST.published
    await pipeline.feed(worker, REPLY)  # the reply answers the first message only
    event = await worker.store.load(event.id)
    states = {d.key: d.state for d in event.deadlines}
    assert states == {"response_48h": S.MET, first: S.MET, second: S.PENDING}
    assert event.responses[0].answers == (FIRST.id,)
    # Officers are told how long the answer took from the message (24 h), not from the news
    # report that opened the event (26 h); the monthly figures count the same span.
    [met] = [AlertIntent.model_validate_json(raw) for key, raw in await pipeline.alerts()
             if key.startswith(f"{event.id}:met:{first}:")]
    assert (met.response_seconds, met.response_since) == (24 * 3600, "收到留言")
    assert "用时：1天（自收到留言）" in "\n".join(
        line.text for line in compose(met, REPLY.published, "").lines)
    assert event.seconds_to_respond(next(d for d in event.deadlines if d.key == first)) == \
        24 * 3600
