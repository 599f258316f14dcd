"""What identifies a real-world matter in a report, and how an item and an event compare.

Reports of one accident share few words beyond the kind's vocabulary (事故, 死亡, 救援), which
every accident has; what they do share is *where* (county, town, village, mine, road, school,
company), *what* (incident type), *when* and the key numbers (a magnitude). The grouping
vectors drop place names and numbers, so they are read here, from the raw text.

`PairScorer` turns the comparison into a probability with a small logistic model fitted on
labelled clusters (`python -m monitor.track.fit_scorer`; coefficients in
`data/pair_scorer.json`), and names the features that weighed most, as a join's evidence.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

SCORER_PATH = Path(__file__).with_name("data") / "pair_scorer.json"

# Finer place names: a name of 2–8 characters ending in a kind of place. The name part may
# not swallow verbs or counts: it stops at the characters that start most other phrases.
_STOP = ("的了在是和与及对从向被把将为于已致发生位于一至到往经沿自由距离近而并且"
         "这那该此某我你他她们本其各每")  # demonstratives: 这家养老院, 我们村 name no place
_PLACE_SUFFIX = (
    # 乡 before 镇 is the word 乡镇 (townships: 住建和乡镇干部 names no 建和乡).
    "街道|社区|小区|花园|家园|新村|镇|乡(?!镇)|村|村民小组|屯|"
    "煤矿|铁矿|金矿|铜矿|磷矿|矿业|矿井|采石场|石料厂|石料开采场|砂石场|砖厂|水泥厂|化工厂|"
    "工厂|电站|水电站|水库|大桥|隧道|高速|公路|国道|省道|大道|路|街|"
    "片区|市|县|中学|小学|幼儿园|学校|学院|大学|医院|卫生院|养老院|敬老院|"
    "公司|集团|酒店|宾馆|市场|商场|景区|工业园区|园区|工地|项目部|"
    # A company is often named without 公司 (苍洱生物科技, 鼎盛置业): what it does ends it.
    "生物科技|生物|置业|地产|药业|养生馆|体验馆"
)
# At most four name characters before the suffix: place names are short, and the text
# before them is not part of the name (面包车行驶至京承高速 → 京承高速).
_NAME_CHAR = rf"[^|\s\d镇乡省{_STOP}，。、；：！？（）()“”\"'《》·—―-]"
# 路段, 路口, 路面, 街头 … name a stretch or a spot of some road, not the road.
_PLACE = re.compile(rf"({_NAME_CHAR}{{2,4}})(?:{_PLACE_SUFFIX})(?![段口面边上况头])")
# A phase of an estate or a project (锦绣华府一期, 二期): another phase is another matter.
# 和 stops a name (张村和李村), yet ends many towns' (太和街道, 人和镇, 永和村): read when
# the suffix follows it at once and what comes before it is no place of its own.
_TOWN_IN_HE = re.compile(
    rf"({_NAME_CHAR}{{1,3}}(?<![村镇乡区街市县])和)(?:街道|社区|镇|乡(?!镇)|村)")
_PHASE = re.compile(rf"({_NAME_CHAR}{{2,4}})([二三四五六七八九十]|一(?!期间)|\d{{1,2}})期")
_ROAD = re.compile(r"(?<![A-Za-z0-9])([GS]\d{2,4})(?!\d)", re.IGNORECASE)
_MAGNITUDE = re.compile(r"(\d+(?:\.\d)?)\s*级(?:地震|强震|余震)?")
# A national road written with its number before or after 国道 (104国道, 国道213): G104.
_NATIONAL_ROAD = re.compile(r"(?<!\d)(\d{3})\s*国道|国道\s*(\d{3})(?!\d)")
# The numbers a report of one matter repeats and another matter seldom has: a clock time to
# the minute (凌晨1时10分), a count of 3 or more (17人死亡, 26名学生), a sum (2800元).
_CLOCK = re.compile(r"(?<!\d)(\d{1,2})\s*[时点]\s*(\d{1,2})\s*分")
_COUNT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万元|元|人|名|户|辆|吨)")
_SAME_UNIT = {"名": "人"}
# A report of another accident like an earlier one: "该路段又有一辆货车侧翻", "再次发生". Not a
# toll rising (又有2人死亡) or an answer coming again (再次回应).
_AGAIN = re.compile(r"又(?:发生|出事|一起|有一[辆起处座艘架家])|再次发生|再度发生|再发生一起")
# A follow-up points back at what the matter was about (这家养老院, 那家养生馆, 涉事餐馆): the
# words after such a pointer name a thing the event's reports name.
_POINTER = re.compile(r"(?:这家|那家|这所|那所|涉事|该)([\u4e00-\u9fff]{2,4})")
# Generic words that end in a place suffix but name no place.
_NOT_PLACES = frozenset({
    "当地", "附近", "周边", "全县", "全州", "全市", "全省", "城乡", "农村", "乡镇", "村民", "学生",
    "相关", "涉事", "事发", "有关", "该", "这", "一些", "多个", "各地", "所在", "部分", "公司",
    "人民", "中心", "有限", "工业", "附属", "第一", "第二", "第三", "主要", "十字", "事故",
    # What a company does, named as a kind (维保公司, 物业公司): every matter has one.
    "维保", "物业", "外包", "供水", "供电", "燃气", "施工", "开发", "保洁", "安保", "劳务",
    "建筑", "运输", "旅游", "餐饮", "保险", "快递", "总包", "贸易", "建材", "材贸易", "出租车",
})


def normalise_digits(text: str) -> str:
    """Full-width digits and points as ASCII (１１人, 6．1级)."""
    return text.translate(_FULL_WIDTH)


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")


@cache
def _region_names() -> re.Pattern[str]:
    """Every prefecture and county name of the gazetteer, and the province, longest first:
    cut out before looking for finer places, so that 昭通市镇雄县 is not read as a 镇."""
    from classifiers.gazetteer import default

    gazetteer = default()
    names = sorted({*gazetteer.names, gazetteer.province, gazetteer.province.rstrip("省")},
                   key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names)))


def counties_in(text: str) -> frozenset[str]:
    """Every county the gazetteer knows that the text names ("通海6.4级地震：昆明震感强烈"
    is about 通海县 though 昆明 is named too)."""
    from classifiers.gazetteer import default

    names = default().names
    return frozenset(names[m.group(0)].county for m in _region_names().finditer(text)
                     if m.group(0) in names and names[m.group(0)].county)


def towns_counties(places: frozenset[str]) -> frozenset[str]:
    """The counties of the towns named (大观街道 → 五华区): a follow-up or a police notice
    often names its 街道 and not the county."""
    from classifiers.gazetteer import default

    towns = default().towns
    return frozenset(towns[p].county for p in places if p in towns)


def places_in(text: str) -> frozenset[str]:
    """Finer place names: towns, villages, roads, mines, factories, schools, companies."""
    text = _region_names().sub("|", normalise_digits(text))
    found = {name for pattern in (_PLACE, _TOWN_IN_HE) for m in pattern.finditer(text)
             if (name := _trimmed(m.group(1), m.group(0)))}
    found |= {m.group(1).upper() for m in _ROAD.finditer(text)}
    found |= {name for m in _PHASE.finditer(text)
              if (name := _trimmed(m.group(1), m.group(0)))}
    found |= {"G" + (m.group(1) or m.group(2)) for m in _NATIONAL_ROAD.finditer(text)}
    return frozenset(p for p in found if len(p) >= 3)


# Words that start no place name, as jieba's dictionary tags them: verbs, counts, pronouns,
# prepositions … (not adjectives or directions: 大观, 红土田, 小百户, 后所 are names).
_NOT_NAME_TAGS = frozenset({"v", "vn", "vd", "m", "mq", "q", "d", "p", "r", "c", "u", "ug",
                            "uj", "ul", "uz", "t", "k", "y", "e"})
_NOT_NAME_WORDS = frozenset({"通报", "部署", "记者", "报道", "反映", "推销", "全市", "全县",
                             # the tail of a county cut out before (罗平县阿岗镇 → 县阿岗镇)
                             "省", "州", "市", "县", "区"})


def _trimmed(name: str, whole: str) -> str | None:
    """The place without the words the pattern took in before it (通报者兔乡 → 者兔乡,
    过波罗村 → 波罗村, 几个村 → nothing): a leading verb, count or pronoun is no part of a
    name. The same text is always cut the same way, so reports still share the name."""
    suffix, tags = whole[len(name):], _word_tags()
    while len(name) > 2:
        cut = next((k for k in (2, 1) if name[:k] in _NOT_NAME_WORDS
                    or tags.get(name[:k]) in _NOT_NAME_TAGS or _time_or_position(name[:k])),
                   0)
        if not cut:
            break
        name = name[cut:]
    if (len(name) < 2 or name in _NOT_PLACES or name in _NOT_NAME_WORDS
            or tags.get(name) in _NOT_NAME_TAGS):
        return None
    if (name + suffix).endswith(_NOT_A_CITY):
        return None  # 超市, 城市, 全市: words that end as a city's name does
    if suffix == "路" and name.endswith("道") and len(name) <= 2:
        return None  # 道路 is "a road" (一起道路交通事故 → 起道路), not one road's name
    if suffix == "路" and name.endswith(("线", "电")):
        return None  # 线路, 电路: wiring (检查电气线路), not a road
    return name + _SAME_SUFFIX.get(suffix, suffix)


_NOT_A_CITY = ("超市", "城市", "夜市", "集市", "门市", "股市", "菜市", "全市", "本市", "整个市",
               "全县", "本县")


# One kind of place, named differently by different outlets (阿岗采石场, 阿岗石料开采场).
_SAME_SUFFIX = {"片区": "街道",  # how outlets name a 街道's area (草铺片区, 大观片区)
                "石料厂": "采石场", "石料开采场": "采石场", "砂石场": "采石场",
                "敬老院": "养老院", "卫生院": "医院", "矿井": "矿"}


def _time_or_position(word: str) -> bool:
    """一周前, 此后, 境内, 其中 …: when or where relative to something, not a name's start
    (后所, 中安 are names: a word is cut only when jieba calls it a time, a position …)."""
    return len(word) == 2 and word[1] in "前后中内外" and (
        word[0] in "周天日年月时" or _word_tags().get(word) in ("f", "t", "s", "c", "r"))


@cache
def _word_tags() -> dict[str, str]:
    """Part of speech of every word of one or two characters in jieba's dictionary (read
    from its file: jieba.posseg's full table takes seconds to load)."""
    import jieba

    tags = {}
    path = Path(jieba.__file__).with_name("dict.txt")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, rest = line.partition(" ")
            if len(word) <= 2:
                tags[word] = rest.rpartition(" ")[2].strip()
    return tags


