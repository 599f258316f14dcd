"""Severity of an incident by rule: the figures of THIS event, graded by its plan.

Pure functions, no model. DOMAIN.md's "Which rule grades which type":
- accidents, fires, traffic, mines, explosions, violent attacks: the
  生产安全事故报告和调查处理条例 art. 3 table (deaths + missing, serious
  injuries incl. acute poisoning, direct loss; the worst wins);
- earthquakes: the 国家地震应急预案 (deaths + missing, and a magnitude floor
  when the epicentre is not offshore or empty);
- food poisoning: the 国家食品安全事故应急预案 (people made ill, deaths).
Where no figure settles the grade it is 未知, flagged for an officer, never a
default 一般. A reporter's "重大交通事故" is shown, never used as a grade.

Text is NFKC-normalised first (６．１级 -> 6.1级). Sentences about other events
(an earlier quake, last year's toll, 历史上…) are set aside; of the rest every
count is the highest the text gives, since reports revise counts upward.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .taxonomy import Taxonomy
from .taxonomy import default as default_taxonomy

UNKNOWN = "未知"
PRODUCTION, EARTHQUAKE, FOOD = "production_safety", "earthquake", "food_safety"
PLAN_NAMES = {
    PRODUCTION: "生产安全事故报告和调查处理条例 第三条",
    EARTHQUAKE: "国家地震应急预案",
    FOOD: "国家食品安全事故应急预案",
}

_CN_DIGITS = "零〇一二两三四五六七八九十百千万"
# A number as news text writes it: 12, 1.5, 1.2万, 十二, 两百, 一千二百.
NUM = rf"(?:\d+(?:\.\d+)?[万千百]?|[{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+)?)"
# Hedges around a count that do not change it: 约/逾 before, 余/多 after.
# 近 ("近百名") does change it: the count is under the figure (see _hedged).
_PRE = r"(?:近|约|逾|超过|至少|共|达|已有|已|计|有)?"
_POST = r"(?:余|多)?"
_WHO = r"(?:人|名|位|个)"
# Between a count and its verb: anything but punctuation, digits and other
# casualty words, so "3人受伤，1人死亡" never reads as 3 deaths.
_GAP = r"[^，。；;,.!?！？、\d伤亡死踪毒难损\s]{0,8}?"

_DEATH_VERB = (
    r"(?:死亡|遇难|罹难|丧生|身亡|殒命|丧命|[熏烧撞砸淹炸压轧毒]死|死(?=$|[\s，。,、；;！!])"
    # How a rescue reports a death: "一名被困工人已无生命体征", "两名失联人员遗体已找到".
    r"|(?:已经|已)?(?:无|没有|失去)生命体征|遗体(?:已经|已)?(?:被)?(?:找到|寻获|发现|打捞))"
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
        # A death no count goes with, or one a clause away from its count: at least one
        # ("被冲走的村民遗体已在下游找到", "被困的1名矿工已被找到，经确认已无生命体征").
        re.compile(r"(?P<one>)(?:(?:已经|已)?(?:无|没有|失去)生命体征|经抢救无效(?:死亡|身亡)"
                   r"|(?:遗体|尸体)(?:已经|已)?(?:在[^，。；;]{0,8})?(?:被)?(?:找到|寻获|发现|打捞))"),
        # Victims counted by sex: "(5女6男)全部死亡", "三男两女全部死亡".
        re.compile(
            rf"(?P<a>{NUM})名?[男女]性?[、和及]?(?P<b>{NUM})名?[男女]性?\)?"
            rf"[^，。；,;\d]{{0,6}}?(?:全部|均|都|全)(?:已经|已|当场|不幸)?{_DEATH_VERB}"
        ),
    ],
    # 失联 is how news says missing; "失联人员遗体已找到": found dead, no longer missing.
    "missing": [_counted(r"(?:失踪|失联|下落不明)(?![^，。；;]{0,4}遗体)")],
    "serious_injuries": [
        # Only what the text calls grave: 重伤, 伤势严重, 危重, intensive care.
        _counted(r"(?:重伤|受重伤|严重受伤|伤势(?:较重|严重|危重)|病危|危重|重症|生命危险)"),
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
# Food poisoning reports tell who fell ill in long clauses ("137人在食用了…色拉后
# 中毒", "17名员工在该食堂进食晚餐后,陆续有人出现呕吐"): read only under that plan.
_FOOD_ILL = re.compile(
    rf"(?P<n1>{NUM}){_POST}{_WHO}(?P<gap>[^。；;!?！？\d死亡]{{0,40}}?)(?:食物中毒|中毒|腹泻|呕吐|不适)"
)
# The ill counted after the verb: "累计就诊128人", "发病人数已增至132人".
_FOOD_ILL_AFTER = re.compile(
    rf"(?:就诊|就医|发病|送医|入院|住院|救治)(?:人数|患者|病例)?(?:已经|已|共|累计)?"
    rf"(?:上升|升至|增至|增加到|达到|达|为|至)?{_PRE}(?P<n2>{NUM}){_POST}(?:人|名|例)"
)
# Not the ill: "排除食物中毒", and a count of something else ("100多人的宴席").
_NOT_ILL = re.compile(r"^的|排除|并非|不是|没有|无需")
# "无人员伤亡", "没有造成人员伤亡", "无人死亡": a figure, zero.
_NONE = re.compile(
    r"(?<!有)(?:无|没有|未有|未造成|没有造成|尚无|并无|暂无|幸无|幸未造成)(?:任何)?(?:人员|人)?(?P<what>伤亡|死亡)"
)

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
        rf"(?:里氏|震级为?|震级达|ms|m)?\s*(?P<n1>{NUM})\s*级(?:左右)?(?:的)?(?:强烈|破坏性|浅源|大)?(?P<what>地震|余震|强震)"
    ),
    re.compile(rf"震级(?:为|达|是)?\s*(?P<n1>{NUM})\s*级"),
]
# A later, corrected magnitude of the same quake ("最新测得的震级为7.8级").
_REVISED = re.compile(r"修订|修正|更正|订正|最新测得|重新测定|调整为")
_EXPLICIT = re.compile(
    r"(特别重大|重大|较大|特大)[^，。；,;、\s]{0,6}(?:事故|事件|灾害|灾难|火灾|险情|疫情|地震|案件|案)"
    # 一般 is also an everyday adverb ("一般来说……案件"): only the set phrases count.
    r"|(一般)(?:生产安全|道路交通|交通|火灾|突发)?(?:事故|事件)"
)
# Cheap pre-check: most items mention none of these, and skip all the regexes.
_TRIGGERS = re.compile(
    r"死|亡|遇难|罹难|丧生|伤|失踪|失联|下落不明|中毒|损失|级|重大|较大|一般|危|重症|腹泻|呕吐|不适"
    r"|生命体征|遗体"
)
_SENTENCE = re.compile(r"[^。！？!?\n；;]+")
# For items the model calls no incident, evidence is still read when a death
# or a disappearance is mentioned (a duty officer wants to see it), not for
# every 受伤 or 级 of ordinary messages.
_FATALITY_HINT = re.compile(
    r"死亡|遇难|罹难|丧生|身亡|失踪|失联|下落不明|[熏烧撞砸淹炸压]死|生命体征|遗体")

# The characters NFKC folds into a character of the hint (radicals, compatibility and enclosed
# forms of 生 身 下 明 落 不 罹 淹; listed by scanning all of Unicode): a hint spelt with them
# is found only after folding.
_FOLDS_TO_HINT = re.compile(
    "[\u2f63\u2f9d\u3198\u32a6\u337e\uf918\uf967\uf9e6\U0001f222\U0002f90e]"
)

# A character of every word of the hint, and the folding ones: a text without any of them
# cannot match (a search for one class of characters is several times cheaper than the hint).
_HINT_CHARS = re.compile(
    "[死遇罹丧亡踪失落征遗\u2f63\u2f9d\u3198\u32a6\u337e\uf918\uf967\uf9e6\U0001f222\U0002f90e]"
)


def _fatality_text(text: str) -> str | None:
    """The normalised text when it mentions a death or a disappearance, else None.
    Most items are no incident and name no death: NFKC over the whole text (a fifth of
    classify()'s time) is paid only when the hint is there, or might appear once folded."""
    if not _HINT_CHARS.search(text):
        return None
    if _FOLDS_TO_HINT.search(text):
        text = normalize(text)
        return text if _FATALITY_HINT.search(text) else None
    return normalize(text) if _FATALITY_HINT.search(text) else None


# -- which plan -----------------------------------------------------------------
_EQ_CUE = re.compile(r"地震|余震|强震|震感|震中|震级")
_FOOD_CUE = re.compile(
    r"食物中毒|食品安全事故|食源性|(?:食用|误食|进食|吃了|吃过|吃完|饮用|喝了|假酒|就餐|用餐|聚餐|宴|饭菜|盒饭|午饭|早餐|晚餐)"
    r"[^。；]{0,30}?(?:中毒|腹泻|呕吐|不适)"
)

# -- other events in the same text ------------------------------------------------
_ELSEWHERE = re.compile(
    r"历史上|史上|有史以来|去年|前年|上一次|上次|以往|往年|曾经|当年|每年|全年|今年以来"
    rf"|[\d{_CN_DIGITS}几数]+年(?:前|来)|(?:全国|全省|全市|全州|全县)[^，。]{{0,6}}(?:共|累计)"
)
_YEAR = re.compile(r"((?:19|20)\d\d)年")

# -- population at the epicentre ---------------------------------------------------
_EPICENTRE = re.compile(r"震中|震源|震区|发生在|位于")
_SPARSE = re.compile(
    r"海域|海底|近海|外海|海上|海岸|离岸|无人区|人烟稀少|人口稀少|荒无人烟|沙漠|戈壁"
)
_POPULATED = re.compile(r"人口密集|人口|居民|县城|市区|城区|城市|城镇|乡镇|[县镇乡村]")


def parse_number(raw: str) -> float | None:
    """'12' -> 12, '十二' -> 12, '两百' -> 200, '1.2万' -> 12000; None if unreadable."""
    try:
        return float(raw)
    except ValueError:
        pass
    import cn2an  # late: its import costs ~0.3 s, and most texts never need it

    if raw[:1] in "百千万":  # "近百名": a bare unit is one of it
        raw = "一" + raw
    try:
        return float(cn2an.cn2an(raw, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def normalize(text: str) -> str:
    """NFKC (full-width digits, points and brackets fold: ６．１ -> 6.1), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Reading:
    """One figure read from the text: what it counts, its value, the words."""

    kind: str
    value: float
    words: str


@dataclass(frozen=True)
class SeverityVerdict:
    grade: str | None  # None: not an incident; 未知: no figure settles it
    evidence: dict[str, float] = field(default_factory=dict)
    inferred: bool = False  # True with 未知: an officer grades it (tracking keeps no grade)
    explicit: str | None = None  # a grade word the text uses ("重大交通事故"): shown, not used
    basis: str = ""  # which criterion decided the grade, for the reader
    plan: str | None = None  # PRODUCTION | EARTHQUAKE | FOOD
    row: str | None = None  # the table row that applied, e.g. "重大: deaths+missing ≥ 10"
    words: tuple[tuple[str, str], ...] = ()  # (figure, the text it was read from)
    set_aside: tuple[str, ...] = ()  # sentences about other events, not counted

    @property
    def unknown(self) -> bool:
        return self.grade == UNKNOWN

    def to_json(self) -> dict:
        return {
            "grade": self.grade,
            "evidence": self.evidence,
            "inferred": self.inferred,
            "explicit": self.explicit,
            "basis": self.basis,
            "plan": PLAN_NAMES.get(self.plan or ""),
            "row": self.row,
            "words": [list(w) for w in self.words],
            "set_aside": list(self.set_aside),
        }


# -- reading figures ------------------------------------------------------------------
def _value(m: re.Match[str], text: str) -> float | None:
    groups = m.groupdict()
    if groups.get("one") is not None:
        return 1.0
    if groups.get("a"):  # counted by sex: the two groups together
        a, b = parse_number(groups["a"]), parse_number(m.group("b"))
        return a + b if a is not None and b is not None else None
    raw = groups.get("n1") or groups.get("n2")
    value = parse_number(raw) if raw else None
    return _hedged(value, m, text)


def _hedged(value: float | None, m: re.Match[str], text: str) -> float | None:
    # "近百名" is under a hundred: one less keeps it below the bound it nears.
    start = m.start("n1") if m.groupdict().get("n1") else m.start("n2")
    if value is not None and text[max(0, start - 1) : start] == "近":
        return value - 1
    return value


def _counts(sentence: str, plan: str) -> list[Reading]:
    out = []
    for kind, patterns in _PATTERNS.items():
        for pat in patterns:
            for m in pat.finditer(sentence):
                value = _value(m, sentence)
                if value is not None:
                    out.append(Reading(kind, value, m.group(0)))
    if plan == FOOD:
        for m in _FOOD_ILL.finditer(sentence):
            value = _value(m, sentence)
            if value is not None and not _NOT_ILL.search(m.group("gap")):
                out.append(Reading("poisoned", value, m.group(0)))
        for m in _FOOD_ILL_AFTER.finditer(sentence):
            if (value := _value(m, sentence)) is not None:
                out.append(Reading("poisoned", value, m.group(0)))
    for m in _NONE.finditer(sentence):
        out.append(Reading("deaths", 0.0, m.group(0)))
        if m.group("what") == "伤亡":
            out.append(Reading("injured", 0.0, m.group(0)))
    return out + _losses(sentence)


def _losses(sentence: str) -> list[Reading]:
    out = []
    for pat in _LOSS:
        for m in pat.finditer(sentence):
            value = parse_number(m.group("n1"))
            if value is None:
                continue
            unit = m.group("unit")
            wan = value * 10000 if unit == "亿" else value if unit == "万" else value / 10000
            out.append(Reading("direct_loss_wan", wan, m.group(0)))
    return out


def _magnitudes(sentence: str) -> list[tuple[float, str, bool]]:
    """(magnitude, words, is an aftershock) in order; '5级风' is no magnitude."""
    found = []
    for pat in _MAGNITUDE:
        for m in pat.finditer(sentence):
            value = parse_number(m.group("n1"))
            if value is not None and 1.0 <= value <= 10.0:
                what = m.groupdict().get("what")
                found.append((m.start(), value, m.group(0).strip(), what == "余震"))
    return [f[1:] for f in sorted(found)]


# -- this event only ------------------------------------------------------------------
def _split(text: str) -> tuple[list[str], int]:
    """Sentences, and how many open the text (the title's and the lead's)."""
    sentences = [s for s in _SENTENCE.findall(text) if s.strip()]
    title = text.split("\n", 1)[0] if "\n" in text else ""
    head = len(_SENTENCE.findall(title)) + 1 if title else 1
    return sentences, head


def _event_magnitude(sentences: list[str]) -> tuple[float, str] | None:
    """The quake this text reports: an aftershock's own magnitude when the opening
    names an aftershock, else the first magnitude given; a revision replaces it."""
    found = [(m, s) for s in sentences for m in _magnitudes(s)]
    if not found:
        return None
    aftershock = "余震" in sentences[0]
    first = next((f for f in found if f[0][2]), found[0]) if aftershock else found[0]
    value, words = first[0][0], first[0][1]
    for (v, w, _), s in found:
        if _REVISED.search(s):
            value, words = v, w
    return value, words


def _elsewhere(sentence: str, year: str | None, magnitude: float | None, aftershock: bool) -> bool:
    """Is this sentence about another event: history, last year, another quake?"""
    if _ELSEWHERE.search(sentence):
        return True
    if any(y != year for y in _YEAR.findall(sentence)):
        return True
    if magnitude is None or _REVISED.search(sentence):
        return False
    if aftershock and "主震" in sentence:
        return True
    return any(abs(v - magnitude) > 0.05 for v, _, _ in _magnitudes(sentence))


def _this_event(text: str) -> tuple[list[str], list[str], tuple[float, str] | None]:
    """(sentences about this event, sentences set aside, this quake's magnitude)."""
    sentences, head = _split(text)
    if not sentences:
        return [], [], None
    years = _YEAR.findall("".join(sentences[:head]))
    year = years[0] if years else None
    magnitude = _event_magnitude(sentences) if _EQ_CUE.search(text) else None
    mag = magnitude[0] if magnitude else None
    aftershock = "余震" in sentences[0]
    keep, aside = list(sentences[:head]), []
    for s in sentences[head:]:
        (aside if _elsewhere(s, year, mag, aftershock) else keep).append(s)
    return keep, aside, magnitude


def plan_of(text: str) -> str:
    """Which plan grades the text: the earthquake or food cue met first, else production."""
    eq, food = _EQ_CUE.search(text), _FOOD_CUE.search(text)
    if eq and (not food or eq.start() <= food.start()):
        return EARTHQUAKE
    return FOOD if food else PRODUCTION


def _read(text: str, plan: str) -> tuple[list[Reading], list[str]]:
    """Readings of this event (magnitude included), and the sentences set aside."""
    if not _TRIGGERS.search(text):
        return [], []
    keep, aside, magnitude = _this_event(text)
    readings = [r for s in keep if _TRIGGERS.search(s) for r in _counts(s, plan)]
    if magnitude:
        readings.append(Reading("magnitude", magnitude[0], magnitude[1]))
    counted = [s for s in aside if _TRIGGERS.search(s) and _counts(s, plan)]
    return readings, [s[:60] for s in counted]


def _highest(readings: list[Reading]) -> dict[str, Reading]:
    best: dict[str, Reading] = {}
    for r in readings:
        if r.kind not in best or r.value > best[r.kind].value:
            best[r.kind] = r
    return best


def extract(text: str, plan: str | None = None) -> dict[str, float]:
    """Every figure of this event, highest value per kind; absent kinds omitted."""
    text = normalize(text)
    readings, _ = _read(text, plan or plan_of(text))
    return {k: r.value for k, r in _highest(readings).items()}


def explicit_grade(text: str, tax: Taxonomy | None = None) -> tuple[str, str] | None:
    """The most severe grade word the text names with an incident noun: (grade, words).
    Shown to the reader, never used as the grade: a reporter's adjective is no grading."""
    order = {"特别重大": 0, "特大": 0, "重大": 1, "较大": 2, "一般": 3}
    best: tuple[str, str] | None = None
    for m in _EXPLICIT.finditer(text):
        grade = m.group(1) or m.group(2)
        if best is None or order[grade] < order[best[0]]:
            best = (grade, m.group(0))
    return best


# -- grading ------------------------------------------------------------------------
Graded = tuple[str, str, str]  # grade, table row, basis


def _first_row(value: float, rows: dict[str, float], tax: Taxonomy) -> str | None:
    for grade in tax.severities:
        if grade in rows and value >= rows[grade]:
            return grade
    return None


def grade_production(ev: dict[str, float], tax: Taxonomy) -> Graded | None:
    """The worst of deaths(+missing), serious injuries(+poisoning), direct loss."""
    values = {}
    if "deaths" in ev or "missing" in ev:
        values["deaths"] = ev.get("deaths", 0) + ev.get("missing", 0)
    if "serious_injuries" in ev or "poisoned" in ev:
        values["serious_injuries"] = ev.get("serious_injuries", 0) + ev.get("poisoned", 0)
    if "direct_loss_wan" in ev:
        values["direct_loss_wan"] = ev["direct_loss_wan"]
    lowest = tax.thresholds[tax.severities[-2]]["serious_injuries"]
    if not values and "injured" in ev and ev["injured"] < lowest:
        # Fewer injured than the 较大 bound: however grave, they settle 一般.
        values["serious_injuries"] = ev["injured"]
    if not values:
        return None
    for grade in tax.severities[:-1]:
        for crit, bound in tax.thresholds.get(grade, {}).items():
            if crit in values and values[crit] >= bound:
                return grade, f"{grade}: {crit} ≥ {bound:g}", f"{crit}={values[crit]:g}"
    said = ", ".join(f"{k}={v:g}" for k, v in values.items())
    return tax.floor_grade, f"{tax.floor_grade}: below every 较大 bound", said


def _population(sentences: list[str], magnitude_words: str) -> tuple[bool | None, str]:
    """Populated epicentre? From the title and the sentences placing the quake."""
    where = [
        s for i, s in enumerate(sentences) if i == 0 or magnitude_words in s or _EPICENTRE.search(s)
    ]
    for pattern, answer in ((_SPARSE, False), (_POPULATED, True)):
        for s in where:
            m = pattern.search(s)
            if m:
                return answer, m.group(0)
    return None, ""


def grade_earthquake(ev: dict[str, float], populated: bool | None, tax: Taxonomy) -> Graded | None:
    """Deaths+missing by the earthquake plan, raised to the magnitude floor."""
    plan = tax.earthquake
    graded: list[Graded] = []
    if "deaths" in ev or "missing" in ev:
        dm = ev.get("deaths", 0) + ev.get("missing", 0)
        grade = _first_row(dm, plan["deaths"], tax) or tax.floor_grade
        graded.append(
            (grade, f"{grade}: deaths+missing {dm:g} by the plan's rows", f"deaths+missing={dm:g}")
        )
    mag = ev.get("magnitude")
    floor = _first_row(mag, plan["magnitude_floor"], tax) if mag is not None else None
    # M ≥ 7 unless offshore/empty; M 6–6.9 only with a populated epicentre.
    if floor and populated is not False and (populated or floor == tax.severities[1]):
        graded.append(
            (
                floor,
                f"{floor}: magnitude floor M ≥ {plan['magnitude_floor'][floor]:g}",
                f"magnitude={mag:g}",
            )
        )
    if not graded:
        return None
    return min(graded, key=lambda g: tax.rank(g[0]))


def grade_food(ev: dict[str, float], tax: Taxonomy) -> Graded | None:
    """People made ill and deaths by the food-safety plan (特别重大 is the State Council's)."""
    plan = tax.food_safety
    dead = ev.get("deaths", 0)
    if "poisoned" not in ev and not dead:
        return None
    ill = ev.get("poisoned", 0)
    said = f"ill={ill:g}, deaths={dead:g}"
    if (dead and ill >= plan["ill_with_death"]["重大"]) or dead >= plan["deaths"]["重大"]:
        return "重大", "重大: ≥ 100 ill with a death, or ≥ 10 dead", said
    if ill >= plan["ill"]["较大"] or dead >= plan["deaths"]["较大"]:
        return "较大", "较大: ≥ 100 ill, or any death", said
    row = (
        "一般: 30–99 ill, no death"
        if ill >= plan["ill"]["一般"]
        else "一般: under 30 ill, no death (below every row)"
    )
    return "一般", row, said


def grade_numbers(
    evidence: dict[str, float], tax: Taxonomy | None = None, plan: str = PRODUCTION
) -> tuple[str, str] | None:
    """Grade of evidence by one plan: (grade, basis), or None when nothing settles it."""
    tax = tax or default_taxonomy()
    if plan == EARTHQUAKE:
        graded = grade_earthquake(evidence, True, tax)
    elif plan == FOOD:
        graded = grade_food(evidence, tax)
    else:
        graded = grade_production(evidence, tax)
    return (graded[0], f"{graded[2]} → {graded[1]}") if graded else None


def assess(text: str, is_incident: bool = True, tax: Taxonomy | None = None) -> SeverityVerdict:
    """Severity verdict of one text; `is_incident=False` keeps the evidence, no grade."""
    tax = tax or default_taxonomy()
    if not is_incident:
        folded = _fatality_text(text)
        return SeverityVerdict(None, extract(folded) if folded is not None else {})
    text = normalize(text)
    plan = plan_of(text)
    readings, aside = _read(text, plan)
    best = _highest(readings)
    evidence = {k: r.value for k, r in best.items()}
    words = tuple((k, r.words) for k, r in best.items())
    explicit = explicit_grade(text, tax)
    if plan == EARTHQUAKE:
        populated, cue = None, ""
        if "magnitude" in best:
            populated, cue = _population(_SENTENCE.findall(text), best["magnitude"].words)
        words += (("populated" if populated else "sparse", cue),) if cue else ()
        graded = grade_earthquake(evidence, populated, tax)
    else:
        graded = grade_food(evidence, tax) if plan == FOOD else grade_production(evidence, tax)
    common = dict(
        evidence=evidence,
        explicit=explicit[1] if explicit else None,
        plan=plan,
        words=words,
        set_aside=tuple(aside),
    )
    if graded is None:
        why = "no figure settles it" + (f" ({', '.join(evidence)} only)" if evidence else "")
        return SeverityVerdict(
            UNKNOWN, inferred=True, basis=why + "; an officer grades it", **common
        )
    grade, row, said = graded
    return SeverityVerdict(grade, basis=f"{said} → {row}", row=row, **common)
