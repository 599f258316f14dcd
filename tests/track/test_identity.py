"""What identifies a matter in a report: place names as outlets write them, the headline's
magnitude, and the pair features read from them."""

from __future__ import annotations

import pytest

from monitor.track.grouping import term_vector
from monitor.track.identity import (
    EventMarks,
    Marks,
    counties_in,
    features,
    magnitude_in,
    marks_of,
    may_join,
    numbers_in,
    places_in,
)


@pytest.mark.parametrize(("text", "places"), [
    ("看到县纪委通报者兔乡那个村干部收钱", {"者兔乡"}),  # a verb before the name is cut
    ("97路不再经过波罗村一带", {"波罗村"}),
    ("一周前篆塘路烧烤店打人视频引发关注", {"篆塘路"}),  # so is a time word
    ("富源县后所镇红土田煤矿", {"后所镇", "红土田煤矿"}),  # 后 may start a name
    ("罗平县阿岗镇一石料开采场", {"阿岗镇"}),  # the county's tail is no part of the town
    ("几个村的孩子在十字路口等车，事故路段封闭", set()),  # counts and spots name no place
    ("送往县人民医院救治", set()),  # a name every county has
    ("在104国道温岭段，国道213线", {"G104", "G213"}),  # a national road by its number
    ("麒麟区锦绣华府一期3栋的电梯", {"锦绣华府一期"}),  # a phase of an estate
    ("通海县发生一起道路交通事故", set()),  # 道路 is "a road", not one road's name
    ("记者再访草铺片区", {"草铺街道"}),  # a 街道's area as outlets name it
    ("在浙江省温岭市小溪岭", {"温岭市"}),  # a city the gazetteer does not hold
    ("记者来到下关太和街道那家养生体验馆", {"太和街道"}),  # 和 ends a town's name
    ("张家村和李家村", {"张家村", "李家村"}),  # and still parts two
    ("说是苍洱生物的原始股", {"苍洱生物"}),  # a company named by what it does
])
def test_place_names_without_what_came_before_them(text, places):
    assert places_in(text) == places


def test_one_kind_of_place_named_differently_is_one_place():
    assert places_in("阿岗石料开采场坍塌") == places_in("阿岗采石场垮塌") == {"阿岗采石场"}


def test_synonyms_count_as_one_word_in_the_text_vector():
    one = term_vector(["采石场", "垮塌"], [], 60)
    other = term_vector(["石料厂", "坍塌"], [], 60)
    assert one == other


def test_the_magnitude_is_the_headlines_not_one_named_after_it():
    assert magnitude_in("漾濞县4.1级地震未造成伤亡。此次地震震中距9月4日漾濞5.2级地震约8公里") == 4.1


def test_a_revised_magnitude_is_no_conflict_another_one_is():
    event = EventMarks(magnitudes={5.1})
    assert features(Marks(magnitude=4.9), event, 0.0)["magnitude_conflict"] == 0.0
    assert features(Marks(magnitude=4.1), event, 0.0)["magnitude_conflict"] == 1.0


def test_another_town_conflicts_a_shared_highway_is_weaker_than_a_town():
    event = EventMarks(places=frozenset({"G214", "小中甸镇"}))
    other_town = features(Marks(places=frozenset({"G214", "奔子栏镇"})), event, 0.0)
    assert (other_town["place_conflict"], other_town["shared_road"]) == (1.0, 1.0)
    assert other_town["shared_places"] == 0.0
    same_town = features(Marks(places=frozenset({"小中甸镇"})), event, 0.0)
    assert (same_town["place_conflict"], same_town["shared_places"]) == (0.0, 1.0)


def test_a_county_both_name_is_one_prefecture_whichever_the_text_is_about():
    item = Marks(counties=frozenset({"通海县"}), prefecture="昆明市")
    event = EventMarks(counties={"通海县"}, prefecture="玉溪市")
    values = features(item, event, 0.0)
    assert (values["same_prefecture"], values["prefecture_conflict"]) == (1.0, 0.0)


