"""Follow-ups of one matter reach its event: reports that name the place more or less fully,
follow-ups without the headline, a later report of the same kind on the same road; each with
the look-alike that must stay apart."""

from __future__ import annotations

from datetime import timedelta

from monitor.track.grouping import Entry, EventIndex, normalise
from monitor.track.identity import EventMarks, Marks, features, marks_of, may_join, places_in
from monitor.track.orphans import best_for
from monitor.track.policy import default_policy
from monitor.track.tracker import Tracker, to_index_entry
from tests.track.conftest import make_item
from tests.track.faketagger import fake_tag


def _route(reports, item):
    """Open one event per report (in order), then route `item` as the tracker would."""
    policy = default_policy()
    index = EventIndex(policy.grouping)
    tracker = Tracker(policy, index)
    tagged = fake_tag([*reports, item], policy.grouping.centroid_terms)
    events = []
    for t in tagged[:-1]:
        event = tracker.open(t, t.item.published + timedelta(minutes=1)).event
        index.put(to_index_entry(event))
        events.append(event.id)
    action, match = tracker.route(tagged[-1])
    return action, (events.index(match.event_id) if match else None)


def test_a_place_named_more_fully_is_the_same_place():
    # The pattern takes in what comes before a name (广西贵港市, 四川汶川县 → 川汶川县).
    event = EventMarks(places=places_in("四川汶川县映秀镇发生山体滑坡，广西贵港市救援队赶到"))
    same = features(Marks(places=places_in("汶川县映秀镇滑坡")), event, 0.1)
    assert same["shared_places"] == 1.0  # 映秀镇; the county is a city, weighed apart
    # A city named more or less fully is no other city (shared_city still asks for one name).
    city = features(Marks(places=places_in("贵港市消防支队接警后赶到")), event, 0.1)
    assert city["city_conflict"] == 0.0
    other = features(Marks(places=places_in("梧州市消防支队接警后赶到")), event, 0.1)
    assert other["city_conflict"] == 1.0


def test_the_candidate_search_finds_an_event_by_a_place_named_more_fully():
    """Among many open accidents told in the same words, the one on 徽州大道 is shortlisted
    for a follow-up naming 徽州大道, though its reports wrote 城徽州大道; 长江大道 is not."""
    index = EventIndex(default_policy().grouping)
    words = normalise({"事故": 1.0, "货车": 1.0, "死亡": 1.0})
    for n in range(40):  # a minute later than the 徽州大道 one: ties go to them
        index.put(Entry(f"crash{n}", dict(words), None, "事故灾难", 60, 0,
                        marks=EventMarks(incident="事故灾难")))
    index.put(Entry("huizhou", dict(words), None, "事故灾难", 0, 0,
                    marks=EventMarks(places=places_in("沿城徽州大道由北向南行驶"),
                                     incident="事故灾难")))
    ranked = index.ranked(Marks(places=places_in("行至徽州大道与紫云路交口"),
                                incident="事故灾难"), words)
    assert "huizhou" in [m.event_id for m in ranked]
    ranked = index.ranked(Marks(places=places_in("行至长江大道与紫云路交口"),
                                incident="事故灾难"), words)
    assert "huizhou" not in [m.event_id for m in ranked]


# One morning's traffic accidents, each reported once (headline and lead), all open.
ACCIDENTS = [make_item(n, title, lead, hours=0.1 * n) for n, (title, lead) in enumerate((
    ("17岁少女殒命搅拌车下", "昨天上午，朝阳区实兴北街一路口，一名骑自行车的17岁少女被右转的水泥"
                         "搅拌车卷入车底，当场死亡。"),
    ("合宁高速三车相撞5死2伤", "昨日凌晨，合宁高速合肥段一辆油罐车撞上停靠在应急车道更换轮胎的货车，"
                           "造成5人死亡2人受伤。"),
    ("八达岭高速多车追尾3人死亡", "昨天傍晚，八达岭高速进京方向康庄收费站附近发生多车追尾事故，造成3人"
                              "死亡，道路封闭7小时。"),
    ("南昌一男子酒驾引发交通事故", "前晚，南昌市一名男子醉酒驾驶轿车与一辆出租车相撞，所幸无人受伤，男子"
                               "被警方带走。"),
    ("昆明立交桥3车相撞致5死2伤", "昨日上午8时20分，昆明二环北路立交桥上一辆货车失控，与两辆小轿车相撞，"
                              "造成5人死亡2人受伤。"),
    ("宁夏固原3车追尾造成苯泄漏2人死亡", "昨日，G312线固原段一辆装载苯的罐车与中巴车、货车追尾，苯泄漏"
                                    "并起火，2人死亡。"),
))]


