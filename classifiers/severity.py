"""Severity of an incident by rule: casualty and loss numbers read from text.

Pure functions, no model. The thresholds come from the taxonomy (the national
生产安全事故报告和调查处理条例, art. 3; magnitude from the 国家地震应急预案).
A report often revises its counts upward ("3人死亡……死亡人数升至十二人"), so
every count is the highest one the text gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .taxonomy import Taxonomy
from .taxonomy import default as default_taxonomy
from .tokenize import normalize

_CN_DIGITS = "零〇一二两三四五六七八九十百千万"
# A number as news text writes it: 12, 1.5, 1.2万, 十二, 两百, 一千二百.
NUM = rf"(?:\d+(?:\.\d+)?[万千百]?|[{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+)?)"
# Hedges around a count that do not change it: 近/约/逾 before, 余/多 after.
_PRE = r"(?:近|约|逾|超过|至少|共|达|已有|已|计)?"
_POST = r"(?:余|多)?"
_WHO = r"(?:人|名|位|个)"
# Between a count and its verb: anything but punctuation, digits and other
# casualty words, so "3人受伤，1人死亡" never reads as 3 deaths.
_GAP = r"[^，。；;,.!?！？、\d伤亡死踪毒难损\s]{0,8}?"

_DEATH_VERB = (
    r"(?:死亡|遇难|罹难|丧生|身亡|殒命|丧命|[熏烧撞砸淹炸压轧毒]死|死(?=$|[\s，。,、；;！!]))"
)


def _counted(verb: str, gap: str = _GAP) -> re.Pattern[str]:
    # "造成6名矿工当场死亡" and "死亡人数升至十二人" alike.
    return re.compile(
        rf"(?P<n1>{NUM}){_POST}{_WHO}{gap}{verb}"
        rf"|{verb}(?:者|人员|人数)?(?:已经|现已|已|共)?(?:上升|升至|增至|增加到|上升到|达到|突破|超过|达|为|已达|至)?{_PRE}(?P<n2>{NUM}){_POST}{_WHO}"
    )


_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "deaths": [
        _counted(_DEATH_VERB),
        re.compile(rf"(?P<n1>{NUM}){_POST}(?:名|具)?(?:死者|遗体|尸体)"),
        re.compile(rf"(?P<n1>{NUM})(?:人)?死(?:{NUM})(?:人)?伤"),  # 2死2伤
        re.compile(rf"致(?P<n1>{NUM}){_WHO}(?:死)?亡"),  # 致6人亡
        # One named victim, no numeral: "致周某当场死亡".
        re.compile(r"[\u4e00-\u9fa5]某(?P<one>)(?:当场|不幸|经抢救无效)?(?:死亡|身亡|遇难)"),
    ],
    "missing": [_counted(r"(?:失踪|失联|下落不明)")],  # 失联 is how news says missing
    "serious_injuries": [
        _counted(r"(?:重伤|受重伤|严重受伤|伤势(?:较重|严重|危重)|病危|危重)"),
    ],
    "injured": [
        _counted(r"(?:受伤|轻伤|轻微伤|负伤|伤)"),
        re.compile(rf"(?:{NUM})(?:人)?死(?P<n1>{NUM})(?:人)?伤"),
    ],
    "poisoned": [
        # "26名学生吃食堂发馊剩饭致食物中毒": the gap may be a whole clause.
        _counted(r"(?:食物中毒|中毒)", gap=r"[^，。；;,.!?！？\d死亡\s]{0,14}?"),
    ],
}

_LOSS = [
    re.compile(
        rf"(?:直接)?(?:经济|财产)损失(?:初步)?(?:估计|统计|核算)?(?:约|达|为|超过|逾|近|高达)*(?P<n1>{NUM}){_POST}(?P<unit>亿|万)?元"
    ),
    re.compile(
        rf"造成(?:约|近|逾)?(?P<n1>{NUM}){_POST}(?P<unit>亿|万)?元(?:的)?(?:直接)?(?:经济|财产)?损失"
    ),
]
_MAGNITUDE = [
    re.compile(
        rf"(?:里氏|震级为?|震级达|ms|m)?\s*(?P<n1>{NUM})\s*级(?:左右)?(?:的)?(?:强烈|强|破坏性|浅源)?(?:地震|余震)"
    ),
    re.compile(rf"震级(?:为|达|是)?\s*(?P<n1>{NUM})\s*级"),
]
_EXPLICIT = re.compile(
    r"(特别重大|重大|较大)[^，。；,;、\s]{0,6}(?:事故|事件|灾害|灾难|火灾|险情|疫情|地震|案件|案)"
    # 一般 is also an everyday adverb ("一般来说……案件"): only the set phrases count.
    r"|(一般)(?:生产安全|道路交通|交通|火灾|突发)?(?:事故|事件)"
)
# Cheap pre-check: most items mention none of these, and skip all the regexes.
_TRIGGERS = re.compile(r"死|亡|遇难|罹难|丧生|伤|失踪|失联|下落不明|中毒|损失|级|重大|较大|一般")
_CLAUSE = re.compile(r"[，。；;！？!?\n]")
# For items the model calls no incident, evidence is still read when a death
# or a disappearance is mentioned (a duty officer wants to see it), not for
# every 受伤 or 级 of ordinary messages.
_FATALITY_HINT = re.compile(r"死亡|遇难|罹难|丧生|身亡|失踪|失联|下落不明|[熏烧撞砸淹炸压]死")


def parse_number(raw: str) -> float | None:
    """'12' -> 12, '十二' -> 12, '两百' -> 200, '1.2万' -> 12000; None if unreadable."""
    try:
        return float(raw)
    except ValueError:
        pass
    import cn2an  # late: its import costs ~0.3 s, and most texts never need it

    try:
        return float(cn2an.cn2an(raw, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


@dataclass(frozen=True)
class SeverityVerdict:
    grade: str | None  # None: not an incident, nothing to grade
    evidence: dict[str, float] = field(default_factory=dict)
    inferred: bool = False  # True: no number nor explicit grade; a default
    explicit: str | None = None  # e.g. "较大道路交通事故"
    basis: str = ""  # which criterion decided the grade, for the reader

    def to_json(self) -> dict:
        return {
            "grade": self.grade,
            "evidence": self.evidence,
            "inferred": self.inferred,
            "explicit": self.explicit,
        }


def _max_count(text: str, patterns: list[re.Pattern[str]]) -> float | None:
    best: float | None = None
    for pat in patterns:
        for m in pat.finditer(text):
            groups = m.groupdict()
            if groups.get("one") is not None:
                value: float | None = 1.0
            else:
                raw = groups.get("n1") or groups.get("n2")
                value = parse_number(raw) if raw else None
            if value is not None and (best is None or value > best):
                best = value
    return best


def _max_loss_wan(text: str) -> float | None:
    best: float | None = None
    for pat in _LOSS:
        for m in pat.finditer(text):
            value = parse_number(m.group("n1"))
            if value is None:
                continue
            unit = m.group("unit")
            wan = value * 10000 if unit == "亿" else value if unit == "万" else value / 10000
            best = wan if best is None or wan > best else best
    return best


def extract(text: str) -> dict[str, float]:
    """Every count the text gives, highest value per kind; absent kinds omitted."""
    if not _TRIGGERS.search(text):
        return {}
    # No count spans punctuation (see _GAP), so only the clauses that name a
    # casualty, a loss or a magnitude need the patterns: on a long article
    # that is a tenth of the text, and a tenth of the time.
    text = "。".join(c for c in _CLAUSE.split(text) if _TRIGGERS.search(c))
    # news sites mix full-width digits in (１２５名 -> 125名)
    text = normalize(text)
    found: dict[str, float] = {}
    for kind, patterns in _PATTERNS.items():
        value = _max_count(text, patterns)
        if value is not None:
            found[kind] = value
    loss = _max_loss_wan(text)
    if loss is not None:
        found["direct_loss_wan"] = loss
    if "震" in text:
        mag = _max_count(text, _MAGNITUDE)
        if mag is not None and 1.0 <= mag <= 10.0:  # "5级风" etc. are not magnitudes
            found["magnitude"] = mag
    return found


def explicit_grade(text: str, tax: Taxonomy | None = None) -> tuple[str, str] | None:
    """The most severe grade named with an incident noun: (grade, matched text)."""
    tax = tax or default_taxonomy()
    best: tuple[str, str] | None = None
    for m in _EXPLICIT.finditer(text):
        grade = m.group(1) or m.group(2)
        if best is None or tax.rank(grade) < tax.rank(best[0]):
            best = (grade, m.group(0))
    return best


def grade_numbers(
    evidence: dict[str, float], tax: Taxonomy | None = None
) -> tuple[str, str] | None:
    """Grade by the worst criterion: (grade, basis), or None with no usable number."""
    tax = tax or default_taxonomy()
    values = {
        "deaths": evidence.get("deaths", 0) + evidence.get("missing", 0),
        "serious_injuries": evidence.get("serious_injuries", 0) + evidence.get("poisoned", 0),
        "direct_loss_wan": evidence.get("direct_loss_wan", 0),
    }
    usable = any(
        k in evidence
        for k in (
            "deaths",
            "missing",
            "serious_injuries",
            "poisoned",
            "direct_loss_wan",
            "magnitude",
        )
    )
    if not usable:
        return None
    for grade in tax.severities[:-1]:
        for crit, bound in tax.thresholds.get(grade, {}).items():
            if values[crit] >= bound:
                return grade, f"{crit}={values[crit]:g} ≥ {bound:g}"
        mag_bound = tax.magnitude_thresholds.get(grade)
        if mag_bound is not None and evidence.get("magnitude", 0) >= mag_bound:
            return grade, f"magnitude={evidence['magnitude']:g} ≥ {mag_bound:g}"
    return tax.floor_grade, "below every 较大 threshold"


def assess(text: str, is_incident: bool = True, tax: Taxonomy | None = None) -> SeverityVerdict:
    """Severity verdict of one text; `is_incident=False` keeps the evidence, no grade."""
    tax = tax or default_taxonomy()
    if not is_incident:
        evidence = extract(text) if _FATALITY_HINT.search(text) else {}
        return SeverityVerdict(None, evidence)
    evidence = extract(text)
    explicit = explicit_grade(text, tax) if evidence or _TRIGGERS.search(text) else None
    by_numbers = grade_numbers(evidence, tax)
    candidates = [
        c
        for c in (by_numbers, (explicit[0], "explicit: " + explicit[1]) if explicit else None)
        if c
    ]
    if not candidates:
        why = "no graded count (injured only, 重伤 not stated)" if evidence else "no number given"
        return SeverityVerdict(tax.floor_grade, evidence, inferred=True, basis=why + "; default")
    grade, basis = min(candidates, key=lambda c: tax.rank(c[0]))
    return SeverityVerdict(
        grade, evidence, inferred=False, explicit=explicit[1] if explicit else None, basis=basis
    )
