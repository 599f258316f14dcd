"""Official items as responses: which channel they answer through, and which official items
are policy documents that themselves start an interpretation clock."""

from __future__ import annotations

import re

from monitor.config import Channel
from monitor.domain.events import ResponseChannel
from monitor.models import Item

_BY_SOURCE_CHANNEL = {
    Channel.PRESS_CONFERENCE: ResponseChannel.PRESS_CONFERENCE,
    Channel.INTERVIEW: ResponseChannel.INTERVIEW,
    Channel.POLICY_INTERPRETATION: ResponseChannel.POLICY_INTERPRETATION,
    Channel.WEIBO: ResponseChannel.WEIBO_WECHAT,
    Channel.WECHAT: ResponseChannel.WEIBO_WECHAT,
}
# Cues in the text, strongest first: a website article announcing a press conference is a
# press-conference response; one titled 解读 is an interpretation.
_BY_TEXT = (
    (re.compile(r"新闻发布会|发布会|新闻通气会|吹风会"), ResponseChannel.PRESS_CONFERENCE),
    (re.compile(r"在线访谈|访谈"), ResponseChannel.INTERVIEW),
    (re.compile(r"政策解读|解读|答记者问|一图读懂"), ResponseChannel.POLICY_INTERPRETATION),
)
RESPONSE_CUES = re.compile(
    r"通报|情况说明|回应|答复|回复|发布会|说明|声明|澄清|辟谣|公告|处置|进展|权威发布|答记者问|解读"
    r"|处理情况|办理情况|办理结果|调查结果|核查情况|整改情况"
)
_POLICY_DOCUMENT = re.compile(
    r"(关于印发.{1,60}的通知|实施意见|实施方案|指导意见|管理办法|暂行办法|实施细则|条例|规定"
    r"|若干措施|行动计划)"
)


def response_channel(item: Item) -> ResponseChannel:
    if item.channel in _BY_SOURCE_CHANNEL:
        return _BY_SOURCE_CHANNEL[item.channel]
    text = f"{item.title} {item.summary[:200]}"
    for pattern, channel in _BY_TEXT:
        if pattern.search(text):
            return channel
    return ResponseChannel.OTHER


def response_cues(item: Item) -> tuple[str, ...]:
    """Words that mark an official item as an answer (通报, 情况说明, 回应 …)."""
    return tuple(dict.fromkeys(RESPONSE_CUES.findall(f"{item.title} {item.summary[:300]}")))


def is_policy_document(item: Item) -> bool:
    """A policy document published by an official source (not its interpretation)."""
    if not item.official or item.channel is Channel.POLICY_INTERPRETATION:
        return False
    if response_channel(item) is ResponseChannel.POLICY_INTERPRETATION:
        return False
    return bool(_POLICY_DOCUMENT.search(item.title))