def magnitude_in(text: str) -> float | None:
    """The first magnitude named: the headline's, or the lead's. A report names others after
    it (此次地震震中距9月4日漾濞5.2级地震…), which are not the one it reports."""
    found = (float(m.group(1)) for m in _MAGNITUDE.finditer(normalise_digits(text)))
    return next((m for m in found if 2.0 <= m <= 9.5), None)


def numbers_in(text: str) -> frozenset[str]:
    """Clock times to the minute and counts of 3 or more, as `1:10`, `17人`, `2800元`."""
    text = normalise_digits(text)
    found = {f"{int(h)}:{int(m):02d}" for h, m in _CLOCK.findall(text)}
    found |= {f"{n}{_SAME_UNIT.get(u, u)}" for n, u in _COUNT.findall(text) if float(n) >= 3}
    return frozenset(found)


@lru_cache(maxsize=65536)  # an event's titles are read again at each of its changes
def title_grams(title: str) -> frozenset[str]:
    """Character bigrams of a title, place names and numbers kept."""
    chars = [c for c in normalise_digits(title) if not c.isspace() and c not in "，。、：！？“”"]
    return frozenset(a + b for a, b in zip(chars, chars[1:], strict=False))


@dataclass(frozen=True, slots=True)
class Marks:
    """What identifies the matter one item reports."""

    places: frozenset[str] = frozenset()
    county: str | None = None  # the county the text is mostly about
    counties: frozenset[str] = frozenset()  # every county the text names
    prefecture: str | None = None
    incident: str | None = None  # None for 无
    magnitude: float | None = None
    numbers: frozenset[str] = frozenset()  # clock times and counts (numbers_in)
    pointed: frozenset[str] = frozenset()  # what a pointer names (这家养老院 → 养老院)
    grams: frozenset[str] = frozenset()
    at: float = 0.0
    official: bool = False  # an official item: an answer, which may come weeks later
    headline_counties: frozenset[str] = frozenset()  # the counties the title names
    deaths: float | None = None  # the toll it gives, 0 for 无人员死亡; None when it gives none
    again: bool = False  # it reports another incident like an earlier one (_AGAIN)

    @property
    def named_counties(self) -> frozenset[str]:
        """Every county the text names, the one it is mostly about included."""
        return self.counties | {self.county} if self.county else self.counties


