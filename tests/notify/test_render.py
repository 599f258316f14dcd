"""Rendered messages: golden files per kind and platform, escaping, byte limits.

Golden files are written by the renderer and reviewed: `UPDATE_GOLDEN=1 pytest
tests/notify/test_render.py` rewrites them; otherwise any difference fails."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifiers.severity import assess
from monitor.domain.alerts import AlertIntent, AlertKind, DeadlineView, OperationsView
from monitor.notify.config import Platform
from monitor.notify.render import LIMITS, compose, md_escape, render, safe_url, slack_escape

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # 17:30 in Beijing
SEEN = datetime(2026, 11, 23, 6, 5, tzinfo=UTC)
BASE = "https://yq.example.gov.cn"


def _deadlines(state5: str = "pending", state24: str = "pending") -> tuple[DeadlineView, ...]:
    return (DeadlineView(rule="authoritative_info_5h", label="5小时内发布权威信息",
                         due=SEEN + timedelta(hours=5), state=state5),
            DeadlineView(rule="press_conference_24h", label="24小时内召开新闻发布会",
                         due=SEEN + timedelta(hours=24), state=state24))


EVENT = dict(event_id="evt-0042", title="昆明市五华区一化工厂爆炸", topic="社会治安",
             incident="事故灾难", severity="重大", severity_evidence={"deaths": 12, "injured": 3},
             region="昆明", county="五华区", first_seen=SEEN)

CASES = {
    "new_event": AlertIntent(key="evt-0042:new", kind=AlertKind.NEW_EVENT, at=SEEN,
                             deadlines=_deadlines(), **EVENT),
    "severity_raised": AlertIntent(key="evt-0042:sev", kind=AlertKind.SEVERITY_RAISED,
                                   at=SEEN + timedelta(hours=1), previous_severity="较大",
                                   deadlines=_deadlines(), **EVENT),
    "deadline_due_soon": AlertIntent(key="evt-0042:soon", kind=AlertKind.DEADLINE_DUE_SOON,
                                     at=NOW, rule="authoritative_info_5h",
                                     due=SEEN + timedelta(hours=5),
                                     deadlines=_deadlines("due_soon"), **EVENT),
    "deadline_missed": AlertIntent(key="evt-0042:missed", kind=AlertKind.DEADLINE_MISSED,
                                   at=NOW, rule="authoritative_info_5h",
                                   due=SEEN + timedelta(hours=2),
                                   deadlines=_deadlines("missed"), **EVENT),
    "response_detected": AlertIntent(
        key="evt-0042:met", kind=AlertKind.RESPONSE_DETECTED, at=SEEN + timedelta(hours=3),
        rule="authoritative_info_5h", deadlines=_deadlines("met"),
        response_link="https://www.km.gov.cn/c/2026-11-23/4781.shtml",
        response_channel="政府网站", **EVENT),
    "daily_summary": AlertIntent(
        key="daily_summary:2026-11-23", kind=AlertKind.DAILY_SUMMARY, at=NOW,
        summary={"open": 7, "met_today": 5, "missed_today": 1},
        summary_lines=("【重大】昆明市五华区一化工厂爆炸：5小时时限已超时",
                       "【一般】大理洱海蓝藻：48小时时限剩余 20小时")),
}
# The notice whose toll (12 dead) had raised the event went to its own matter when that opened.
CASES["severity_lowered"] = AlertIntent(
    key="evt-0042:lowered", kind=AlertKind.SEVERITY_LOWERED, at=SEEN + timedelta(hours=2),
    previous_severity="重大",
    lowered_why="关于镇雄县某采石场“11·16”坍塌事故的情况通报 属于另一事件："
                "镇雄县一采石场发生坍塌 12人死亡",
    deadlines=(DeadlineView(rule="response_48h", label="48小时内予以回应",
                            due=SEEN + timedelta(hours=48), state="pending"),),
    **{**EVENT, "severity": "一般", "severity_evidence": {"deaths": 1}})
OUTBOX_STUCK = OperationsView(
    status="firing", alertname="YqOutboxStuck", severity="critical", summary="告警发件箱停滞",
    description="3 alerts wait in the outbox and no robot took a message for 15 minutes; "
                "see `monitor outbox`.", instance="monitor:8080", starts_at=SEEN)
CASES["operations"] = AlertIntent(key="ops:4f2a:firing", kind=AlertKind.OPERATIONS, at=NOW,
                                  title=OUTBOX_STUCK.summary, operations=OUTBOX_STUCK)
CASES["operations_resolved"] = AlertIntent(
    key="ops:4f2a:resolved", kind=AlertKind.OPERATIONS, at=NOW, title=OUTBOX_STUCK.summary,
    operations=OUTBOX_STUCK.model_copy(update={"status": "resolved",
                                               "ends_at": SEEN + timedelta(minutes=95)}))


def _golden(name: str, payload: dict) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("platform", list(Platform), ids=str)
@pytest.mark.parametrize("case", sorted(CASES), ids=str)
def test_golden_single(case: str, platform: Platform) -> None:
    section = compose(CASES[case], NOW, BASE)
    rendered = render(platform, [section], extra=lambda n: {"alerts": [CASES[case].key]})
    assert rendered.count == 1 and rendered.size <= LIMITS[platform]
    _golden(f"{case}.{platform}", rendered.payload)


@pytest.mark.parametrize("platform", list(Platform), ids=str)
def test_golden_digest_and_repeat(platform: Platform) -> None:
    sections = [compose(CASES["deadline_missed"], NOW, BASE, repeat=2),
                compose(CASES["response_detected"], NOW, BASE, possible_duplicate=True)]
    rendered = render(platform, sections, keyword="舆情")
    assert rendered.count == 2
    _golden(f"digest.{platform}", rendered.payload)


def test_chinese_wording_per_kind() -> None:
    texts = {name: _text(compose(intent, NOW, BASE)) for name, intent in CASES.items()}
    assert "级别：重大（Ⅱ级）" in texts["new_event"]
    assert "依据：死亡12人、受伤3人" in texts["new_event"]
    assert "地区：昆明 五华区" in texts["new_event"]
    assert "首次发现：11月23日 14:05" in texts["new_event"]
    assert "级别：较大 → 重大" in texts["severity_raised"]
    assert "截止 11月23日 19:05" in texts["deadline_due_soon"]
    assert "剩余 1小时35分钟" in texts["deadline_due_soon"]  # 17:30 → 19:05
    assert "已超时 1小时25分钟" in texts["deadline_missed"]
    assert "回应渠道：政府网站" in texts["response_detected"]
    assert "今日超时 1" in texts["daily_summary"]
    assert "/events/evt-0042" in texts["new_event"]
    assert texts["operations"].startswith("【运维告警】告警发件箱停滞")
    assert "状态：告警中" in texts["operations"] and "告警：YqOutboxStuck（critical）" in \
        texts["operations"]
    assert "实例：monitor:8080" in texts["operations"] and "恢复" not in texts["operations"]
    assert texts["operations_resolved"].startswith("【运维告警已恢复】告警发件箱停滞")
    assert "恢复：11月23日 15:40（持续 1小时35分钟）" in texts["operations_resolved"]
    assert "/events/" not in texts["operations"]  # about the service, not an event


def test_a_raise_from_no_grade_lists_only_the_clocks_still_owed() -> None:
    """The first report gave no toll; the stricter clocks replaced the 48 h one, which the
    message leaves out (it is owed no more), and every state is said in Chinese."""
    superseded = DeadlineView(rule="response_48h", label="48小时内予以回应",
                              due=SEEN + timedelta(hours=48), state="superseded")
    intent = CASES["severity_raised"].model_copy(update={
        "previous_severity": None, "deadlines": (*_deadlines("due_soon"), superseded)})
    text = _text(compose(intent, NOW, BASE))
    assert "级别：未定级 → 重大" in text and "（临近时限，剩余" in text
    assert "48小时" not in text and "superseded" not in text


@pytest.mark.parametrize("source, shown", [
    ("化工厂爆炸，现场3人受伤", "依据：受伤3人"),
    ("造成6人死亡，3人重伤，14人轻微伤", "依据：死亡6人、重伤3人、受伤14人"),
    ("翻车事故致2死2伤", "依据：死亡2人、受伤2人"),
    ("死亡人数已升至12人，另有2人失联", "依据：死亡12人、失踪或失联2人"),
    ("东莞26名学生吃食堂发馊剩饭致食物中毒", "依据：中毒26人"),
    ("火灾造成直接经济损失1.2亿元", "依据：损失1.2亿元"),
    ("四川汶川县发生7.8级强烈地震", "依据：7.8级地震"),
], ids=str)
def test_evidence_says_what_the_text_said(source: str, shown: str) -> None:
    """The counts flow from the classifier into the alert in the text's own terms: an injury
    is serious (重伤, a grading criterion) only when the text says so."""
    verdict = assess(source)
    intent = CASES["new_event"].model_copy(update={"severity": verdict.grade,
                                                   "severity_evidence": verdict.evidence})
    text = _text(compose(intent, NOW, BASE))
    assert shown in text.splitlines()
    assert ("重伤" in text) == ("重伤" in source)


def _text(section) -> str:
    return "\n".join([section.title, *(line.text for line in section.lines), section.url or ""])


HOSTILE = "**假** [点我](javascript:alert(1)) <at user_id=\"all\">所有人</at> # `x` _y_ |z| &amp;"


@pytest.mark.parametrize("platform", [Platform.WECOM, Platform.DINGTALK], ids=str)
def test_markdown_escaping_keeps_titles_inert(platform: Platform) -> None:
    intent = CASES["new_event"].model_copy(update={"title": HOSTILE})
    text = json.dumps(render(platform, [compose(intent, NOW, BASE)]).payload,
                      ensure_ascii=False)
    for dangerous in ("**假**", "[点我]", "<at", "`x`", "_y_", "](javascript"):
        assert dangerous not in text
    assert "＊＊假＊＊" in text and "［点我］" in text


def test_slack_escaping() -> None:
    assert slack_escape("a<b>&c|d*e") == "a&lt;b&gt;&amp;c｜d＊e"
    intent = CASES["new_event"].model_copy(update={"title": HOSTILE})
    text = render(Platform.SLACK, [compose(intent, NOW, BASE)]).payload["text"]
    assert "<at" not in text and "<!" not in text and "&lt;at" in text


def test_link_cannot_break_out_of_markdown() -> None:
    assert safe_url("https://x.cn/a (b)|c>d") == "https://x.cn/a%20%28b%29%7Cc%3Ed"
    assert md_escape("第1条\n## 标题") == "第1条 ＃＃ 标题"


@pytest.mark.parametrize("platform", list(Platform), ids=str)
def test_digest_fits_the_byte_limit(platform: Platform) -> None:
    sections = [compose(CASES["new_event"].model_copy(update={"title": f"第{i}号事件" * 3}),
                        NOW, BASE) for i in range(400)]
    rendered = render(platform, sections)
    assert 1 < rendered.count < 400
    assert rendered.size <= LIMITS[platform]
    more = render(platform, sections[:rendered.count + 1])
    assert more.count == rendered.count or platform == Platform.WEBHOOK


@pytest.mark.parametrize("platform", list(Platform), ids=str)
def test_oversized_single_alert_is_truncated_not_refused(platform: Platform) -> None:
    lines = tuple(f"长标题的未结事件第{i}条，请尽快处理并回应" for i in range(3000))
    intent = CASES["daily_summary"].model_copy(update={"summary_lines": lines})
    rendered = render(platform, [compose(intent, NOW, BASE)])
    assert rendered.count == 1 and rendered.size <= LIMITS[platform]
    assert "其余见事件页" in json.dumps(rendered.payload, ensure_ascii=False)


def test_keyword_is_carried_when_the_robot_requires_one() -> None:
    section = compose(CASES["new_event"], NOW, BASE)
    payload = render(Platform.DINGTALK, [section], keyword="值班").payload
    assert payload["markdown"]["title"].startswith("值班｜")
    assert payload["markdown"]["text"].startswith("#### 值班｜")
    payload = render(Platform.DINGTALK, [section], keyword="化工厂").payload
    assert not payload["markdown"]["title"].startswith("化工厂｜")  # already in the title
