"""A tagger for tracking tests: the real tokeniser, gazetteer and severity rules, with topic
and incident from a few keywords instead of the shipped model, so these tests pin tracking's
behaviour and do not move when the model is retrained. The end-to-end tests use the model."""

from __future__ import annotations

import re
from collections.abc import Sequence

from classifiers import gazetteer, severity, tokenize
from classifiers.result import Classification, Prediction
from monitor.models import Item
from monitor.track.tagging import tag
from monitor.track.tracker import Tagged

INCIDENTS = (
    ("事故灾难", "事故|透水|爆炸|坍塌|垮塌|火灾|起火|车祸|翻车|侧翻|相撞|坠江|泄漏|死鱼"),
    ("自然灾害", "地震|洪水|山洪|泥石流|滑坡"),
    ("公共卫生事件", "中毒|疫情"),
    ("社会安全事件", "砍人|袭击|持刀"),
)
TOPICS = (
    ("无关", "明星|新剧|定档|球队|比赛|常规赛|联赛|男篮|演唱会|综艺"),
    ("减税降费", "减税|降费|退税"),
    ("生态环境", "污水|排污|气味|洱海|滇池|污染|排放|环保|化工厂"),
    ("房地产市场", "物业|房产|楼盘|烂尾|公积金"),
    ("养老服务", "养老|退休金"),
    ("教育改革", "学校|小学|中学|撤并|学费"),
    ("社会治安", "警方|诈骗|传销|打人|掌掴"),
    ("营商环境", "营商环境|审批|企业办事"),
)


def _predict(table, text: str, default: str) -> Prediction:
    label = next((name for name, words in table if re.search(words, text)), default)
    return Prediction(label, 0.9, default, 0.05, (), False)


class KeywordClassifier:
    def classify_with_tokens(self, texts: Sequence[str]):
        tokens = [tokenize.raw_tokens(t) for t in texts]
        return [self._one(t, raw) for t, raw in zip(texts, tokens, strict=True)], tokens

    def _one(self, text: str, raw: list[str]) -> Classification:
        incident = _predict(INCIDENTS, text, "无")
        return Classification(
            topic=_predict(TOPICS, text, "其他政务"), incident=incident,
            severity=severity.assess(text, is_incident=incident.label != "无"),
            region=gazetteer.default().match_tokens(raw), board=None, model_version="keywords")


def fake_tag(items: Sequence[Item], vector_terms: int) -> list[Tagged]:
    return tag(items, vector_terms, classifier=KeywordClassifier())