def _follow_up(text: str):
    return make_item(50, text[:20], text, hours=2)


def test_a_follow_up_without_the_headline_joins_the_event_it_shares_most_words_with():
    """The rest of the 搅拌车 report names no place and shares a few words with its event
    (text 0.44): alone, that read as too little; beyond every other open accident's share
    (a text lead), it is that accident's."""
    follow_up = _follow_up("在事发现场，一辆水泥搅拌车车头向东停在十字路口，后车轮下一辆自行车已经"
                           "扭曲变形，地上还有几摊血迹。警察正在勘查现场。")
    assert _route(ACCIDENTS, follow_up) == ("join", 0)


def test_a_follow_up_sharing_only_the_kinds_words_joins_none():
    follow_up = _follow_up("据交警介绍，事故现场一辆白色轿车车头严重变形，驾驶员已被警方控制，"
                           "事故原因正在调查中。")
    assert _route(ACCIDENTS, follow_up) == ("open", None)


def test_an_event_alone_in_the_window_gives_no_text_lead():
    index = EventIndex(default_policy().grouping)
    words = normalise({"搅拌车": 1.0, "自行车": 1.0})
    index.put(Entry("alone", dict(words), None, "事故灾难", 0, 0))
    assert index.ranked(Marks(), words)[0].values["text_lead"] == 0.0


def test_generic_company_kinds_name_no_place():
    assert places_in("物业说要等维保公司报价，供水公司也说不归他们管") == frozenset()
    assert places_in("说是苍洱生物的原始股") == {"苍洱生物"}


def test_a_complaint_about_another_estate_of_the_county_opens_its_own_event():
    resettlement = make_item(1, "三江安置小区何时复工",
                             "麒麟区三江安置小区工地已经停工一年多，几百户拆迁户每天都在问什么"
                             "时候能住进去，过渡费什么时候补发？", source="board",
                             channel="message_board")
    certificate = make_item(2, "翠峰家园交房六年办不了房产证",
                            "麒麟区翠峰家园2020年就交房了，到现在还办不了不动产权证，开发商说是"
                            "土地出让金没交清。", hours=26, source="board",
                            channel="message_board")
    follow_up = make_item(3, "拆迁五年了安置房还没交房",
                          "我们是麒麟区三江安置小区的被拆迁户，签的协议说两年交房，过渡费也停发"
                          "了半年，请政府给个说法。", hours=30, source="board",
                          channel="message_board")
    assert _route([resettlement], certificate) == ("open", None)
    assert _route([resettlement], follow_up) == ("join", 0)


def test_a_late_report_of_the_same_kind_joins_only_on_the_spot_a_count_or_the_magnitude():
    """A truck rolls over on the road where a bus did a week before: the same county, road,
    kind and words, yet another accident. The bus's recap naming its spot still joins."""
    late = {"text": 0.6, "title": 0.6, "same_county": 1.0, "shared_road": 1.0,
            "incident_agree": 1.0, "gap_days": 6.7, "late_days": 4.7}
    assert not may_join(features(Marks(), EventMarks(), 0.0) | late)
    recap = late | {"shared_places": 1.0}
    assert may_join(features(Marks(), EventMarks(), 0.0) | recap)
    early = late | {"gap_days": 1.0, "late_days": 0.0}
    assert may_join(features(Marks(), EventMarks(), 0.0) | early)