def test_late_days_count_for_reports_not_for_answers():
    event = EventMarks(first_seen=0.0, last_seen=0.0)
    five_days = 5 * 86400.0
    assert features(Marks(at=five_days), event, 0.0)["late_days"] == pytest.approx(3.0)
    assert features(Marks(at=five_days, official=True), event, 0.0)["late_days"] == 0.0


def test_clock_times_and_counts_of_three_or_more_are_the_numbers_compared():
    text = "凌晨1时10分，造成１７人死亡、2人受伤，26名学生送医，收费2800元"
    assert numbers_in(text) == {"1:10", "17人", "26人", "2800元"}
    event = EventMarks(numbers=numbers_in("京珠北高速凌晨1时10分追尾，17人死亡"))
    assert features(Marks(numbers=numbers_in(text)), event, 0.0)["shared_numbers"] == 2.0


def test_another_phase_of_one_estate_conflicts():
    event = EventMarks(places=places_in("南宁街道锦绣华府二期停工一年多"))
    other = features(Marks(places=places_in("锦绣华府一期电梯停运")), event, 0.0)
    same = features(Marks(places=places_in("锦绣华府二期9栋")), event, 0.0)
    assert (other["place_conflict"], same["place_conflict"]) == (1.0, 0.0)


def test_a_city_outside_the_gazetteer_weighs_as_a_region_not_as_a_spot():
    event = EventMarks(places=places_in("合肥市交警部门获悉，合宁高速35公里处三车相撞"))
    same = features(Marks(places=places_in("合肥市政府有关领导赶往现场")), event, 0.0)
    assert (same["shared_city"], same["shared_places"], same["city_conflict"]) == (1.0, 0.0, 0.0)
    other = features(Marks(places=places_in("衡水市区一商住楼起火")), event, 0.0)
    assert (other["shared_city"], other["city_conflict"]) == (0.0, 1.0)


@pytest.mark.parametrize(("values", "joins"), [
    ({"text": 0.05, "title": 0.1, "same_county": 1.0, "gap_days": 1.0}, True),  # first days
    ({"text": 0.05, "title": 0.1, "same_county": 1.0, "gap_days": 4.0}, False),  # days apart
    ({"text": 0.05, "title": 0.1, "shared_numbers": 1.0, "gap_days": 4.0}, True),
    ({"text": 0.3, "title": 0.0, "gap_days": 4.0}, True),
], ids=["county-first-days", "county-days-apart", "a-shared-count", "shared-words"])
def test_where_and_what_alone_join_only_in_the_first_days(values, joins):
    full = features(Marks(), EventMarks(), 0.0) | values
    assert may_join(full) is joins


def test_a_follow_up_pointing_at_what_the_event_names_points_back():
    item = marks_of("护理员重新培训", "22日，记者来到这家养老院，院内张贴了新的探视安排",
                    prefecture=None, county=None, incident=None, at=0.0)
    assert features(item, EventMarks(), 0.2, ("养老院", "约束"))["points_back"] == 1.0
    assert features(item, EventMarks(), 0.2, ("餐馆", "菌子"))["points_back"] == 0.0


def test_another_countys_matter_joins_only_on_a_shared_spot_road_or_magnitude():
    """A coal-mine flood in 富民县 told in the very words of one in 五华区 the same minute is
    another accident, even with the same toll; a report naming another county joins only on
    something of the place itself (the highway that crosses both, the magnitude)."""
    event = EventMarks(counties={"五华区"}, incident="事故灾难",
                       numbers=numbers_in("已造成3人死亡"), places=frozenset({"G56"}))
    alike = features(Marks(counties=frozenset({"富民县"}), incident="事故灾难"), event, 0.95)
    assert alike["county_conflict"] == 1.0 and not may_join(alike)
    road = features(Marks(counties=frozenset({"富民县"}), incident="事故灾难",
                          places=frozenset({"G56"})), event, 0.95)
    toll = features(Marks(counties=frozenset({"富民县"}), incident="事故灾难",
                          numbers=numbers_in("已造成3人死亡")), event, 0.95)
    assert may_join(road) and not may_join(toll)
    same = features(Marks(counties=frozenset({"五华区"}), incident="事故灾难"), event, 0.95)
    assert may_join(same)


