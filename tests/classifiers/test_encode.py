"""The serving encoder gives the training features' numbers without building their strings."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers import corpus, encode, model, tokenize, train
from classifiers.model import Features, TrainConfig

TEXTS = [
    "曲靖市富源县一煤矿发生瓦斯爆炸，造成11名矿工遇难，安监部门介入调查",
    "小区物业乱收费，业主多次投诉无果，希望住建部门尽快处理",
    "",  # no tokens at all
    "的了吗，。！",  # only stop words and punctuation
    "foo_bar_baz 项目_名称 交通_运输 事故",  # tokens may hold "_": pairs must still match
    "ＡＢＣ１２３ 全角文字与养老金发放",
    "日本养老院火灾死亡人数升至10人 美国与日本官员表示哀悼",  # places abroad: the marker
]


def _fitted(opening: int, grams: tuple[int, ...], foreign: int = 0):
    docs_text = [e.text for e in corpus.load_synthetic()][::3] + TEXTS
    raw = [tokenize.raw_tokens(t) for t in docs_text]
    docs = [tokenize.features(r, True, opening, grams, foreign) for r in raw]
    vec = model.make_vectorizer(TrainConfig(min_df=1, max_df=1.0))
    vec.fit(docs)
    features = Features.from_vectorizer(vec)
    enc = encode.Encoder(features.vocab, features.idf, True, opening, grams, foreign)
    return features, enc, raw, docs


@pytest.mark.parametrize("opening,grams,foreign",
                         [(0, (2,), 0), (30, (2,), 0), (60, (1, 2, 3), 0), (60, (1, 2, 3), 3)])
def test_rows_equal_the_training_transform(opening, grams, foreign):
    features, enc, raw, docs = _fitted(opening, grams, foreign)
    if foreign:  # the marker is counted once per foreign word, `foreign` times
        assert docs[-1].count(tokenize.FOREIGN_MARK) == 3 * foreign
    want = features.transform(docs).toarray()
    got = enc.encode(raw)
    np.testing.assert_allclose(got.toarray(), want, rtol=1e-5, atol=1e-7)
    # columns sorted within each row, as a CSR matrix keeps them
    for r in range(got.shape[0]):
        cols = got.indices[got.indptr[r] : got.indptr[r + 1]]
        assert (np.diff(cols) > 0).all()
    # a second batch, in another order, with the memo warm: the same rows
    again = enc.encode(raw[::-1])
    np.testing.assert_allclose(again.toarray(), want[::-1], rtol=1e-5, atol=1e-7)


def test_a_term_holding_underscores_is_found_from_its_pair():
    features, enc, raw, docs = _fitted(0, (2,))
    pairs = [f for d in docs for f in d if f.count("_") >= 2]
    assert pairs  # the test text gives a pair whose words hold "_"
    np.testing.assert_allclose(enc.encode(raw).toarray(), features.transform(docs).toarray(),
                               rtol=1e-5, atol=1e-7)


def test_the_memo_is_bounded_and_a_reset_changes_nothing(monkeypatch):
    features, enc, raw, docs = _fitted(60, (1, 2, 3))
    want = features.transform(docs).toarray()
    monkeypatch.setattr(encode, "_MEMO_LIMIT", 50)
    for _ in range(3):  # each batch starts by forgetting the tokens of the last
        np.testing.assert_allclose(enc.encode(raw).toarray(), want, rtol=1e-5, atol=1e-7)
        assert len(enc.tokens) < 50 + sum(map(len, raw)) + 2 * len(enc.vocab)


def test_rows_dot_equals_the_sparse_product():
    features, enc, raw, docs = _fitted(30, (2,))
    rows = enc.encode(raw)
    weights = np.random.default_rng(1).normal(size=(rows.shape[1], 4)).astype(np.float32)
    want = features.transform(docs) @ weights
    np.testing.assert_allclose(rows.dot(weights), want, rtol=1e-4, atol=1e-5)


def test_shipped_model_serves_what_it_would_compute_in_training(shipped):
    m = shipped.model
    raw = [tokenize.raw_tokens(t) for t in TEXTS]
    X = m.transform(m.featurize(raw))
    rows = m.encode(raw)
    np.testing.assert_allclose(rows.toarray(), X.toarray(), rtol=1e-5, atol=1e-7)
    for name, p in m.proba_all(rows).items():
        np.testing.assert_allclose(p, m.heads[name].proba(X), rtol=1e-5, atol=1e-7)


def test_train_featurize_matches_the_model_config():
    docs = train.featurize(TEXTS[:1], progress=False, subwords=True, opening=8,
                           opening_grams=(1, 3))
    opening = [f for f in docs[0] if f.startswith("%")]
    assert "%一" in opening and "%一煤矿" in opening and not any(len(f) == 3 for f in opening)


def test_explanations_from_the_gathered_weights_equal_a_fresh_gather(shipped):
    m = shipped.model
    rows = m.encode([tokenize.raw_tokens(t) for t in TEXTS * 3])
    scores = m.scores(rows)
    for head in ("topic", "incident"):
        classes = np.argsort(-scores.proba[head], axis=1)[:, 0]
        assert m.explain_batch(head, rows, classes, gathered=scores.gathered) == \
            m.explain_batch(head, rows, classes)


def test_threads_encoding_at_once_get_the_rows_of_one_at_a_time():
    """Workers tag in threads (asyncio.to_thread): the token memo numbers tokens and records
    their features as they are first seen, which must not interleave."""
    import sys
    import threading

    features, enc, raw, docs = _fitted(60, (1, 2, 3))
    want = features.transform(docs).toarray()
    results: list = [None] * 8
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        def work(i: int) -> None:
            results[i] = enc.encode(raw if i % 2 else raw[::-1]).toarray()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    for i, got in enumerate(results):
        np.testing.assert_allclose(got, want if i % 2 else want[::-1], rtol=1e-5, atol=1e-7)


def test_tokens_first_met_in_a_later_batch_join_the_arrays():
    features, enc, raw, docs = _fitted(60, (1, 2, 3))
    want = features.transform(docs).toarray()
    half = len(raw) // 2
    np.testing.assert_allclose(enc.encode(raw[:half]).toarray(), want[:half], rtol=1e-5,
                               atol=1e-7)
    before = len(enc.tokens)
    got = enc.encode(raw[half:]).toarray()  # new tokens: appended to the memo's arrays
    assert len(enc.tokens) > before
    np.testing.assert_allclose(got, want[half:], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(enc.encode(raw).toarray(), want, rtol=1e-5, atol=1e-7)