def test_a_notice_naming_only_its_town_is_about_the_towns_county():
    """The police notice names 大观街道, not 五华区: the gazetteer's towns tie it to the event
    of 五华区; a notice from 关上街道 is 官渡区's matter."""
    event = EventMarks(counties={"五华区"}, prefecture="昆明市")
    ours = marks_of("警情通报", "9月19日23时许，大观街道篆塘路一烧烤店内，杨某因琐事与邻桌顾客"
                    "发生口角", prefecture=None, county=None, incident=None, at=0.0)
    assert features(ours, event, 0.2)["same_county"] == 1.0
    theirs = marks_of("警情通报", "9月19日23时许，关上街道一烧烤店内，杨某因琐事与邻桌顾客发生口角",
                      prefecture=None, county=None, incident=None, at=0.0)
    assert features(theirs, event, 0.2)["county_conflict"] == 1.0


def test_words_that_end_as_a_citys_name_are_no_city():
    assert places_in("整个市场被烧毁，附近一家超市和夜市也受波及，交警提醒全市司机绕行") == frozenset()
    assert places_in("合肥市交警部门获悉") == {"合肥市"}


# A coal-mine flood in 镇雄县 that morning; a report from 彝良县 that afternoon names it in passing.
ZHENXIONG_FLOOD = make_item(
    41, "镇雄县一煤矿发生透水事故 5人被困",
    "11月16日8时许，昭通市镇雄县以勒镇一煤矿井下发生透水，5名矿工被困，救援正在进行。")


def test_a_report_whose_headline_is_another_countys_stays_apart():
    brickworks = make_item(
        42, "昭通彝良一砖厂发生坍塌致1死",
        "16日下午，昭通市彝良县一砖厂发生坍塌，一名工人不幸身亡。当天上午，同属昭通市的镇雄县"
        "一煤矿发生透水事故，5名矿工被困。", hours=6)
    assert _route([ZHENXIONG_FLOOD], brickworks) == ("open", None)
    # Its own matter's follow-up, naming 彝良 in its body only, still joins the flood.
    follow_up = make_item(
        43, "镇雄透水事故被困矿工已有3人获救",
        "截至16日18时，镇雄县以勒镇煤矿透水事故被困的5名矿工中已有3人获救，彝良县救护队也赶来"
        "支援。", hours=10)
    assert _route([ZHENXIONG_FLOOD], follow_up) == ("join", 0)


def test_another_accident_like_an_earlier_one_opens_its_own_event():
    """"又有一辆货车侧翻": a report of another accident where one happened days before."""
    crash = make_item(51, "杭瑞高速彝良段两车相撞致4死",
                      "11月16日9时许，杭瑞高速彝良段一辆大客车与货车相撞，造成4人死亡。")
    again = make_item(52, "三天之内，杭瑞高速彝良段又出事了",
                      "距16日杭瑞高速彝良段客货车相撞事故仅三天，19日下午该路段又有一辆货车侧翻，"
                      "所幸司机仅受轻伤。", hours=3 * 24 + 8)
    assert _route([crash], again) == ("open", None)
    # Its toll rising again is no other accident: "又有1名伤者经抢救无效死亡".
    toll = make_item(53, "杭瑞高速彝良段客货车相撞事故死亡人数升至5人",
                     "记者获悉，杭瑞高速彝良段客货车相撞事故又有1名伤者经抢救无效死亡。",
                     hours=30)
    assert _route([crash], toll) == ("join", 0)


# That morning a landslide buried houses in 广南县 and another buried a car in neighbouring
# 富宁县: the same kind, prefecture and hours.
GUANGNAN_LANDSLIDE = make_item(
    61, "广南县突发山体滑坡 多户民房被埋",
    "8月10日5时许，文山州广南县珠琳镇一村庄后山发生山体滑坡，多户民房被埋，有人员失联。")
FUNING_LANDSLIDE = make_item(
    62, "富宁县一路段发生山体滑坡 1辆轿车被埋",
    "8月10日7时许，文山州富宁县剥隘镇境内一处公路边坡受强降雨影响发生滑坡，一辆过往轿车被埋，"
    "车内1人遇难。", hours=1.5)