def marks_of(title: str, text: str, *, prefecture: str | None, county: str | None,
             incident: str | None, at: float, official: bool = False,
             deaths: float | None = None) -> Marks:
    body = f"{title}\n{text}"
    places = places_in(body)
    return Marks(places=places, county=county, counties=counties_in(body) | towns_counties(places),
                 prefecture=prefecture,
                 incident=incident if incident and incident != "无" else None,
                 magnitude=magnitude_in(body), numbers=numbers_in(body),
                 pointed=frozenset(_POINTER.findall(body)),
                 grams=title_grams(title), at=at,
                 official=official, headline_counties=counties_in(title), deaths=deaths,
                 again=bool(_AGAIN.search(body[:300])))


@dataclass(slots=True)
class EventMarks:
    """The same, gathered over an event's items."""

    places: frozenset[str] = frozenset()
    counties: set[str] = field(default_factory=set)
    prefecture: str | None = None
    incident: str | None = None
    magnitudes: set[float] = field(default_factory=set)
    numbers: frozenset[str] = frozenset()
    grams: list[frozenset[str]] = field(default_factory=list)  # a few titles' bigrams
    first_seen: float = 0.0
    last_seen: float = 0.0
    deaths: float = 0.0  # the highest toll its reports gave
    # Response id → the places and counts that answer brought to the event (tracker.respond).
    brought: dict[str, frozenset[str]] = field(default_factory=dict)


