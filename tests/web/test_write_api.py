"""The write API over a real socket on the real store: every action with its history entry
naming the officer, auth failures, validation errors naming the field, a concurrent-edit
conflict, and idempotent retries."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from monitor.domain.events import DeadlineState, EventStatus
from monitor.store.desk import FeedbackStore
from tests.track.conftest import T0

pytestmark = pytest.mark.redis

OFFICER = "值班员张三"


async def post(http, desk, path, body, role="officer", headers=None):
    merged = {**(desk.auth(role) if role else {}), **(headers or {})}
    async with http.post(desk.url(path), json=body, headers=merged) as response:
        return response.status, await response.json()


async def version(desk, event_id):
    return (await desk.worker.store.load(event_id)).version


async def act(http, desk, event_id, action, **body):
    """One action on the current version; the saved event."""
    status, answer = await post(http, desk, f"/api/events/{event_id}/{action}",
                                {"version": await version(desk, event_id), **body})
    assert status == 200, answer
    return answer["event"]


def officer_entries(event: dict, who: str = OFFICER) -> list[tuple[str, str]]:
    return [(h["what"], h["why"]) for h in event["history"] if h["who"] == who]


async def test_acknowledge_writes_one_entry_and_stops_reminders(desk, http):
    event = await act(http, desk, desk.mine_id, "acknowledge", note="已转应急厅核实")
    assert event["status"] == "acknowledged"
    assert officer_entries(event) == [("acknowledged", "已转应急厅核实")]
    acked, _ = await desk.notifier.quiet.states({desk.mine_id})
    assert acked == {desk.mine_id}


async def test_the_version_an_action_needs_is_read_from_the_event(desk, http):
    """A client reads the event, then acts on the version it read (no private knowledge)."""
    async with http.get(desk.url(f"/api/events/{desk.mine_id}")) as response:
        seen = await response.json()
    assert seen["version"] == await version(desk, desk.mine_id)
    status, answer = await post(http, desk, f"/api/events/{desk.mine_id}/acknowledge",
                                {"version": seen["version"], "note": "已转应急厅核实"})
    assert status == 200 and answer["event"]["status"] == "acknowledged"


async def test_escalate_close_and_reopen(desk, http):
    await act(http, desk, desk.mine_id, "escalate", reason="死亡人数上升")
    await act(http, desk, desk.mine_id, "close", reason="已处置")
    _, resolved = await desk.notifier.quiet.states({desk.mine_id})
    assert resolved == {desk.mine_id}
    event = await act(http, desk, desk.mine_id, "reopen", reason="家属再次发帖")
    assert event["status"] == "open"
    assert officer_entries(event) == [("escalated", "死亡人数上升"), ("closed", "已处置"),
                                      ("reopened", "家属再次发帖")]
    assert await desk.notifier.quiet.states({desk.mine_id}) == (set(), set())


async def test_a_recorded_response_meets_the_deadline(desk, http):
    at = (T0 + timedelta(hours=2)).isoformat()
    event = await act(http, desk, desk.mine_id, "responses", channel="微博/微信", at=at,
                      link="https://weibo.com/zt/1", text="镇雄县通报透水事故情况",
                      publisher="镇雄县人民政府", principal_attended=False)
    [response] = event["responses"]
    assert response["principal_attended"] is False  # kept for the official table
    assert (response["recorded_by"], response["note"]) == (OFFICER,
                                                           "镇雄县人民政府：镇雄县通报透水事故情况")
    five_hours = next(d for d in event["deadlines"] if d["rule"] == "authoritative_info_5h")
    assert five_hours["state"] == DeadlineState.MET.value
    assert [w for w, _ in officer_entries(event)] == ["response_recorded"]
    # The page's deadline row names the response that met it and links to its row.
    async with http.get(desk.url(f"/events/{desk.mine_id}"), headers=desk.auth("officer")) as page:
        html = await page.text()
    row = html.split('data-rule="authoritative_info_5h"')[1].split("</tr>")[0]
    assert f'href="#response-{response["id"]}">微博/微信：' in row
    assert f'id="response-{response["id"]}"' in html


async def test_link_and_unlink_an_item_as_a_response(desk, http):
    stored = await desk.worker.store.load(desk.mine_id)
    item_id = stored.items[0].id
    event = await act(http, desk, desk.mine_id, "responses/link", item_id=item_id,
                      channel="其他", reason="县政府网站转载即通报")
    assert [r["id"] for r in event["responses"] if r["linked"]] == [f"r-{item_id}"]
    event = await act(http, desk, desk.mine_id, "responses/unlink",
                      response_id=f"r-{item_id}", reason="只是转载")
    assert not event["responses"][0]["linked"]
    assert [w for w, _ in officer_entries(event)] == ["response_linked", "response_unlinked"]
    status, answer = await post(http, desk, f"/api/events/{desk.mine_id}/responses/link",
                                {"version": event["version"]})
    assert (status, answer["field"]) == (400, "item_id")


async def test_no_response_needed_waives_the_deadlines(desk, http):
    event = await act(http, desk, desk.message_id, "no-response-needed", reason="重复留言")
    assert event["status"] == EventStatus.NO_RESPONSE_NEEDED.value
    assert {d["state"] for d in event["deadlines"]} == {"waived"}
    assert officer_entries(event) == [("marked_no_response_needed", "重复留言")]


async def test_a_correction_changes_the_event_and_is_kept_as_labelled_feedback(desk, http,
                                                                              pipeline):
    before = await desk.worker.store.load(desk.mine_id)
    event = await act(http, desk, desk.mine_id, "correct", field="severity", value="特别重大",
                      reason="死亡人数已达30人")
    assert event["severity"] == "特别重大" and event["severity_source"] == f"officer:{OFFICER}"
    assert officer_entries(event) == [
        ("corrected_severity", f"event: {before.severity} → 特别重大 死亡人数已达30人")]
    [label] = await FeedbackStore(pipeline.redis, pipeline.keys).all()
    assert (label["event_id"], label["field"], label["machine"], label["officer_value"],
            label["officer"], label["text"]) == (desk.mine_id, "severity", before.severity,
                                                 "特别重大", OFFICER, before.title)
    assert label["at"] == pipeline.clock.now().isoformat()
    status, answer = await post(http, desk, f"/api/events/{desk.mine_id}/correct",
                                {"version": event["version"], "field": "topic",
                                 "value": "不是专题"})
    assert (status, answer["field"]) == (400, "value") and "不是专题" in answer["message"]


async def test_merge_saves_both_events_and_split_undoes_it(desk, http):
    kept = await act(http, desk, desk.mine_id, "merge", into=desk.message_id,
                     reason="同一事项")
    assert kept["id"] == desk.message_id and kept["item_count"] == 2  # the earlier is kept
    gone = await desk.worker.store.load(desk.mine_id)
    assert (gone.status, gone.merged_into) == (EventStatus.MERGED, desk.message_id)
    assert any(h.who == OFFICER and h.what == "merged_into" for h in gone.history)
    mine_item = next(i["id"] for i in kept["items"] if not i["message"])
    new = await act(http, desk, desk.message_id, "split", item_ids=[mine_item],
                    reason="不是同一事项")
    assert [i["id"] for i in new["items"]] == [mine_item] and new["item_count"] == 1
    assert officer_entries(new) == [("split_from", f"{desk.message_id}: 1 items 不是同一事项")]
    rest = await desk.worker.store.load(desk.message_id)
    assert [i.id for i in rest.items] != [mine_item] and rest.item_count == 1
    assert mine_item not in {r.id for r in await desk.worker.store.item_refs(rest)}  # listed once
    assert [h.what for h in rest.history if h.who == OFFICER] == ["merged", "split_out"]


async def test_silences_for_an_event_a_topic_and_a_region(desk, http):
    body = {"scope": "event", "value": desk.mine_id, "hours": 4, "reason": "已电话通知"}
    status, answer = await post(http, desk, "/api/silences", body)
    assert status == 200 and answer["by"] == OFFICER
    status, answer = await post(http, desk, "/api/silences",
                                {**body, "scope": "region", "value": "昭通"})
    assert status == 403 and "admin" in answer["message"]
    status, _ = await post(http, desk, "/api/silences",
                           {**body, "scope": "region", "value": "昭通"}, role="admin")
    assert status == 200
    silences = await desk.notifier.silences()
    assert {(s.event_id, s.region, s.by) for s in silences} == {
        (desk.mine_id, None, OFFICER), (None, "昭通", "科长李四")}


async def test_auth_failures(desk, http):
    path = f"/api/events/{desk.mine_id}/acknowledge"
    body = {"version": await version(desk, desk.mine_id)}
    status, answer = await post(http, desk, path, body, role=None)
    assert status == 401 and "Bearer" in answer["message"]
    status, answer = await post(http, desk, path, body, role=None,
                                headers={"Authorization": "Bearer abcdef012345.wrong"})
    assert status == 401 and "not valid" in answer["message"]
    status, answer = await post(http, desk, path, body, role="viewer")
    assert status == 403 and "viewer" in answer["message"]
    assert (await desk.worker.store.load(desk.mine_id)).status is EventStatus.OPEN
    async with http.get(desk.url(f"/api/events/{desk.mine_id}")) as response:
        assert response.status == 200  # reads are open on loopback


async def test_validation_errors_name_the_field(desk, http):
    path = f"/api/events/{desk.mine_id}"
    v = await version(desk, desk.mine_id)
    cases = [
        ("escalate", {"version": v}, "reason", "Field required"),
        ("escalate", {"version": v, "reason": "  "}, "reason", "at least 1 character"),
        ("acknowledge", {"note": "x"}, "version", "Field required"),
        ("acknowledge", {"version": v, "nope": 1}, "nope", "Extra inputs"),
        ("responses", {"version": v, "channel": "电报", "at": T0.isoformat(), "text": "x"},
         "channel", "Input should be"),
        ("responses", {"version": v, "channel": "其他", "at": "2026-11-16T12:00",
                       "text": "x"}, "at", "timezone"),
        ("split", {"version": v, "item_ids": [], "reason": "x"}, "item_ids", "at least 1"),
    ]
    for action, body, field, words in cases:
        status, answer = await post(http, desk, f"{path}/{action}", body)
        assert (status, answer["field"]) == (400, field), (action, answer)
        assert words in answer["message"], answer
    async with http.post(desk.url(f"{path}/escalate"), data="{not json",
                         headers={**desk.auth(), "Content-Type": "application/json"}) as r:
        assert (r.status, (await r.json())["field"]) == (400, "body")
    status, answer = await post(http, desk, "/api/events/ev-nope/acknowledge", {"version": 0})
    assert status == 404 and "no event ev-nope" in answer["message"]
    assert (await desk.worker.store.load(desk.mine_id)).version == v  # nothing applied


async def test_a_concurrent_edit_is_a_conflict_with_the_current_version(desk, http):
    path = f"/api/events/{desk.mine_id}"
    v = await version(desk, desk.mine_id)
    results = await asyncio.gather(
        post(http, desk, f"{path}/acknowledge", {"version": v, "note": "我来"}),
        post(http, desk, f"{path}/escalate", {"version": v, "reason": "上报"},
             role="admin"))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409]
    conflict = next(answer for status, answer in results if status == 409)
    current = await desk.worker.store.load(desk.mine_id)
    assert conflict["current_version"] == current.version == v + 1
    assert conflict["event"]["status"] == current.status.value
    assert len([h for h in current.history if h.what in ("acknowledged", "escalated")]) == 1


async def test_an_idempotent_retry_gets_the_first_answer(desk, http):
    path = f"/api/events/{desk.mine_id}/responses"
    body = {"version": await version(desk, desk.mine_id), "channel": "新闻发布会",
            "at": (T0 + timedelta(hours=3)).isoformat(), "text": "召开新闻发布会"}
    key = {"Idempotency-Key": "rec-7f3a"}
    first = await post(http, desk, path, body, headers=key)
    again = await post(http, desk, path, body, headers=key)
    assert first[0] == again[0] == 200 and first[1] == again[1]
    stored = await desk.worker.store.load(desk.mine_id)
    assert len(stored.responses) == 1
    assert len([h for h in stored.history if h.what == "response_recorded"]) == 1
    status, _ = await post(http, desk, path, body, headers={"Idempotency-Key": "other"})
    assert status == 409  # a new key is a new request, on an old version


async def test_a_waiting_official_answer_is_linked_to_its_event_by_hand(desk, http, pipeline):
    from tests.track.test_orphans import NOTICE

    await pipeline.feed(desk.worker, NOTICE)
    assert [i.id for i in await desk.worker.orphans.all()] == [NOTICE.id]
    async with http.post(desk.url("/login"), data={"token": desk.tokens["officer"],
                                                   "next": f"/events/{desk.mine_id}"}) as page:
        assert f'<option value="{NOTICE.id}">' in await page.text()  # offered on the page
    event = await act(http, desk, desk.mine_id, "responses/link", item_id=NOTICE.id,
                      channel="其他", reason="县政府通报")
    [response] = event["responses"]
    assert (response["id"], response["title"], response["recorded_by"]) == (
        f"r-{NOTICE.id}", NOTICE.title, OFFICER)
    assert await desk.worker.orphans.all() == []


async def test_items_beyond_the_event_document_can_be_linked_corrected_and_split(desk, http,
                                                                                 pipeline):
    from monitor.domain.events import LEAD_REFS
    from tests.track.conftest import make_item

    reposts = [make_item(10 + n, "镇雄县一煤矿发生透水事故致12人死亡",
                         "昭通市镇雄县一煤矿透水事故12人死亡。", hours=1 + n / 10,
                         source=f"outlet{n}") for n in range(LEAD_REFS + 2)]
    await pipeline.feed(desk.worker, *reposts)
    stored = await desk.worker.store.load(desk.mine_id)
    listed = await desk.worker.store.item_refs(stored)
    late = [r for r in listed if r.id not in {i.id for i in stored.items}]
    assert len(late) >= 2  # the document keeps only the lead reports
    event = await act(http, desk, desk.mine_id, "correct", field="severity", value="重大",
                      item_id=late[0].id, reason="转载")
    [label] = await FeedbackStore(pipeline.redis, pipeline.keys).all()
    assert (label["item_id"], label["text"]) == (late[0].id, late[0].title)
    event = await act(http, desk, desk.mine_id, "responses/link", item_id=late[1].id,
                      reason="县政府转发")
    assert f"r-{late[1].id}" in [r["id"] for r in event["responses"]]
    new = await act(http, desk, desk.mine_id, "split", item_ids=[late[0].id], reason="另一事")
    assert [i["id"] for i in new["items"]] == [late[0].id]
    assert [r.id for r in await desk.worker.store.item_refs(
        await desk.worker.store.load(new["id"]))] == [late[0].id]
