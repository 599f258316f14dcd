"""train() end to end on a small slice, and the feature transform it ships."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from classifiers import corpus, model, tokenize, train
from classifiers.api import Classifier
from classifiers.model import Features, TrainConfig


def _slice() -> list[corpus.Example]:
    rows = list(corpus.load_synthetic())
    # a small, balanced slice of the synthetic file: enough for 3-fold calibration
    by_topic: dict[str, list] = {}
    for r in rows:
        by_topic.setdefault(r.topic, []).append(r)
    return [r for topic, rs in by_topic.items() if len(rs) >= 30 for r in rs[:30]]


def test_features_match_sklearn_tfidf():
    docs = [tokenize.features(tokenize.raw_tokens(e.text), True) for e in _slice()]
    vec = model.make_vectorizer(TrainConfig(min_df=1, max_df=1.0))
    expected = vec.fit_transform(docs).toarray()
    got = Features.from_vectorizer(vec).transform(docs + [[]]).toarray()
    np.testing.assert_allclose(got[:-1], expected, rtol=1e-5, atol=1e-6)
    assert not got[-1].any()  # an empty document is an empty row


def test_train_save_load_classify_on_a_small_slice(tmp_path):
    examples = _slice()
    cfg = TrainConfig(min_df=1, heads=("topic", "incident"))
    m = train.fit(examples, cfg, "clf-test", progress=False)
    meta = m.save(tmp_path, {"config": asdict(cfg)})
    assert (tmp_path / model.ARTIFACT_NAME).exists() and meta["version"] == "clf-test"
    loaded = model.load(tmp_path)
    clf = Classifier(loaded)
    [c] = clf.classify(["小规模纳税人增值税减免和个税专项附加扣除政策"])
    assert c.topic.label == "减税降费" and c.board is None and c.model_version == "clf-test"
    # a loaded model predicts exactly what the fitted one did
    X = m.transform(m.featurize([tokenize.raw_tokens(e.text) for e in examples[:20]]))
    np.testing.assert_allclose(m.proba("topic", X), loaded.proba("topic", X))
    # and serves them from the same features it was trained on
    raw = [tokenize.raw_tokens(e.text) for e in examples[:20]]
    np.testing.assert_allclose(loaded.encode(raw).toarray(), X.toarray(), rtol=1e-5, atol=1e-7)


def test_training_refuses_missing_data(tmp_path, capsys):
    assert train.main(["--data-root", str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    assert "not found" in capsys.readouterr().err


def test_batch_explanations_equal_the_plain_definition():
    examples = _slice()
    m = train.fit(examples, TrainConfig(min_df=1, heads=("topic",)), "clf-test", progress=False)
    docs = [tokenize.features(tokenize.raw_tokens(e.text), True) for e in examples[::7]] + [[]]
    X = m.transform(docs)
    classes = np.arange(X.shape[0]) % len(m.heads["topic"].classes)
    got = m.explain_batch("topic", X, classes, k=3)
    for row, cls in enumerate(classes):
        start, end = X.indptr[row], X.indptr[row + 1]
        pairs = [
            (float(v) * m.heads["topic"].coef[cls, j], j)
            for v, j in zip(X.data[start:end], X.indices[start:end], strict=True)
        ]
        # positive contributions; words before subwords; strongest first
        pairs = sorted((p for p in pairs if p[0] > 0), key=lambda p: (m.is_subword[p[1]], -p[0]))
        want = [(m.terms[j], w) for w, j in pairs[:3]]
        weight_of = {m.terms[j]: w for w, j in pairs}
        assert len(got[row]) == len(want)
        # the same weights in the same order; among equal weights any order will do
        np.testing.assert_allclose([w for _, w in got[row]], [w for _, w in want], rtol=1e-5)
        for term, w in got[row]:
            assert weight_of[term] == pytest.approx(w, rel=1e-5)
    assert got[-1] == ()


def test_threshold_for_recall_keeps_the_share_asked_and_no_more():
    p = np.array([0.05, 0.10, 0.20, 0.30, 0.40, 0.60, 0.70, 0.90])
    relevant = np.array([True, True, False, True, True, False, True, False])
    t = train.threshold_for_recall(p, relevant, 0.8)  # 4 of the 5 relevant: up to 0.40
    assert 0.40 < t < 0.60
    called = p < t
    assert called[relevant].sum() == 4 and called[~relevant].sum() == 1
    assert train.threshold_for_recall(p, relevant, 1.0) > 0.70  # all five
    assert train.threshold_for_recall(p, relevant, 0.2) == pytest.approx(0.075)  # the first only


def test_relevance_threshold_decides_the_irrelevant_topic():
    examples = _slice()
    m = train.fit(examples, TrainConfig(min_df=1, heads=("topic",)), "clf-test", progress=False)
    classes = list(m.heads["topic"].classes)
    other = classes.index("其他政务")
    m.relevance = ("其他政务", 0.3)  # any class of the slice serves as "the irrelevant one"
    p = np.full((4, len(classes)), 0.01)
    p[0, other] = 0.35  # reaches the threshold though another class is more probable
    p[0, 0 if other else 1] = 0.6
    p[1, other] = 0.29  # most probable, but under the threshold: the next class decides
    p[1, 0 if other else 1] = 0.2
    p[2, other] = 0.9
    ranked = m.ranked("topic", p)
    assert ranked[0, 0] == other and ranked[0, 1] == (0 if other else 1)
    assert ranked[1, 0] == (0 if other else 1) and ranked[1, 1] == other
    # decided relevant: the runner-up is the next most probable class, 无关 or not
    a, b = [c for c in range(len(classes)) if c != other][:2]
    q = np.full((2, len(classes)), 0.01)
    q[0, [a, b, other]] = 0.5, 0.3, 0.05
    q[1, [a, b, other]] = 0.5, 0.1, 0.25
    assert m.ranked("topic", q)[:, :3].tolist() == [[a, b, other], [a, other, b]]
    assert ranked[2, 0] == other
    assert sorted(ranked[3]) == list(range(len(classes)))  # every class once, in any case
    m.relevance = None
    assert m.ranked("topic", p)[1, 0] == other  # plain argmax without a threshold


def test_the_title_head_informs_p_irrelevant_of_short_texts_only(tmp_path):
    irrelevant = [e for e in corpus.load_synthetic() if e.topic == "无关"]
    examples = _slice() + irrelevant
    cfg = TrainConfig(min_df=1, heads=("topic", "title"), title_chars=40, title_mix=0.5)
    m = train.fit(examples, cfg, "clf-test", progress=False)
    assert list(m.heads["title"].classes) == ["无关", train.RELEVANT]
    texts = [e.text for e in examples[::5]]
    lengths = [len(t) for t in texts]
    assert min(lengths) <= 40 < max(lengths)  # both kinds present
    X = m.transform(m.featurize([tokenize.raw_tokens(t) for t in texts]))
    topic, title = m.heads["topic"].proba(X), m.heads["title"].proba(X)
    got = m.proba("topic", X, lengths)
    j = list(m.heads["topic"].classes).index("无关")
    short = np.array(lengths) <= 40
    want = np.where(short, 0.5 * topic[:, j] + 0.5 * title[:, 0], topic[:, j])
    np.testing.assert_allclose(got[:, j], want, rtol=1e-6)
    np.testing.assert_allclose(got[~short], topic[~short], rtol=1e-6)  # long: untouched
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-6)
    # the other topics keep their proportions
    others = np.delete(got, j, axis=1)[short]
    before = np.delete(topic, j, axis=1)[short]
    np.testing.assert_allclose(others / others.sum(1, keepdims=True),
                               before / before.sum(1, keepdims=True), rtol=1e-5)
    # saved and loaded, and served through the encoder, the same numbers; no title verdict
    m.save(tmp_path, {"config": asdict(cfg)})
    loaded = model.load(tmp_path)
    assert loaded.title == (40, 0.5)
    scores = loaded.scores(loaded.encode([tokenize.raw_tokens(t) for t in texts]), lengths)
    assert set(scores.proba) == {"topic"}
    np.testing.assert_allclose(scores.proba["topic"], got, rtol=1e-5, atol=1e-7)


def test_the_nb_scaled_title_head_scores_raw_features_as_the_svm_scored_scaled_ones():
    from scipy import sparse
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    examples = _slice() + [e for e in corpus.load_synthetic() if e.topic == "无关"]
    docs = [tokenize.features(tokenize.raw_tokens(e.text), True) for e in examples]
    vec = model.make_vectorizer(TrainConfig(min_df=1))
    X = vec.fit_transform(docs).tocsr()
    y = ["无关" if e.topic == "无关" else train.RELEVANT for e in examples]
    cfg = TrainConfig(nb_alpha=1.0)
    head = model.fit_head("title", X, y, cfg)
    # what the NB scaling is: a feature used alike by both classes weighs nothing
    r = model.nb_ratio(X, np.array(y) == "无关", 1.0)
    both = sparse.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]))
    assert model.nb_ratio(both, np.array([True, True, False, False]), 1.0)[0] == pytest.approx(0)
    # the stored weights fold the scaling in: raw features give the scaled SVM's numbers
    svm = CalibratedClassifierCV(
        LinearSVC(C=cfg.C, class_weight=cfg.class_weight, random_state=cfg.seed),
        method="sigmoid", cv=cfg.calibration_folds, ensemble=False)
    scaled = (X @ sparse.diags(r.astype(np.float32))).tocsr()
    svm.fit(scaled, y)
    np.testing.assert_allclose(head.proba(X), svm.predict_proba(scaled), rtol=1e-4, atol=1e-6)
    plain = model.fit_head("title", X, y, TrainConfig())
    assert not np.allclose(plain.proba(X), head.proba(X))  # the scaling changed the head