MAX_TITLES = 8
MAGNITUDE_REVISION = 0.3
LATE_AFTER_DAYS = 2.0
A_DAY = 86400.0  # seconds
AGAIN_AFTER_SECONDS = A_DAY  # "again" speaks of an event at least this much older
SAME_HEADLINE = 0.8  # share of the item's title bigrams found in one of the event's titles
NOTHING_SHARED_TEXT = 0.15  # below this text similarity two reports share no content
NOTHING_SHARED_TITLE = 0.3
FEATURES = ("text", "title", "same_county", "county_conflict", "same_prefecture",
            "prefecture_conflict", "shared_places", "place_conflict", "shared_road",
            "shared_city", "city_conflict", "shared_numbers", "points_back", "incident_agree",
            "incident_conflict", "gap_days", "late_days", "magnitude_match", "magnitude_conflict",
            # Set by the candidate search (grouping.EventIndex.ranked): the text shared with
            # this event beyond the next candidate's.
            "text_lead", "own_place", "county_within_a_day")


def features(item: Marks, event: EventMarks, text_similarity: float,
             terms: Collection[str] = ()) -> dict[str, float]:
    """The pair's features, each a number a duty officer could check by reading. `terms`:
    the event's strongest words (what a follow-up's pointer may name)."""
    named = item.named_counties
    both_county = bool(named and event.counties)
    both_pref = bool(item.prefecture and event.prefecture)
    # A county both name is in one prefecture, whichever the text is mostly about (通海地震：
    # 昆明震感强烈 is about 玉溪's 通海县).
    same_county = both_county and bool(named & event.counties)
    both_incident = bool(item.incident and event.incident)
    gap = max(0.0, item.at - event.last_seen, event.first_seen - item.at)
    mine, theirs = _kinds(item.places), _kinds(event.places)
    shared = shared_places(mine.spots, theirs.spots)
    # The item names a spot or a road of its own, and the event none of them.
    own_place = bool(mine.spots or mine.roads) and not shared and not mine.roads & theirs.roads
    # A report mostly about another county, at a spot of its own, that names the event's
    # county in passing (a rockfall at 福贡县利沙底乡, 与贡山县交界, on the highway the event's
    # is on): that county's matter. (A list of counties that felt an earthquake names no
    # spot: it still shares the county.)
    elsewhere = bool(item.county and item.county not in event.counties and mine.spots
                     and not shared and not item.official)
    # Or whose headline is about another county and names the event's only in its body (昭通
    # 绥江一采石场落石致1死 … 当天上午，同属昭通市的永善县一石料厂发生边坡垮塌). An earthquake's
    # reports name the counties that felt it in their headlines: the magnitude decides those.
    elsewhere = elsewhere or bool(
        item.headline_counties and not item.headline_counties & event.counties
        and item.county not in event.counties and item.magnitude is None
        and not item.official)
    return {
        "text": text_similarity,
        "title": max((_containment(item.grams, g) for g in event.grams), default=0.0),
        "same_county": float(same_county),
        "county_conflict": float(both_county and (not same_county or elsewhere)),
        # The same county within a day of the event's last report: while a matter is live its
        # follow-ups often name only the county (镇雄连夜抽排积水) and share few words with it.
        "county_within_a_day": float(same_county and gap <= A_DAY),
        "same_prefecture": float(same_county or (both_pref
                                                 and item.prefecture == event.prefecture)),
        "prefecture_conflict": float(both_pref and not same_county
                                     and item.prefecture != event.prefecture),
        "shared_places": min(3.0, float(shared)),
        # Both name finer places and none is the same: another town, mine or school, or
        # another phase of one estate.
        "place_conflict": max(_conflict(mine.towns, theirs.towns),
                              _phase_conflict(mine.phases, theirs.phases)),
        # A highway runs through many counties: sharing one says less than a town.
        "shared_road": float(bool(mine.roads & theirs.roads)),
        # A city or county the gazetteer does not hold (合肥市, 温岭市): a region, not a spot.
        "shared_city": float(bool(mine.cities & theirs.cities)),
        "city_conflict": _conflict(mine.cities, theirs.cities),
        # The same clock time or count: one matter told twice (17人死亡, 凌晨1时10分).
        "shared_numbers": min(2.0, float(len(item.numbers & event.numbers))),
        # 这家养老院, 涉事餐馆: the item points back at a thing the event's reports name.
        "points_back": float(bool(item.pointed) and any(
            p.startswith(t) for p in item.pointed for t in terms if len(t) >= 2)),
        # Not fitted (no weight): an emergency reported where the event is none (a meeting,
        # a complaint). may_join reads it: the county alone does not make it that event's.
        # (The other way round is a follow-up the model called 无: 遇难者家属获赔.)
        "kind_differs": float(item.incident is not None and event.incident is None),
        # Not fitted either: the item names a spot or a road of its own and the event none of
        # them (a bus rollover on 开河高速 two days after a fire in the same city).
        "own_place": float(own_place),
        # Not fitted: the item says it is another incident like one before (又有一辆货车侧翻)
        # and the event began a day or more before it: the earlier one, not this.
        "again_older": float(item.again and item.at - event.first_seen >= AGAIN_AFTER_SECONDS),
        # Not fitted: "无人员死亡" of an event whose reports counted its dead (tolls only rise).
        "toll_contradicts": float(item.deaths == 0 and event.deaths >= 1),
        "incident_agree": float(both_incident and item.incident == event.incident),
        "incident_conflict": float(both_incident and item.incident != event.incident),
        "gap_days": min(gap / 86400.0, 14.0),
        # Past the first days only a recap or an investigation's result still comes. Not
        # for an answer: when it comes is its deadline's matter (answer_window).
        "late_days": 0.0 if item.official else min(
            max(0.0, gap / 86400.0 - LATE_AFTER_DAYS), 14.0),
        "magnitude_match": float(item.magnitude is not None
                                 and any(abs(item.magnitude - m) < 0.05
                                         for m in event.magnitudes)),
        # A first automatic measurement is revised by a few tenths (自动测定5.1级 → 正式
        #测定4.9级): only a larger difference is another earthquake.
        "magnitude_conflict": float(item.magnitude is not None and bool(event.magnitudes)
                                    and all(abs(item.magnitude - m) > MAGNITUDE_REVISION
                                            for m in event.magnitudes)),
    }


