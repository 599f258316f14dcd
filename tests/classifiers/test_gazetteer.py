"""Region gazetteer: the default province, short forms, and replaceability."""

from __future__ import annotations

import pytest

from classifiers import gazetteer
from classifiers.gazetteer import Gazetteer

G = gazetteer.default()

PREFECTURE_SHORT = [
    "昆明",
    "曲靖",
    "玉溪",
    "保山",
    "昭通",
    "丽江",
    "普洱",
    "临沧",
    "楚雄",
    "红河",
    "文山",
    "西双版纳",
    "大理",
    "德宏",
    "怒江",
    "迪庆",
]


def test_default_has_16_prefectures_and_129_counties():
    assert len(G.prefectures) == 16
    assert sum(len(c) for c in G.counties.values()) == 129
    # every prefecture DOMAIN.md names is there
    for short in PREFECTURE_SHORT:
        assert any(p.startswith(short) for p in G.prefectures), short


@pytest.mark.parametrize(
    "tokens, prefecture, county",
    [
        (["红河州", "发生"], "红河哈尼族彝族自治州", None),
        (["红河哈尼族彝族自治州"], "红河哈尼族彝族自治州", None),
        (["红河县", "农民"], "红河哈尼族彝族自治州", "红河县"),
        (["石林", "景区"], "昆明市", "石林彝族自治县"),
        (["石林县"], "昆明市", "石林彝族自治县"),
        (["西双版纳州", "景洪市"], "西双版纳傣族自治州", "景洪市"),
        (["版纳"], "西双版纳傣族自治州", None),
        (["大理", "大理市"], "大理白族自治州", "大理市"),
        (["昆明市", "五华区"], "昆明市", "五华区"),
        (["芒市"], "德宏傣族景颇族自治州", "芒市"),
    ],
)
def test_match_tokens(tokens, prefecture, county):
    m = G.match_tokens(tokens)
    assert m is not None
    assert (m.prefecture, m.county) == (prefecture, county)


def test_ordinary_words_are_not_places():
    # 威信 "prestige", 古城 "old town", 河口 "river mouth" match only with their suffix
    assert G.match_tokens(["政府", "威信", "古城", "河口"]) is None
    assert G.match_tokens(["威信县"]).county == "威信县"


def test_most_mentioned_prefecture_wins_and_county_must_belong_to_it():
    m = G.match_tokens(["昆明", "开会", "红河州", "个旧市", "红河州"])
    assert m.prefecture == "红河哈尼族彝族自治州"
    assert m.county == "个旧市"
    assert m.matched == ("红河州", "个旧市")


def test_match_text_uses_the_tokeniser():
    m = G.match_text("昨日，红河州个旧市发生一起交通事故")
    assert (m.prefecture, m.county) == ("红河哈尼族彝族自治州", "个旧市")
    assert G.match_text("A市某小区物业乱收费") is None


def test_to_json():
    assert G.match_tokens(["曲靖市"]).to_json() == {"prefecture": "曲靖市", "county": None}


def test_a_replacement_gazetteer_is_used_as_given():
    other = Gazetteer(
        {
            "province": "测试省",
            "prefectures": [
                {"name": "甲乙族自治州", "aliases": ["甲州"], "counties": ["丙县", "丁戊族自治县"]}
            ],
        }
    )
    assert other.match_tokens(["丁戊族自治县"]).county == "丁戊族自治县"
    assert other.match_tokens(["甲州"]).prefecture == "甲乙族自治州"
    assert other.match_tokens(["昆明"]) is None


def test_place_names_inside_longer_words_do_not_match():
    # token-based matching: 大理石 (marble) and 普洱茶 (tea) are words of their own
    assert G.match_text("大理石地板和普洱茶都涨价了") is None


@pytest.mark.parametrize(("text", "prefecture", "county"), [
    ("云南镇雄一煤矿发生透水事故", "昭通市", "镇雄县"),  # news drops the 县
    ("会泽一煤矿发生瓦斯爆炸", "曲靖市", "会泽县"),
    ("建水古城游客量创新高", "红河哈尼族彝族自治州", "建水县"),
])
def test_distinctive_county_names_match_without_their_suffix(text, prefecture, county):
    match = G.match_text(text)
    assert (match.prefecture, match.county) == (prefecture, county)


def test_towns_by_full_name_and_a_name_two_counties_share_is_left_out():
    raw = {"province": "测试省", "prefectures": [
        {"name": "甲市", "counties": ["东区", "西区"]}],
        "towns": {"东区": ["大观街道", "太和街道"], "西区": ["太和街道"]}}
    g = Gazetteer(raw)
    assert g.towns["大观街道"] == gazetteer.Place("甲市", "东区")
    assert "太和街道" not in g.towns
    assert "大观" not in g.names  # towns are not given to the tokeniser or the region match
    assert G.towns["草铺街道"].county == "安宁市"
