"""Taxonomy as data: the labels the issue asks for, and a replaceable file."""

from __future__ import annotations

import pytest

from classifiers import taxonomy

T = taxonomy.default()


def test_topics_incidents_and_grades():
    assert T.topics == (
        "减税降费",
        "金融安全",
        "生态环境",
        "脱贫攻坚",
        "教育改革",
        "食品药品",
        "卫生健康",
        "养老服务",
        "公正监管",
        "社会保障",
        "社会治安",
        "房地产市场",
        "营商环境",
        "其他政务",
        "无关",
    )
    assert T.incidents == ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件", "无")
    assert T.severities == ("特别重大", "重大", "较大", "一般")
    assert T.floor_grade == "一般" and T.rank("特别重大") == 0


def test_thresholds_are_domain_table():
    assert T.thresholds["特别重大"] == {
        "deaths": 30,
        "serious_injuries": 100,
        "direct_loss_wan": 10000,
    }
    assert T.thresholds["较大"]["deaths"] == 3


def test_a_replacement_file_is_read_and_checked(tmp_path):
    text = taxonomy.DEFAULT_PATH.read_text(encoding="utf-8").replace(
        "较大:     {deaths: 3,", "较大:     {deaths: 4,"
    )
    path = tmp_path / "tax.yaml"
    path.write_text(text, encoding="utf-8")
    assert taxonomy.load(path).thresholds["较大"]["deaths"] == 4
    path.write_text(text.replace("direct_loss_wan: 1000}", "direct_loss: 1000}"), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown criteria"):
        taxonomy.load(path)