def may_join(values: dict[str, float]) -> bool:
    """Whether a pair shares something of the matter itself (words, a place, a number, the
    magnitude), or is the same county within the first days. Two matters of one county days
    apart share no more than where and what: a report never joins on those alone once the
    event has been quiet for LATE_AFTER_DAYS (its first days' follow-ups often name only the
    county: 武定县城恢复正常供水)."""
    if values.get("again_older") or values.get("toll_contradicts"):
        return False
    if values["county_conflict"] and not any(
            values[k] for k in ("shared_places", "shared_road", "magnitude_match")):
        # Another county's matter, however alike the words (an accident of the same kind,
        # one meeting held in every county): a report naming a different county is this
        # event's only if it shares the spot, the road or the magnitude (a toll of 5 is
        # too common to tell two accidents apart).
        return False
    identifying = any(values[k] for k in ("shared_places", "shared_numbers", "magnitude_match"))
    if values["late_days"] and values["incident_agree"] and not identifying:
        # An accident of the same kind in the same county, on the same road, days after the
        # event went quiet is as often another accident: its words are the kind's words. A
        # late report joins only when it names the event's spot, a count or the magnitude.
        return False
    return (values["text"] >= NOTHING_SHARED_TEXT or values["title"] >= NOTHING_SHARED_TITLE
            or any(values[k] for k in ("shared_places", "shared_numbers", "magnitude_match"))
            or (bool(values["same_county"]) and values["gap_days"] <= LATE_AFTER_DAYS
                and not values.get("kind_differs") and not values.get("own_place")))


