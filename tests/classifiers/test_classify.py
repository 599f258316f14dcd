"""The shipped model on clear hand-written examples, and the shape of its answers."""

from __future__ import annotations

import pytest

from classifiers import Classification, classify


@pytest.mark.parametrize(
    "text, topic",
    [
        ("梅西上演帽子戏法，巴萨4比0大胜对手，球迷狂欢", "无关"),
        ("《王者荣耀》新赛季英雄平衡调整，玩家热议新皮肤", "无关"),
        ("小规模纳税人增值税起征点提高，我们公司申报时系统还按3%征收，请税务局解答", "减税降费"),
        ("我父亲82岁，社区居家养老服务中心一直关门，高龄津贴也没有发放", "养老服务"),
        ("建档立卡贫困户的危房改造补助被村干部克扣，扶贫资金去向不明", "脱贫攻坚"),
        ("某投资公司以高息为诱饵非法集资，老人们的养老钱血本无归，请求公安立案", "金融安全"),
        ("工厂夜间偷排污水，河里的鱼大量死亡，环保部门一直不处理", "生态环境"),
        ("政务服务中心办营业执照来回跑了五趟，部门之间互相推诿，营商环境亟待改善", "营商环境"),
    ],
)
def test_clear_topics(shipped, text, topic):
    [c] = shipped.classify([text])
    assert c.topic.label == topic, (c.topic, c.topic.terms)


@pytest.mark.parametrize(
    "text, incident",
    [
        ("云南某县发生6.2级地震，已造成3人死亡、20余人受伤，大量房屋倒塌", "自然灾害"),
        ("高速公路上两辆客车相撞，事故造成5人死亡，交警正在调查事故原因", "事故灾难"),
        ("某小学120名学生午餐后出现呕吐腹泻，疑似食物中毒，已送医院治疗", "公共卫生事件"),
        ("火车站发生暴力恐怖袭击，多名暴徒持刀砍杀群众", "社会安全事件"),
        ("我们小区的物业费一年涨了两次，业主委员会一直没有成立", "无"),
    ],
)
def test_clear_incidents(shipped, text, incident):
    [c] = shipped.classify([text])
    assert c.incident.label == incident, (c.incident, c.incident.terms)


def test_a_full_verdict_with_evidence(shipped):
    [c] = shipped.classify(["红河州个旧市一煤矿发生透水事故，已造成三人死亡，死亡人数升至十二人"])
    assert isinstance(c, Classification)
    assert c.incident.label == "事故灾难"
    assert (
        c.severity.grade == "重大"
        and c.severity.evidence["deaths"] == 12
        and not c.severity.inferred
    )
    assert (c.region.prefecture, c.region.county) == ("红河哈尼族彝族自治州", "个旧市")
    assert c.model_version.startswith("clf-")


def test_predictions_explain_themselves(shipped):
    [c] = shipped.classify(["企业反映增值税留抵退税迟迟不到账，减税降费政策落实不到位"])
    p = c.topic
    assert p.label != p.runner_up and 0 <= p.runner_up_p <= p.p <= 1
    terms = [t for t, _ in p.terms]
    assert terms and all(w > 0 for _, w in p.terms)
    assert any(t in {"减税降费", "增值税", "留抵退税", "退税"} or "税" in t for t in terms)


def test_low_confidence_is_flagged_not_forced(shipped):
    threshold = shipped.tax.low_confidence["topic"]
    # a text that mixes three topics, one that names two, and a clear one
    texts = ["企业税收和环保检查", "村里的扶贫车间污染河流", "梅西上演帽子戏法，巴萨4比0大胜对手"]
    results = shipped.classify(texts)
    for c in results:
        # texts of known words: the flag follows the probability alone
        assert c.topic.low_confidence == (c.topic.p < threshold)
        assert c.topic.label and c.topic.runner_up  # still answered, with its runner-up
    # the text naming two topics has them as label and runner-up, near each other
    mixed = results[1].topic
    assert {mixed.label, mixed.runner_up} == {"脱贫攻坚", "生态环境"}
    assert mixed.p - mixed.runner_up_p < 0.2
    assert not results[-1].topic.low_confidence


def test_non_incident_has_no_severity(shipped):
    [c] = shipped.classify(["建议学校延长课后服务时间，方便双职工家庭接送孩子"])
    assert c.incident.label == "无" and c.severity.grade is None


def test_batch_equals_one_by_one(shipped):
    texts = ["昆明市五华区小区停水三天无人管", "德宏州瑞丽市口岸通关排长队", "周杰伦新专辑发布"]
    batch = shipped.classify(texts)
    single = [shipped.classify([t])[0] for t in texts]
    assert [b.to_json() for b in batch] == [s.to_json() for s in single]


def test_module_level_classify_accepts_a_string_or_a_list():
    assert len(classify("周杰伦新专辑发布")) == 1
    assert len(classify(["a", "b", "c"])) == 3
    assert classify([]) == []


def test_text_without_known_terms_is_low_confidence(shipped):
    for c in shipped.classify(["", "   ", "ㄅㄆㄇㄈ"]):
        assert c.topic.low_confidence and c.incident.low_confidence
        assert c.topic.terms == () and c.severity.grade is None
