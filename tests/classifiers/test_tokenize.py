"""Tokeniser: domain terms stay whole, stop words go, one instance, deterministic."""

from __future__ import annotations

import pytest

from classifiers import tokenize


@pytest.mark.parametrize(
    "term",
    ["减税降费", "放管服", "河长制", "两不愁三保障", "一网通办", "红河州", "西双版纳州", "个旧市"],
)
def test_domain_terms_are_single_tokens(term):
    assert term in tokenize.raw_tokens(f"关于{term}的问题，群众很关心")


def test_stop_words_punctuation_and_numbers_are_dropped():
    toks = tokenize.tokenize("我们的小区，在2019年出现了 问题！！")
    assert "的" not in toks and "我们" not in toks
    assert not any(t in {"，", "！", "2019", " "} for t in toks)
    assert "小区" in toks


def test_full_width_text_is_normalised():
    assert tokenize.raw_tokens("ＡＢＣ１２３") == tokenize.raw_tokens("abc123")


def test_deterministic_and_single_instance():
    text = "昆明市官渡区一网通办窗口排长队，放管服改革要落到实处"
    assert tokenize.raw_tokens(text) == tokenize.raw_tokens(text)
    assert tokenize.get_tokenizer() is tokenize.get_tokenizer()


def test_features_add_bigrams_and_optional_subwords():
    raw = ["电子竞技", "比赛", "的", "冠军"]
    feats = tokenize.features(raw)
    assert feats == ["电子竞技", "比赛", "冠军", "电子竞技_比赛", "比赛_冠军"]
    sub = tokenize.features(raw, subwords=True)
    assert "#竞技" in sub and "#比赛" not in sub  # only inside words of 3+ characters


def test_shipped_stopword_list_keeps_signal_words():
    stop = tokenize.read_stopwords()
    assert len(stop) > 1000
    for word in ("保险", "死亡", "中毒", "严重", "部门"):
        assert word not in stop


def test_place_names_are_not_model_features():
    feats = tokenize.features(tokenize.raw_tokens("曲靖市富源县发生瓦斯爆炸"), subwords=True)
    assert "瓦斯" in feats or "瓦斯爆炸" in feats
    assert not any("曲靖" in f or "富源" in f for f in feats)


def test_opening_bigrams_leave_out_places_and_punctuation():
    raw = tokenize.raw_tokens("曲靖市富源县一煤矿发生瓦斯爆炸，造成11名矿工遇难")
    opening = [f for f in tokenize.features(raw, opening=8) if f.startswith("%")]
    # 曲靖市 and 富源县 are the gazetteer's; the opening starts after them
    assert opening == ["%一煤", "%煤矿", "%矿发", "%发生", "%生瓦", "%瓦斯", "%斯爆"]
    assert not [f for f in tokenize.features(raw) if f.startswith("%")]  # off by default