_ROAD_OR_CITY = re.compile(r"^[GS]\d+$|(?:高速|国道|省道|公路|市|县)$")
_CITY = re.compile(r"(?:市|县)$")
_TOWN = re.compile(r"(?:镇|乡|街道|村|社区)$")
_PHASE_NAME = re.compile(r"^(.+?)(?:[一二三四五六七八九十]|\d{1,2})期$")


@dataclass(frozen=True, slots=True)
class _Kinds:
    """One side's places by kind, worked out once per set of places (_kinds)."""

    spots: frozenset[str]  # neither a long road nor a city: towns, mines, schools …
    roads: frozenset[str]  # G214, 杭瑞高速: they cross counties
    cities: frozenset[str]  # cities and counties the gazetteer does not hold (合肥市)
    # Where people live (towns, villages): a matter has one, while a report also names the
    # hospital, the company or the school involved.
    towns: frozenset[str]
    phases: dict[str, frozenset[str]]  # estate → the phases named of it (锦绣华府 → 一期)


@lru_cache(maxsize=65536)  # an event's places are read at each comparison
def _kinds(places: frozenset[str]) -> _Kinds:
    wide = frozenset(p for p in places if _ROAD_OR_CITY.search(p))
    cities = frozenset(p for p in wide if _CITY.search(p))
    spots = places - wide
    phases: dict[str, set[str]] = {}
    for p in spots:
        if m := _PHASE_NAME.match(p):
            phases.setdefault(m.group(1), set()).add(p)
    return _Kinds(spots, wide - cities, cities, frozenset(p for p in spots if _TOWN.search(p)),
                  {k: frozenset(v) for k, v in phases.items()})


