"""What officers correct reaches the history's feedback table, under the verbs the actions
really write (the table stayed empty while its map named verbs no action used), and a
waived event counts as closed from the moment it was waived."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.history.rows import closed_at, feedback_rows
from monitor.track.actions import Actions
from tests.track.conftest import make_item, pipeline  # noqa: F401

pytestmark = pytest.mark.redis


async def test_officers_corrections_become_feedback_labels(pipeline):  # noqa: F811
    worker = await pipeline.worker()
    await pipeline.feed(
        worker,
        make_item(1, "多地反映减税降费政策落实不到位", "小微企业反映减税降费政策落实不到位。",
                  source="a"),
        make_item(2, "盘龙区某小区物业擅自提高物业费", "昆明市盘龙区物业公司擅自上涨物业费。",
                  hours=0.5, source="board", channel="message_board"),
        make_item(3, "五华区一小区电梯频繁故障困人", "昆明市五华区某小区电梯多次困人。",
                  hours=0.7, source="board", channel="message_board"))
    first, second, third = [r.decode() for r in await pipeline.redis.zrange(
        pipeline.keys.events_by_first_seen, 0, -1)]
    actions, now = Actions(worker.store, worker.tracker), pipeline.clock.now()
    await actions.correct(first, "topic", "营商环境", "值班员张三", now, "反映的是涉企政策落实")
    await actions.correct(first, "region", "昆明", "值班员张三", now)
    event = await actions.merge(third, second, "科长李四", now, "同一小区物业问题")
    labels = {(r["label"], r["who"]) for r in feedback_rows(event)}
    assert ("grouping", "科长李四") in labels

    waived_at = now + timedelta(hours=2)
    waived = await actions.no_response_needed(first, "值班员张三", waived_at, "已由热线办结")
    assert [r["label"] for r in feedback_rows(waived)] == ["topic", "region", "needs_response"]
    assert closed_at(waived) == waived_at
    machine = [h.who for h in waived.history if h.what == "opened"]
    assert machine and not any(r["who"] == machine[0] for r in feedback_rows(waived))
