"""Chinese messages for officers, rendered per platform within each platform's byte limit.

An alert becomes a `Section` (a title, a few lines, the event page link): `compose` decides
the words, once, for every platform. `render` lays one or more sections out as the payload of
a platform (WeCom/DingTalk markdown, Feishu rich text, Slack mrkdwn, generic JSON), escaping
text so an event title cannot break the markup, and fits as many sections as the platform's
size limit allows; the caller sends the rest in the next message.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.domain.alerts import AlertIntent, AlertKind, DeadlineView
from monitor.domain.events import DEADLINE_STATE_WORDS, OWED_STATES, DeadlineState
from monitor.notify.config import Platform

CHINA = ZoneInfo("Asia/Shanghai")

# Bytes of the part each platform measures (WeCom: markdown content; DingTalk: not stated by
# the platform, so WeCom's figure is used; Feishu: the whole request body; Slack: Slack cuts
# messages after 4,000 characters, so keep below that in bytes; webhook: our own cap).
LIMITS = {
    Platform.WECOM: 4096,
    Platform.DINGTALK: 4096,
    Platform.FEISHU: 20 * 1000,
    Platform.SLACK: 4000,
    Platform.WEBHOOK: 64 * 1024,
}

_HEAD = {
    AlertKind.NEW_EVENT: "新舆情待回应",
    AlertKind.SEVERITY_RAISED: "级别上调",
    AlertKind.SEVERITY_LOWERED: "级别下调",
    AlertKind.DEADLINE_DUE_SOON: "回应时限将到",
    AlertKind.DEADLINE_MISSED: "回应已超时",
    AlertKind.RESPONSE_DETECTED: "已回应",
    AlertKind.EVENTS_MERGED: "事件合并",
    AlertKind.DAILY_SUMMARY: "每日汇总",
    AlertKind.OPERATIONS: "运维告警",
    AlertKind.TEST: "测试消息",
}
_OPS_STATUS = {"firing": "告警中", "resolved": "已恢复"}
_LEVEL = {"特别重大": "Ⅰ级", "重大": "Ⅱ级", "较大": "Ⅲ级", "一般": "Ⅳ级"}
# The words of each count classifiers/severity.py extracts, most grave first. Each says no
# more than the text did: "3人受伤" is 受伤, never 重伤 (重伤 is a grading criterion and
# only `serious_injuries` — the text said 重伤/伤势严重/危重 — may be called that); a loss is
# 损失 whether the text said 直接经济损失 or 财产损失.
_EVIDENCE = {"deaths": ("死亡", "人"), "missing": ("失踪或失联", "人"),
             "serious_injuries": ("重伤", "人"), "poisoned": ("中毒", "人"),
             "injured": ("受伤", "人"), "trapped": ("被困", "人"),
             "direct_loss_wan": ("损失", "万元"), "magnitude": ("", "级地震")}
_SUMMARY = {"open": "未结事件", "due_soon": "将到期", "met_today": "今日按时回应",
            "missed_today": "今日超时", "met_late_today": "今日超时后回应", "new_today": "今日新增"}


@dataclass(frozen=True)
class Line:
    text: str
    link: str | None = None  # the whole line is the link's text


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[Line, ...]
    url: str | None = None  # the event page


# ---------------------------------------------------------------- words (platform-neutral)

def event_url(base_url: str, event_id: str | None) -> str | None:
    if not event_id:
        return None
    return f"{base_url.rstrip('/')}/events/{urllib.parse.quote(event_id, safe='')}"


def compose(intent: AlertIntent, now: datetime, base_url: str, *, repeat: int = 0,
            possible_duplicate: bool = False) -> Section:
    """The words of one alert; `now` is when it is sent (for "time left")."""
    head = _HEAD[intent.kind]
    if intent.operations is not None and intent.operations.status == "resolved":
        head += "已恢复"
    if repeat:
        head += f"（第{repeat + 1}次提醒）"
    title = f"【{head}】{intent.title}".strip() if intent.kind != AlertKind.DAILY_SUMMARY \
        else f"【{head}】{_day(intent.at)}"
    lines: list[Line] = []
    if possible_duplicate:
        lines.append(Line("⚠ 上次发送结果未知，本条可能与之前的消息重复"))
    lines += _BODY[intent.kind](intent, now)
    url = intent.url or event_url(base_url, intent.event_id)
    return Section(title, tuple(line for line in lines if line.text), url)


def _facts(intent: AlertIntent) -> list[Line]:
    parts = []
    if intent.topic:
        parts.append(f"专题：{intent.topic}")
    if intent.severity:
        parts.append(f"级别：{intent.severity}（{_LEVEL.get(intent.severity, '?')}）")
    if intent.incident:
        parts.append(f"类型：{intent.incident}")
    lines = [Line("；".join(parts))] if parts else []
    evidence = _evidence(intent.severity_evidence)
    if evidence:
        lines.append(Line(f"依据：{evidence}"))
    where = " ".join(x for x in (intent.region, intent.county) if x)
    if where:
        lines.append(Line(f"地区：{where}"))
    if intent.first_seen:
        lines.append(Line(f"首次发现：{_local(intent.first_seen)}"))
    return lines


def _deadlines(deadlines: Sequence[DeadlineView], now: datetime) -> list[Line]:
    lines = []
    for d in deadlines:
        if d.state == DeadlineState.SUPERSEDED:  # a stricter clock replaced it: not owed
            continue
        state = DEADLINE_STATE_WORDS.get(d.state, d.state)
        left = f"，{_left(d.due, now)}" if d.state in OWED_STATES else ""
        lines.append(Line(f"时限：{d.label}，截止 {_local(d.due)}（{state}{left}）"))
        lines += _provisional(d)
    return lines


def _provisional(view: DeadlineView | None) -> list[Line]:
    """A due time counted Monday–Friday says so: it may move once the year is entered."""
    return [Line(f"⚠ {view.provisional_reason}")] if view and view.provisional_reason else []


def _new_event(intent: AlertIntent, now: datetime) -> list[Line]:
    return _facts(intent) + _deadlines(intent.deadlines, now)


def _raised(intent: AlertIntent, now: datetime) -> list[Line]:
    change = f"级别：{intent.previous_severity or '未定级'} → {intent.severity or '未定级'}"
    rest = [line for line in _facts(intent) if not line.text.startswith("专题")]
    topic = [Line(f"专题：{intent.topic}")] if intent.topic else []
    return [Line(change), *topic, *rest, *_deadlines(intent.deadlines, now)]


def _lowered(intent: AlertIntent, now: datetime) -> list[Line]:
    """As a raise reads, with the reason after the change of grade."""
    change, *rest = _raised(intent, now)
    why = [Line(f"原因：{intent.lowered_why}")] if intent.lowered_why else []
    return [change, *why, *rest]


def _deadline_line(intent: AlertIntent, now: datetime) -> list[Line]:
    view = next((d for d in intent.deadlines if d.rule == intent.rule), None)
    label = view.label if view else (intent.rule or "回应时限")
    due = intent.due or (view.due if view else None)
    if due is None:
        return [Line(f"时限：{label}")]
    return [Line(f"时限：{label}，截止 {_local(due)}"), *_provisional(view), Line(_left(due, now))]


def _due_soon(intent: AlertIntent, now: datetime) -> list[Line]:
    return _deadline_line(intent, now) + _facts(intent)


def _missed(intent: AlertIntent, now: datetime) -> list[Line]:
    return _deadline_line(intent, now) + _facts(intent)


def _responded(intent: AlertIntent, now: datetime) -> list[Line]:
    view = next((d for d in intent.deadlines if d.rule == intent.rule), None)
    label = view.label if view else (intent.rule or "回应时限")
    state = DEADLINE_STATE_WORDS.get(view.state, view.state) if view else "已回应"
    lines = [Line(f"时限：{label}（{state}）")]
    if intent.response_channel:
        lines.append(Line(f"回应渠道：{intent.response_channel}"))
    if intent.response_seconds is not None:
        took = timedelta(seconds=intent.response_seconds)
        lines.append(Line(f"用时：{_span(took)}（自{intent.response_since or '首次发现'}）"))
    elif intent.first_seen:
        lines.append(Line(f"用时：{_span(intent.at - intent.first_seen)}（自首次发现）"))
    if intent.response_link:
        lines.append(Line("回应原文", link=intent.response_link))
    return lines


def _merged(intent: AlertIntent, now: datetime) -> list[Line]:
    """One matter was being followed as two events: say which, why, and the clocks now."""
    lines = [Line(f"并入：{intent.merged_title}")] if intent.merged_title else []
    if intent.merged_why:
        lines.append(Line(f"合并依据：{intent.merged_why}"))
    return lines + _facts(intent) + _deadlines(intent.deadlines, now)


def _summary(intent: AlertIntent, now: datetime) -> list[Line]:
    counts = [f"{_SUMMARY.get(k, k)} {v}" for k, v in intent.summary.items()]
    lines = [Line("；".join(counts))] if counts else []
    return lines + [Line(f"· {text}") for text in intent.summary_lines]


def _operations(intent: AlertIntent, now: datetime) -> list[Line]:
    """A Prometheus alert about the service: which, where, since when, and what to do."""
    ops = intent.operations
    if ops is None:
        return []
    level = f"（{ops.severity}）" if ops.severity else ""
    lines = [Line(f"状态：{_OPS_STATUS[ops.status]}"), Line(f"告警：{ops.alertname}{level}")]
    if ops.instance:
        lines.append(Line(f"实例：{ops.instance}"))
    lines.append(Line(f"开始：{_local(ops.starts_at)}"))
    if ops.status == "resolved" and ops.ends_at:
        lasted = _span(ops.ends_at - ops.starts_at)
        lines.append(Line(f"恢复：{_local(ops.ends_at)}（持续 {lasted}）"))
    if ops.description:
        lines.append(Line(f"说明：{ops.description}"))
    return lines


def _test(intent: AlertIntent, now: datetime) -> list[Line]:
    return [Line("机器人配置正常，可以收到舆情回应监测的提醒。"),
            Line(f"发送时间：{_local(now)}")]


_BODY: dict[AlertKind, Callable[[AlertIntent, datetime], list[Line]]] = {
    AlertKind.NEW_EVENT: _new_event,
    AlertKind.SEVERITY_RAISED: _raised,
    AlertKind.SEVERITY_LOWERED: _lowered,
    AlertKind.DEADLINE_DUE_SOON: _due_soon,
    AlertKind.DEADLINE_MISSED: _missed,
    AlertKind.RESPONSE_DETECTED: _responded,
    AlertKind.EVENTS_MERGED: _merged,
    AlertKind.DAILY_SUMMARY: _summary,
    AlertKind.OPERATIONS: _operations,
    AlertKind.TEST: _test,
}


def _evidence(evidence: dict[str, float]) -> str:
    """The extracted counts as officers read them ("死亡12人、受伤3人"), gravest first."""
    order = [k for k in _EVIDENCE if k in evidence] + [k for k in evidence if k not in _EVIDENCE]
    return "、".join(_count(key, evidence[key]) for key in order)


def _count(key: str, value: float) -> str:
    label, unit = _EVIDENCE.get(key, (key, ""))
    if unit == "万元" and value >= 10000:  # as the text would say it: 1.2亿元, not 12000万元
        value, unit = value / 10000, "亿元"
    return f"{label}{_number(value)}{unit}"


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _local(when: datetime) -> str:
    return when.astimezone(CHINA).strftime("%m月%d日 %H:%M")


def _day(when: datetime) -> str:
    local = when.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日"


def _span(delta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = (f"{days}天" if days else "") + (f"{hours}小时" if hours else "")
    return text + (f"{mins}分钟" if mins or not text else "")


def _left(due: datetime, now: datetime) -> str:
    if due >= now:
        return f"剩余 {_span(due - now)}"
    return f"已超时 {_span(now - due)}"


# ---------------------------------------------------------------- layout (per platform)

_MD = str.maketrans({"*": "＊", "_": "＿", "[": "［", "]": "］", "`": "｀", "<": "＜",
                     ">": "＞", "#": "＃", "~": "～", "|": "｜", "\\": "＼",
                     "\n": " ", "\r": " "})
_SLACK = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "*": "＊", "_": "＿",
                        "~": "～", "`": "｀", "|": "｜", "\n": " ", "\r": " "})


def md_escape(text: str) -> str:
    """Markdown special characters become their full-width forms: safe on WeCom and DingTalk
    (neither documents backslash escapes) and natural in Chinese text."""
    return text.translate(_MD)


def slack_escape(text: str) -> str:
    return text.translate(_SLACK)


def safe_url(url: str) -> str:
    """Percent-encode what could end a markdown link or a Slack <url|text>."""
    return urllib.parse.quote(url, safe=":/?#&=%+@,;!$'.-_~")


def _md_section(s: Section, bold: Callable[[str], str], sep: str) -> str:
    out = [bold(md_escape(s.title))]
    for line in s.lines:
        text = md_escape(line.text)
        out.append(f"[{text}]({safe_url(line.link)})" if line.link else text)
    if s.url:
        out.append(f"[查看事件]({safe_url(s.url)})")
    return sep.join(out)


def _slack_section(s: Section) -> str:
    out = [f"*{slack_escape(s.title)}*"]
    for line in s.lines:
        text = slack_escape(line.text)
        out.append(f"<{safe_url(line.link)}|{text}>" if line.link else text)
    if s.url:
        out.append(f"<{safe_url(s.url)}|查看事件>")
    return "\n".join(out)


def _plain_section(s: Section) -> str:
    out = [s.title, *(f"{ln.text} {ln.link}" if ln.link else ln.text for ln in s.lines)]
    if s.url:
        out.append(f"查看事件：{s.url}")
    return "\n".join(out)


def _feishu_paragraphs(s: Section, with_title: bool) -> list[list[dict]]:
    paras: list[list[dict]] = [[{"tag": "text", "text": s.title}]] if with_title else []
    for line in s.lines:
        paras.append([{"tag": "a", "text": line.text, "href": line.link}] if line.link
                     else [{"tag": "text", "text": line.text}])
    if s.url:
        paras.append([{"tag": "a", "text": "查看事件", "href": s.url}])
    return paras


def digest_title(count: int) -> str:
    return f"【舆情提醒汇总】共{count}条"


def _with_keyword(title: str, keyword: str | None) -> str:
    return title if not keyword or keyword in title else f"{keyword}｜{title}"


@dataclass(frozen=True)
class Rendered:
    payload: dict
    count: int  # how many of the given sections it carries (the first `count`)
    title: str
    size: int  # bytes of the measured part


def render(platform: Platform, sections: Sequence[Section], *, keyword: str | None = None,
           extra: Callable[[int], dict] | None = None) -> Rendered:
    """Lay out as many of `sections` as fit into one message of `platform`.

    One section is one alert; several make a digest with its own heading. A single section
    too large for the platform keeps its first lines and says the rest is on the event page.
    `extra(count)` adds fields to a generic webhook payload (the alerts themselves)."""
    if not sections:
        raise ValueError("nothing to render")
    limit = LIMITS[platform]
    count = len(sections)
    while count > 0:
        rendered = _build(platform, sections[:count], keyword, extra)
        if rendered.size <= limit:
            return rendered
        count = _shrink(count, rendered.size, limit)
    return _truncated(platform, sections[0], keyword, extra, limit)


def _shrink(count: int, size: int, limit: int) -> int:
    if count == 1:
        return 0
    estimate = int(count * limit / size)
    return max(1, min(count - 1, estimate))


def _truncated(platform: Platform, section: Section, keyword: str | None,
               extra: Callable[[int], dict] | None, limit: int) -> Rendered:
    """Keep as many first lines as fit (binary search), then a note."""
    note = Line("……（内容过长，其余见事件页）")

    def with_lines(n: int) -> Rendered:
        return _build(platform, [replace(section, lines=(*section.lines[:n], note))], keyword,
                      extra)

    low, high = 0, len(section.lines)  # with_lines(low) is assumed to fit
    while low < high:
        middle = (low + high + 1) // 2
        if with_lines(middle).size <= limit:
            low = middle
        else:
            high = middle - 1
    rendered = with_lines(low)
    if rendered.size <= limit:
        return rendered
    short = replace(section, title=section.title[:60], lines=(note,))
    return _build(platform, [short], keyword, extra)


def _build(platform: Platform, sections: Sequence[Section], keyword: str | None,
           extra: Callable[[int], dict] | None) -> Rendered:
    single = len(sections) == 1
    title = _with_keyword(sections[0].title if single else digest_title(len(sections)), keyword)
    if single:
        sections = [replace(sections[0], title=title)]
    if platform in (Platform.WECOM, Platform.DINGTALK):
        sep = "\n" if platform == Platform.WECOM else "\n\n"
        bold = (lambda t: f"**{t}**") if platform == Platform.WECOM else (lambda t: f"#### {t}")
        parts = [_md_section(s, bold, sep) for s in sections]
        if not single:
            parts.insert(0, bold(md_escape(title)))
        text = ("\n\n" if platform == Platform.WECOM else "\n\n---\n\n").join(parts)
        if platform == Platform.WECOM:
            payload = {"msgtype": "markdown", "markdown": {"content": text}}
        else:
            payload = {"msgtype": "markdown",
                       "markdown": {"title": md_escape(title)[:64], "text": text}}
        return Rendered(payload, len(sections), title, len(text.encode()))
    if platform == Platform.FEISHU:
        paras: list[list[dict]] = []
        for s in sections:
            paras += _feishu_paragraphs(s, with_title=not single)
        payload = {"msg_type": "post",
                   "content": {"post": {"zh_cn": {"title": title, "content": paras}}}}
        # room for the signature fields added when sending
        size = len(json.dumps(payload, ensure_ascii=False).encode()) + 120
        return Rendered(payload, len(sections), title, size)
    if platform == Platform.SLACK:
        parts = [_slack_section(s) for s in sections]
        if not single:
            parts.insert(0, f"*{slack_escape(title)}*")
        text = "\n\n".join(parts)
        return Rendered({"text": text}, len(sections), title, len(text.encode()))
    text = "\n\n".join(([title] if not single else []) + [_plain_section(s) for s in sections])
    payload = {"version": 1, "title": title, "text": text, **(extra(len(sections)) if extra
                                                                else {})}
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    return Rendered(payload, len(sections), title, size)
