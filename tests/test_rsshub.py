"""Weibo, WeChat and message boards through RSSHub: routes resolved against RSSHUB_URL (with
failover to the next instance), posts read into items (a title from the first sentence, the
repost kept apart, pictures by their alt text), and what the tracker makes of them."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from monitor.config import load_settings, resolve_routes
from monitor.domain.events import DeadlineState
from monitor.history.consumer import HistoryConsumer
from monitor.history.writer import HistoryWriter
from monitor.models import Item
from monitor.report.build import build_report
from monitor.report.period import parse_month
from tests.fakesite import Document
from tests.helpers import feeds
from tests.history.conftest import history, history_url  # noqa: F401 (fixtures)
from tests.test_collect import collector_for, poll_all
from tests.track.conftest import pipeline  # noqa: F401 (fixture)

pytestmark = pytest.mark.redis

FIXTURES = Path(__file__).with_name("testdata") / "rsshub"
WEIBO, WECHAT, BOARD = "/weibo/user/5011111111", "/wechat/ce/595a5b14d7164e53908f5f3e", \
    "/people/liuyan/530000"
SOURCES = (
    {"id": "yn-yjgl-weibo", "name": "云南应急管理", "rsshub": WEIBO, "official": True,
     "channel": "weibo"},
    {"id": "yn-fabu-wechat", "name": "云南发布", "rsshub": WECHAT, "official": True,
     "channel": "wechat"},
    {"id": "yn-liuyan", "name": "领导留言板（云南）", "rsshub": BOARD, "official": True,
     "channel": "message_board"},
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once it is closed


@pytest.fixture
def rsshub(site):
    """The fake site as an RSSHub instance serving three routes."""
    for route, name in ((WEIBO, "weibo_user"), (WECHAT, "wechat_account"),
                        (BOARD, "message_board")):
        site.put(route, Document((FIXTURES / f"{name}.xml").read_bytes()))
    return site


async def collect(rsshub, settings, redis, clock, rng, bases: list[str]) -> dict[str, list[Item]]:
    resolved, unresolved = resolve_routes(feeds(*SOURCES), bases)
    assert unresolved == []
    sources = [s.model_dump(mode="json", exclude_none=True) for s in resolved.sources]
    async with collector_for(settings, redis, clock, rng, *sources) as c:
        outcomes = await poll_all(c, clock)
    assert {o.outcome for o in outcomes.values()} == {"ok"}, outcomes
    return {sid: sorted(o.new_items, key=lambda i: i.published) for sid, o in outcomes.items()}


async def test_routes_fail_over_to_the_next_instance(rsshub, settings, redis, clock, rng):
    dead = f"http://127.0.0.1:{closed_port()}"
    items = await collect(rsshub, settings, redis, clock, rng, [dead, rsshub.url("")])
    assert [len(items[s["id"]]) for s in SOURCES] == [4, 1, 2]
    assert all(h.path in (WEIBO, WECHAT, BOARD) for h in rsshub.hits)


async def test_weibo_posts_become_items(rsshub, settings, redis, clock, rng):
    post, pictures, repost, deleted = (await collect(
        rsshub, settings, redis, clock, rng, [rsshub.url("")]))["yn-yjgl-weibo"]
    # a title from the first sentence, not RSSHub's cut-off text
    assert post.title == "【情况通报】11月16日9时许，会泽县者海镇一化工厂发生爆炸，已造成2人死亡"
    assert "[加油]" in post.summary and "（https://yjglt.yn.gov.cn/html/2026/tb/1116.html）" \
        in post.summary  # emoji by its name, a link's address kept beside its words
    assert post.summary.count("[图片]") == 1  # the hidden 0×0 copy is not a second picture
    assert post.published.isoformat() == "2026-11-16T03:30:00+00:00"
    assert post.official and post.channel == "weibo" and not post.reposts_own
    assert pictures.title == pictures.summary == "[图片][图片：防汛演练现场]"  # pictures only
    # a repost of its own earlier post: its words apart from what it reposts
    assert repost.title == "再次提醒" and repost.summary == "再次提醒！"
    assert repost.quoted.startswith("【情况通报】11月16日9时许") and repost.reposts_own
    # a repost of a deleted post keeps the account's words and says what is gone
    assert deleted.summary == "转发微博" and "此微博已被作者删除" in deleted.quoted
    assert not deleted.reposts_own


async def test_a_wechat_article_keeps_its_title(rsshub, settings, redis, clock, rng):
    [article] = (await collect(rsshub, settings, redis, clock, rng,
                               [rsshub.url("")]))["yn-fabu-wechat"]
    assert article.title == "关于会泽县者海镇化工厂爆炸事故救援进展的情况通报"
    assert article.summary.startswith("11月16日9时许") and "[图片：救援现场]" in article.summary


async def test_a_board_holds_messages_and_its_answers(rsshub, settings, redis, clock, rng):
    message, answer = (await collect(rsshub, settings, redis, clock, rng,
                                     [rsshub.url("")]))["yn-liuyan"]
    assert not message.official and answer.official  # the board is official, messages are not
    assert answer.title.startswith("答复：")


def test_routes_without_rsshub_url_are_named(tmp_path, monkeypatch, capsys):
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"sources": [
        {"id": "site", "name": "网站", "url": "https://www.yn.gov.cn/rss.xml"},
        *[{k: v for k, v in s.items()} for s in SOURCES]]}, allow_unicode=True))
    monkeypatch.delenv("RSSHUB_URL", raising=False)
    assert main(["check-config", "--feeds", str(path)]) in (0, 1)
    err = capsys.readouterr().err
    assert "3 source(s) are RSSHub routes and RSSHUB_URL is not set" in err
    assert "yn-yjgl-weibo, yn-fabu-wechat, yn-liuyan" in err
    resolved, unresolved = resolve_routes(feeds({"id": "w", "rsshub": WEIBO}),
                                          load_settings(RSSHUB_URL="http://a:1200/,http://b:1200")
                                          .rsshub_bases)
    [source] = resolved.sources
    assert (source.url, source.mirrors, unresolved) == (
        "http://a:1200" + WEIBO, ("http://b:1200" + WEIBO,), [])


@pytest.mark.parametrize("source, problem", [
    ({"id": "x", "name": "x"}, "give url (an address) or rsshub (a route)"),
    ({"id": "x", "name": "x", "url": "https://a.cn/f.xml", "rsshub": WEIBO},
     "not both"),
    ({"id": "x", "name": "x", "rsshub": "https://rsshub.app/weibo/user/1"},
     "is not an RSSHub route"),
])
def test_bad_route_lines_are_explained(source, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        feeds(source)


async def test_the_cli_polls_a_route_through_rsshub(rsshub, tmp_path, monkeypatch, settings,
                                                    capsys):
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"sources": [{**SOURCES[0], "allow_private": True}]},
                                   allow_unicode=True))
    monkeypatch.setenv("RSSHUB_URL", rsshub.url(""))
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("MONITOR_KEY_PREFIX", settings.key_prefix)
    code = await asyncio.to_thread(main, ["poll", "yn-yjgl-weibo", "--feeds", str(path)])
    assert code == 0 and "4 entries" in capsys.readouterr().out


async def test_a_boards_answered_list_gives_answers(rsshub, settings, redis, clock, rng):
    answered = {"id": "yn-liuyan-answered", "name": "领导留言板（云南，已办理）",
                "url": rsshub.url(BOARD), "channel": "message_board", "answers": True,
                "official": True}
    async with collector_for(settings, redis, clock, rng, answered) as c:
        outcome = (await poll_all(c, clock))["yn-liuyan-answered"]
    titles = sorted(i.title for i in outcome.new_items)
    assert titles == ["答复：昆明市盘龙区某小区物业擅自提高物业费"] * 2  # never "答复：答复："
    assert all(i.official and i.published == clock.now() for i in outcome.new_items)


@pytest.mark.sql
async def test_a_weibo_post_through_rsshub_answers_and_counts_under_weibo(
        rsshub, settings, redis, clock, rng, pipeline, history):  # noqa: F811
    """End to end: the news of an explosion, then the emergency bureau's 情况通报 posted on
    Weibo and read through the fake RSSHub; the event's 48 h deadline is met by the post, and
    the month's official table counts it under 微博微信."""
    post = next(i for i in (await collect(rsshub, settings, redis, clock, rng,
                                          [rsshub.url("")]))["yn-yjgl-weibo"]
                if i.title.startswith("【情况通报】"))
    news = Item(id="outlet:1", source_id="outlet", source_name="outlet",
                title="会泽县者海镇一化工厂发生爆炸", summary="曲靖市会泽县者海镇一化工厂发生爆炸，有人员伤亡。",
                link="http://example.cn/1", published=post.published - timedelta(hours=2),
                fetched=post.published, official=False, channel="news")
    pipeline.clock.set(news.published)
    worker = await pipeline.worker()
    await pipeline.feed(worker, news, post)  # the collector put the post on the stream too
    event_id = (await worker.store.item_applied([news.id]))[news.id]
    event = await worker.store.load(event_id)
    # the post, and the WeChat article about the same explosion, both answer it
    assert f"r-{post.id}" in [r.id for r in event.responses]
    [deadline] = [d for d in event.deadlines if d.rule == "response_48h"]
    assert (deadline.state, deadline.met_at) == (DeadlineState.MET, post.published)
    await HistoryConsumer(pipeline.redis, pipeline.keys, worker.store,
                          HistoryWriter(history)).run_once()
    lines = {line.label: line for line in build_report(history, parse_month("2026-11")).official}
    assert lines["4. 微博微信回应事件数"].event_ids == [event_id]
