"""Severity rules: every threshold boundary, Chinese numerals, revisions, explicit grades."""

from __future__ import annotations

import pytest

from classifiers import severity
from classifiers.severity import assess, extract, grade_numbers, parse_number


@pytest.mark.parametrize(
    "evidence, grade",
    [
        ({"deaths": 2}, "一般"),
        ({"deaths": 3}, "较大"),
        ({"deaths": 9}, "较大"),
        ({"deaths": 10}, "重大"),
        ({"deaths": 29}, "重大"),
        ({"deaths": 30}, "特别重大"),
        ({"serious_injuries": 9}, "一般"),
        ({"serious_injuries": 10}, "较大"),
        ({"serious_injuries": 49}, "较大"),
        ({"serious_injuries": 50}, "重大"),
        ({"serious_injuries": 99}, "重大"),
        ({"serious_injuries": 100}, "特别重大"),
        ({"poisoned": 9}, "一般"),
        ({"poisoned": 10}, "较大"),
        ({"direct_loss_wan": 999.9}, "一般"),
        ({"direct_loss_wan": 1000}, "较大"),
        ({"direct_loss_wan": 4999}, "较大"),
        ({"direct_loss_wan": 5000}, "重大"),
        ({"direct_loss_wan": 9999}, "重大"),
        ({"direct_loss_wan": 10000}, "特别重大"),
        ({"magnitude": 5.9}, "一般"),
        ({"magnitude": 6.0}, "较大"),
        ({"magnitude": 7.0}, "重大"),
        ({"magnitude": 8.0}, "特别重大"),
        # the worst criterion wins
        ({"deaths": 1, "serious_injuries": 55}, "重大"),
        ({"deaths": 2, "missing": 1}, "较大"),  # 死亡（含失踪）
        ({"serious_injuries": 6, "poisoned": 4}, "较大"),  # 重伤 incl. acute poisoning
    ],
    ids=lambda v: str(v),
)
def test_grade_boundaries(evidence, grade):
    assert grade_numbers(evidence)[0] == grade


def test_no_usable_number_gives_no_grade():
    assert grade_numbers({}) is None
    assert grade_numbers({"injured": 300}) is None  # 受伤 of unknown gravity is not graded


@pytest.mark.parametrize(
    "raw, value",
    [
        ("12", 12),
        ("十二", 12),
        ("三", 3),
        ("两百", 200),
        ("一千二百", 1200),
        ("1.2万", 12000),
        ("十", 10),
        ("七点八", 7.8),
    ],
)
def test_parse_number(raw, value):
    assert parse_number(raw) == value


def test_parse_number_unreadable():
    assert parse_number("数十") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("事故造成三人死亡", {"deaths": 3}),
        ("十二名矿工遇难", {"deaths": 12}),
        ("两百余人受伤", {"injured": 200}),
        ("造成6人死亡，3人重伤，14人轻微伤", {"deaths": 6, "serious_injuries": 3, "injured": 14}),
        ("翻车事故致2死2伤", {"deaths": 2, "injured": 2}),
        ("客车坠江24人失踪", {"missing": 24}),
        ("死亡人数已升至12人，另有2人失联", {"deaths": 12, "missing": 2}),  # 失联 = missing
        ("仍有三人下落不明", {"missing": 3}),
        ("东莞26名学生吃食堂发馊剩饭致食物中毒", {"poisoned": 26}),
        ("７０多名员工食物中毒", {"poisoned": 70}),  # full-width digits
        ("直接经济损失1.2亿元", {"direct_loss_wan": 12000}),
        ("造成约3000万元直接经济损失", {"direct_loss_wan": 3000}),
        ("经济损失达五千万元", {"direct_loss_wan": 5000}),
        ("四川汶川县发生7.8级强烈地震", {"magnitude": 7.8}),
        ("里氏八级地震", {"magnitude": 8}),
        ("汕头大火13名女工被熏死", {"deaths": 13}),
        ("致周某当场死亡", {"deaths": 1}),
    ],
)
def test_extract(text, expected):
    assert extract(text) == expected


def test_counts_follow_the_latest_highest_figure():
    text = "事故已造成三人死亡。据最新消息，死亡人数升至十二人，另有5人受伤。"
    assert extract(text)["deaths"] == 12
    assert assess(text).grade == "重大"


def test_a_count_is_not_taken_across_punctuation():
    # "3人受伤，1人死亡" must not read as 3 deaths
    assert extract("3人受伤，1人死亡") == {"injured": 3, "deaths": 1}
    assert extract("三人受伤一人死亡")["deaths"] == 1


def test_wind_force_is_not_a_magnitude():
    assert "magnitude" not in extract("今天刮5级风，局地有阵雨")


def test_explicit_grade_counts():
    v = assess("某县发生一起较大道路交通事故，伤亡情况正在核实")
    assert (v.grade, v.inferred, v.explicit) == ("较大", False, "较大道路交通事故")


def test_explicit_and_numbers_take_the_more_severe():
    v = assess("发生一起较大火灾事故，造成12人死亡")
    assert v.grade == "重大"
    assert v.explicit == "较大火灾事故"


def test_reform_words_are_not_explicit_grades():
    assert severity.explicit_grade("省政府召开重大项目推进会，部署重大决策落实") is None


def test_no_number_is_marked_inferred():
    v = assess("昨晚小区发生火灾，消防正在扑救")
    assert (v.grade, v.inferred, v.evidence) == ("一般", True, {})


def test_not_an_incident_keeps_evidence_but_no_grade():
    v = assess("3人死亡", is_incident=False)
    assert v.grade is None and v.evidence == {"deaths": 3}


def test_everyday_yiban_is_not_a_grade():
    assert severity.explicit_grade("一般来说这类案件都由派出所处理") is None
    assert severity.explicit_grade("发生一起一般道路交通事故")[0] == "一般"


def test_counts_are_found_anywhere_in_a_long_report():
    filler = "当地政府组织各方力量全力开展救援工作，" * 60
    text = filler + "截至目前，事故已造成3人死亡。" + filler + "据最新通报，死亡人数升至十二人，直接经济损失约1200万元。" + filler
    assert extract(text) == {"deaths": 12, "direct_loss_wan": 1200}
