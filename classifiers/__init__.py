"""Topic, incident, severity and region tagging for government public opinion.

from classifiers import classify
[c] = classify(["红河州个旧市发生一起交通事故，造成3人死亡"])
c.topic.label, c.incident.label, c.severity.grade, c.region.prefecture
"""

from .api import Classifier, classify, load, load_default
from .gazetteer import RegionMatch
from .result import JSONL_KEYS, Classification, Prediction
from .severity import SeverityVerdict

__all__ = [
    "Classification",
    "Classifier",
    "JSONL_KEYS",
    "Prediction",
    "RegionMatch",
    "SeverityVerdict",
    "classify",
    "load",
    "load_default",
]