def test_the_county_alone_does_not_take_an_emergency_into_an_event_of_another_kind():
    """An explosion in 江川区 minutes after a meeting in 江川区 shares the county and nothing
    else: it opens its own event (a follow-up the model called 无 may still join an
    emergency on the county in its first days)."""
    meeting = EventMarks(counties={"江川区"}, incident=None)
    blast = features(Marks(counties=frozenset({"江川区"}), incident="事故灾难"), meeting, 0.01)
    assert blast["same_county"] == 1.0 and not may_join(blast)
    accident = EventMarks(counties={"江川区"}, incident="事故灾难")
    follow_up = features(Marks(counties=frozenset({"江川区"}), incident=None), accident, 0.01)
    assert may_join(follow_up)


def test_a_report_of_another_county_at_a_spot_of_its_own_conflicts_though_it_names_ours():
    """A rockfall at 福贡县利沙底乡 "与贡山县交界", on the highway the 贡山 event is on: the
    neighbouring county's matter. A list of counties that felt an earthquake names no spot
    of its own and still shares the county (test_grouping)."""
    text = "福贡县利沙底乡与贡山县交界的怒江美丽公路一处路段发生落石"
    item = Marks(county="福贡县", counties=counties_in(text), places=places_in(text),
                 incident="事故灾难")
    event = EventMarks(counties={"贡山独龙族怒族自治县"}, incident="事故灾难",
                       places=places_in("贡山县丙中洛镇境内怒江美丽公路一处路段突发山体落石"))
    values = features(item, event, 0.3)
    assert (values["same_county"], values["county_conflict"]) == (1.0, 1.0)
    ours = features(Marks(county="贡山独龙族怒族自治县", counties=counties_in(text),
                          places=places_in("丙中洛镇"), incident="事故灾难"), event, 0.3)
    assert ours["county_conflict"] == 0.0


def test_the_county_alone_does_not_join_a_report_that_names_a_spot_of_its_own():
    """A bus rollover on 开河高速 two days after a fire in 蒙自市 shares the city and the kind;
    it names a road the fire's reports do not: its own matter. A follow-up naming only the
    county (县城恢复正常供水) still joins in the first days."""
    fire = EventMarks(counties={"蒙自市"}, incident="事故灾难",
                      places=places_in("蒙自市文澜镇一出租屋起火"))
    bus = features(Marks(county="蒙自市", counties=frozenset({"蒙自市"}), incident="事故灾难",
                         places=places_in("G8011开河高速蒙自段一辆大客车侧翻")), fire, 0.01)
    assert bus["own_place"] == 1.0 and not may_join(bus)
    follow_up = features(Marks(county="蒙自市", counties=frozenset({"蒙自市"}),
                               incident="事故灾难"), fire, 0.01)
    assert may_join(follow_up)


def test_the_towns_an_official_notice_names_identify_the_event_too():
    """The county's 灾情通报 names 太平乡, the first report only the county: a follow-up from
    太平乡 the next morning shares a town with the event once the notice is attached."""
    from datetime import timedelta

    from monitor.track.grouping import EventIndex, Match
    from monitor.track.policy import default_policy
    from monitor.track.tracker import Tracker, to_index_entry
    from tests.track.conftest import make_item
    from tests.track.faketagger import fake_tag

    first = make_item(1, "云南漾濞发生5.2级地震", "大理州漾濞县发生5.2级地震，大理市区震感明显。")
    notice = make_item(2, "漾濞县5.2级地震灾情通报", "太平乡部分民房出现墙体开裂。", hours=10,
                       source="gov", official=True)
    report, answer = fake_tag([first, notice], 60)
    policy = default_policy()
    tracker = Tracker(policy, EventIndex(policy.grouping))
    now = first.published + timedelta(hours=11)
    event = tracker.open(report, now).event
    assert "太平乡" not in event.places
    event = tracker.respond(event, answer, Match(event.id, 0.9, 0.3, ()), now).event
    assert "太平乡" in event.places and "太平乡" in to_index_entry(event).marks.places
