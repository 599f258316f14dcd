"""The labelled corpus: mapping, synthetic file, declared split, and no leakage."""

from __future__ import annotations

import json
from collections import Counter

from classifiers import corpus, labels, model, taxonomy, train

from .conftest import needs_corpus

UNCOVERED = ("减税降费", "金融安全", "脱贫攻坚", "养老服务", "公正监管", "社会治安", "营商环境")


def test_synthetic_file_has_60_marked_examples_per_uncovered_topic():
    rows = [
        json.loads(x)
        for x in corpus.SYNTHETIC_PATH.read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]
    counts = Counter(r["topic"] for r in rows)
    for topic in UNCOVERED:
        assert counts[topic] >= 60, topic
    tax = taxonomy.default()
    assert all(r["synthetic"] is True for r in rows)
    assert all(r["topic"] in tax.topics and r["incident"] in tax.incidents for r in rows)
    assert len({r["text"] for r in rows}) == len(rows), "duplicate synthetic texts"
    assert len({r["id"] for r in rows}) == len(rows)
    # varied: no two rows of a topic share their first 12 characters
    for topic in UNCOVERED:
        heads = [r["text"][:12] for r in rows if r["topic"] == topic]
        assert len(set(heads)) == len(heads), topic


def test_read_labels_are_taxonomy_topics_and_cec_maps_onto_it():
    tax = taxonomy.default()
    assert {label.label for label in labels.read_labels()} <= set(tax.topics)
    for incident, topic in corpus.CEC_MAP.values():
        assert incident in tax.incidents and topic in tax.topics


def test_split_is_deterministic_and_ignores_whitespace():
    text = "某小区 物业费\n一年涨了两次"
    assert corpus.split_of(text) == corpus.split_of("某小区物业费一年涨了两次")
    shares = Counter(corpus.split_of(f"样本{i}") for i in range(5000))
    assert 0.17 < shares["test"] / 5000 < 0.23 and 0.07 < shares["dev"] / 5000 < 0.13


@needs_corpus
def test_every_message_was_read_and_its_text_is_the_one_read():
    examples = corpus.load_all()  # raises if a labelled text changed since it was read
    teddy = [e for e in examples if e.source == "teddy"]
    assert teddy and all(e.read for e in teddy)
    assert {e.original for e in teddy} <= set(corpus.TEDDY_CLASSES) | {""}
    assert sum(1 for e in examples if e.source == "cec") == 332
    # news titles: only the read ones carry a topic other than the weak 无关
    assert all(e.read or e.topic == "无关" for e in examples if e.source == "thucnews")


@needs_corpus
def test_near_duplicate_messages_fall_in_one_split():
    examples = corpus.load_all()
    firsts = corpus.near_duplicate_firsts(examples)
    clusters = {}
    for example, first in zip(examples, firsts, strict=True):
        clusters.setdefault(first, []).append(example)
    edited = [c for c in clusters.values() if len(c) > 1]
    assert len(edited) >= 20  # the board holds many edited reposts
    parts = corpus.split(examples)
    side = {id(e): name for name, rows in parts.items() for e in rows}
    assert all(len({side[id(e)] for e in cluster}) == 1 for cluster in edited)


@needs_corpus
def test_no_evaluation_text_is_in_the_training_split():
    parts = corpus.split(corpus.load_all())
    trained = parts["train"] + parts["dev"]
    exact = {corpus.normalized_key(e.text) for e in trained}
    assert not [e.id for e in parts["test"] if corpus.normalized_key(e.text) in exact]
    # near-duplicates too: a repost with an edited body starts the same way
    starts = {corpus.normalized_key(e.text)[:30] for e in trained}
    near = [e.id for e in parts["test"] if corpus.normalized_key(e.text)[:30] in starts]
    assert not near, near[:5]


@needs_corpus
def test_the_shipped_model_was_not_trained_on_evaluation_text():
    shipped = set((model.MODELS_DIR / train.TRAIN_HASHES_NAME).read_text(encoding="utf-8").split())
    test = corpus.split(corpus.load_all())["test"]
    leaked = [e.id for e in test if corpus.text_hash(e.text)[: train.HASH_CHARS] in shipped]
    assert not leaked, f"{len(leaked)} test rows were trained on, e.g. {leaked[:3]}"
    # and the hashes do describe the training rows
    trained = corpus.split(corpus.load_all())["train"]
    assert all(corpus.text_hash(e.text)[: train.HASH_CHARS] in shipped for e in trained[:500])


@needs_corpus
def test_shipped_metrics_hold_their_measured_level():
    """A regression guard on the held-out figures of the shipped model (labels read, split
    by near-duplicate cluster). Below the issue's targets today: README says by how much."""
    m = model.read_metadata()["metrics"]
    assert m["topic_messages_accuracy"] >= 0.82 and m["topic_messages_macro_f1"] >= 0.68
    assert m["titles_relevant_precision"] >= 0.72 and m["titles_relevant_recall"] >= 0.80
    assert m.get("titles_relevant_precision_at_recall_0_80", 1.0) >= 0.77
    # the six news sections alone (without the feed's sports, game, entertainment, stocks)
    assert m.get("titles_news_classes_precision_at_recall_0_80", 1.0) >= 0.78
    assert m["topic_written_headlines_macro_f1"] >= 0.70
    assert m["topic_written_macro_f1"] >= 0.84
    assert m["board_teddy_macro_f1"] >= 0.85
    assert m["topic_expected_calibration_error"] <= 0.08
    assert m["cec_incident_test_accuracy"] >= 0.97
    assert m["cec_severity_agreement_all"] >= 0.90


@needs_corpus
def test_cec_documents_read_as_running_text():
    ex = next(e for e in corpus.load_cec() if "6人亡" in e.id)
    title, body = ex.text.split("\n", 1)
    assert "\t" not in body and "事故共造成6人死亡" in body


def test_each_second_reader_is_compared_on_their_own_readings(tmp_path):
    header = "source\tline\tsha1\tlabel\tlabeller\tnote\n"
    rows = {"a": ["教育改革", "无关"], "b": ["无关", "无关"]}
    paths = []
    for name, (first_line, second_line) in rows.items():
        path = tmp_path / f"double_reader-{name}.tsv"
        path.write_text(header + f"s\t1\tx\t{first_line}\treader-{name}\t\n"
                        f"s\t2\tx\t{second_line}\treader-{name}\t\n", encoding="utf-8")
        paths.append(path)
    readers = labels.second_readers(paths)
    assert set(readers) == {"reader-a", "reader-b"}
    # the same texts read by both: each reader keeps their own labels
    assert readers["reader-a"][("s", 1)].label == "教育改革"
    assert readers["reader-b"][("s", 1)].label == "无关"
    assert labels.agreement(readers["reader-a"], readers["reader-b"])[0] == 0.5