def _phase_conflict(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> float:
    """Both name one estate, and no phase of it in common (一期's lifts, 二期's stalled works)."""
    return float(bool(a and b) and any(not a[k] & b[k] for k in a.keys() & b.keys()))


def _conflict(mine: frozenset[str], theirs: frozenset[str]) -> float:
    return float(bool(mine and theirs) and not shared_places(mine, theirs))


def shared_places(mine: frozenset[str], theirs: set[str] | frozenset[str]) -> int:
    """Places named on both sides, one name inside the other counting too (黄埔大道 and
    黄埔大道隧道), as outlets name a place more or less fully; and one name ending the other
    (贵港市 and 广西贵港市, 汶川县 and 川汶川县): what the pattern took in before a name is
    not part of it, while a name and its kind of place are."""
    return sum(1 for p in mine if p in theirs or any(_same_place(p, q) for q in theirs))


def _same_place(p: str, q: str) -> bool:
    short, long = (p, q) if len(p) <= len(q) else (q, p)
    return len(short) >= 3 and (long.endswith(short) or (len(short) >= 4 and short in long))


_SUFFIX_AT_END = re.compile(rf"(?:{_PLACE_SUFFIX}|期)$")


@lru_cache(maxsize=65536)
def place_key(place: str) -> str:
    """The tail two names of one place share when one ends the other (shared_places): the
    kind of place and the two characters before it (广西贵港市, 贵港市 → 贵港市), so the
    candidate search finds an event by a place its reports name more or less fully."""
    suffix = _SUFFIX_AT_END.search(place)
    return place[-(len(suffix.group(0)) + 2):] if suffix else place


def _containment(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a) if a else 0.0


class PairScorer:
    """p(item reports the event's matter) = logistic(w · features + b)."""

    def __init__(self, weights: dict[str, float], bias: float) -> None:
        self.weights = weights
        self.bias = bias

    @classmethod
    def from_file(cls, path: Path = SCORER_PATH) -> PairScorer:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(raw["weights"], raw["bias"])

    def probability(self, values: dict[str, float]) -> float:
        weights = self.weights
        z = self.bias + sum(weights.get(k, 0.0) * v for k, v in values.items() if v)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def evidence(self, values: dict[str, float]) -> tuple[str, ...]:
        """The three features that weighed most, as `name=value(contribution)`."""
        parts = {k: self.weights.get(k, 0.0) * v for k, v in values.items()}
        top = sorted((k for k in parts if parts[k]), key=lambda k: -abs(parts[k]))[:3]
        return tuple(f"{k}={values[k]:g}({parts[k]:+.1f})" for k in top)


@cache
def default_scorer() -> PairScorer:
    return PairScorer.from_file()


def counties_apart(a: Collection[str], b: Collection[str]) -> bool:
    """Two events that each name counties and none in common: an item reporting both does
    not make them one (merged only by an officer; the machine suggests it)."""
    return bool(a) and bool(b) and not set(a) & set(b)
