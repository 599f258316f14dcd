"""What identifies a matter in a report: place names as outlets write them, the headline's
magnitude, and the pair features read from them."""

from __future__ import annotations

import pytest

from monitor.track.grouping import term_vector
from monitor.track.identity import (
    EventMarks,
    Marks,
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
