"""The 回应解读 section of the official statistics table (2018 report; DOMAIN.md "Response
channels"), counted by its definitions from the responses of a period:
- 回应公众关注热点或重大舆情数: events answered in the period, once each whatever the channel;
- 新闻发布会, 在线访谈, 政策解读稿件: the responses themselves (one conference answering two
  events is one conference), of which those a principal leader attended;
- 微博微信回应事件数, 其他方式回应事件数: events answered through that channel.
Every figure keeps the ids of its events, so an officer can trace it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.domain.events import ResponseChannel
from monitor.report.model import OfficialLine

# The principal leader (主要负责同志) attended: named as such, or a head of government
# without 副 before the title.
_PRINCIPAL = re.compile(r"主要负责同志|主要负责人|(?<!副)(?:省长|州长|市长|县长|区长)")


def leader_attended(title: str) -> bool:
    return bool(_PRINCIPAL.search(title or ""))


def _principal(response: dict) -> bool:
    """As the officer recorded it, else as the title says."""
    recorded = response.get("principal_attended")
    return leader_attended(response["title"]) if recorded is None else bool(recorded)


def official_lines(responses: Iterable[dict]) -> list[OfficialLine]:
    """`responses`: linked responses in the period (event_id, response_id, channel, title,
    link)."""
    rows = list(responses)

    def events(channel: str | None = None) -> list[str]:
        return sorted({r["event_id"] for r in rows if channel in (None, r["channel"])})

    def pieces(channel: str, leader: bool = False) -> tuple[int, list[str]]:
        chosen = [r for r in rows if r["channel"] == channel
                  and (not leader or _principal(r))]
        distinct = {r["link"] or r["response_id"] for r in chosen}
        return len(distinct), sorted({r["event_id"] for r in chosen})

    def line(label: str, unit: str, counted: tuple[int, list[str]]) -> OfficialLine:
        return OfficialLine(label, unit, counted[0], counted[1])

    answered = events()
    return [
        OfficialLine("(一) 回应公众关注热点或重大舆情数 (不同方式回应同一热点或舆情计1次)", "次",
                     len(answered), answered),
        line("1. 参加或举办新闻发布会总次数", "次", pieces(ResponseChannel.PRESS_CONFERENCE)),
        line("其中：主要负责同志参加新闻发布会次数", "次",
             pieces(ResponseChannel.PRESS_CONFERENCE, leader=True)),
        line("2. 政府网站在线访谈次数", "次", pieces(ResponseChannel.INTERVIEW)),
        line("其中：主要负责同志参加政府网站在线访谈次数", "次",
             pieces(ResponseChannel.INTERVIEW, leader=True)),
        line("3. 政策解读稿件发布数", "篇", pieces(ResponseChannel.POLICY_INTERPRETATION)),
        OfficialLine("4. 微博微信回应事件数", "次",
                     len(e := events(ResponseChannel.WEIBO_WECHAT)), e),
        OfficialLine("5. 其他方式回应事件数", "次", len(o := events(ResponseChannel.OTHER)), o),
    ]