def _naming_only_the_county(county: str, hours: float):
    return make_item(63, f"{county}：滑坡受灾群众已转移安置 搜救仍在继续",
                     f"次日清晨，{county}已将滑坡受威胁区域群众转移至安置点，提供食宿和医疗服务，"
                     "搜救人员轮班作业。", hours=hours)


def test_a_follow_up_naming_only_the_county_joins_its_event_in_the_first_day():
    """It shares only the kind's words with either landslide: the county, within a day of
    the event's last report, is what says which; the neighbouring county's stays apart."""
    assert _route([GUANGNAN_LANDSLIDE, FUNING_LANDSLIDE],
                  _naming_only_the_county("广南县", hours=20)) == ("join", 0)
    assert _route([GUANGNAN_LANDSLIDE, FUNING_LANDSLIDE],
                  _naming_only_the_county("富宁县", hours=20)) == ("join", 1)
    # Past that day the county alone weighs less: such a report is as often another matter.
    late = features(Marks(county="广南县", at=3 * 86400.0),
                    EventMarks(counties={"广南县"}, first_seen=0.0, last_seen=0.0), 0.0)
    early = features(Marks(county="广南县", at=0.5 * 86400.0),
                     EventMarks(counties={"广南县"}, first_seen=0.0, last_seen=0.0), 0.0)
    assert (late["county_within_a_day"], early["county_within_a_day"]) == (0.0, 1.0)


def test_township_cadres_and_wiring_name_no_town_or_road():
    """住建和乡镇干部 is no 建和乡, 电气线路 no road: the county's safety sweep after a house fire
    had a place of its own and no longer joined the fire; a real 乡 or road still counts."""
    sweep = "大姚县组织消防、住建和乡镇干部，对县城自建房逐户检查电气线路和疏散通道"
    assert places_in(sweep) == frozenset()
    assert places_in("太和乡干部和南屏路商户") == {"太和乡", "南屏路"}


# A collision that killed 5, and two days later the police's notice of a roll-over there.
CRASH = make_item(71, "杭瑞高速彝良段两车相撞致5死",
                  "11月16日9时许，杭瑞高速彝良段一辆大客车与货车相撞，造成5人死亡。")
ROLLOVER = make_item(72, "杭瑞高速彝良段一货车侧翻 无人员死亡",
                     "11月18日13时许，杭瑞高速彝良段一辆货车侧翻，驾驶人轻微擦伤，无人员死亡。",
                     hours=52, source="police", official=True, channel="weibo")


def test_a_notice_of_no_deaths_is_no_answer_to_an_event_that_counted_its_dead():
    """Two days after a collision that killed 5 on 杭瑞高速彝良段, the police report a roll-over
    there with no one killed: another accident (tolls only rise), not the collision's answer.
    The collision's own 通报, giving its toll, still answers it."""
    assert _route([CRASH], ROLLOVER) == ("skip", None)
    notice = make_item(73, "关于杭瑞高速彝良段“11·16”道路交通事故的情况通报",
                       "11月16日9时许，杭瑞高速彝良段一辆大客车与货车相撞，造成5人死亡。",
                       hours=6, source="police", official=True, channel="weibo")
    assert _route([CRASH], notice) == ("respond", 0)


def test_a_waiting_notice_of_no_deaths_is_not_adopted_by_an_event_that_counted_its_dead():
    """The same rule where a waiting answer is re-matched (orphans.best_for) as where it
    first arrives: the roll-over's notice stays waiting when the collision's event grows."""
    policy = default_policy()
    index = EventIndex(policy.grouping)
    opened, waiting = fake_tag([CRASH, ROLLOVER], policy.grouping.centroid_terms)
    event = Tracker(policy, index).open(opened, CRASH.published).event
    index.put(to_index_entry(event))
    assert best_for(index.get(event.id), [waiting], policy, index) == []
    assert features(waiting.marks, index.get(event.id).marks, 0.5)["toll_contradicts"] == 1.0
