"""The shipped artifact: small, hash-checked on load, loaded with trusted types only."""

from __future__ import annotations

import json
import shutil

import pytest

from classifiers import model


def test_shipped_model_is_small_and_described():
    meta = model.read_metadata()
    path = model.MODELS_DIR / meta["artifact"]
    assert path.stat().st_size < 20 * 1024 * 1024
    assert meta["sha256"] == model.sha256_of(path)
    for key in ("version", "data_hashes", "label_counts", "metrics", "config", "split"):
        assert key in meta


def _copy(tmp_path):
    for name in (model.ARTIFACT_NAME, model.METADATA_NAME):
        shutil.copy(model.MODELS_DIR / name, tmp_path / name)
    return tmp_path


def test_an_altered_file_is_refused(tmp_path):
    d = _copy(tmp_path)
    with open(d / model.ARTIFACT_NAME, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(model.ArtifactError, match="SHA-256"):
        model.load(d)


def test_a_missing_artifact_is_reported(tmp_path):
    d = _copy(tmp_path)
    (d / model.ARTIFACT_NAME).unlink()
    with pytest.raises(model.ArtifactError, match="missing"):
        model.load(d)
    (d / model.METADATA_NAME).unlink()
    with pytest.raises(model.ArtifactError, match="monitor train"):
        model.load(d)


def test_an_artifact_holding_objects_is_refused(tmp_path):
    """The file holds arrays only: a pickled object (which could run code) is not loaded,
    even with a matching hash."""
    import numpy as np

    d = _copy(tmp_path)
    with np.load(d / model.ARTIFACT_NAME) as arrays:
        parts = dict(arrays)
    key = "terms_utf8" if "terms_utf8" in parts else "terms"  # the vocabulary, as loaded
    parts[key] = np.array([object()], dtype=object)
    np.savez_compressed(d / model.ARTIFACT_NAME, **parts)
    meta = json.loads((d / model.METADATA_NAME).read_text(encoding="utf-8"))
    meta["sha256"] = model.sha256_of(d / model.ARTIFACT_NAME)
    (d / model.METADATA_NAME).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="allow_pickle"):
        model.load(d)


@pytest.mark.parametrize("classes", [("甲", "乙"), ("甲", "乙", "丙", "丁")], ids=["binary", "four"])
def test_array_heads_give_the_calibrated_probabilities_of_scikit_learn(classes):
    import numpy as np
    from scipy import sparse
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(5)
    X = sparse.random(120, 40, density=0.2, random_state=5, format="csr")
    y = [classes[i % len(classes)] for i in range(120)]
    X = X + sparse.csr_matrix(np.eye(len(classes))[[i % len(classes) for i in range(120)]]
                              @ rng.random((len(classes), 40)))
    for ensemble in (False, True):
        clf = CalibratedClassifierCV(LinearSVC(random_state=1), method="sigmoid", cv=3,
                                     ensemble=ensemble).fit(X, y)
        head = model.Head.from_calibrated("t", clf)
        assert np.allclose(head.proba(X), clf.predict_proba(X), atol=1e-5)
        assert list(head.predict(X)) == list(clf.predict(X))


def test_a_logistic_head_gives_the_probabilities_of_scikit_learn():
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    classes = ("甲", "乙")
    rng = np.random.default_rng(7)
    X = sparse.random(90, 30, density=0.3, random_state=7, format="csr")
    y = [classes[i % len(classes)] for i in range(90)]
    X = X + sparse.csr_matrix(np.eye(len(classes))[[i % len(classes) for i in range(90)]]
                              @ rng.random((len(classes), 30)))
    cfg = model.TrainConfig(C=3.0, linear_model="lr")
    head = model.fit_head("t", X, y, cfg)
    lr = LogisticRegression(C=3.0, class_weight="balanced", solver="liblinear", max_iter=2000,
                            random_state=cfg.seed).fit(X, y)
    assert np.allclose(head.proba(X), lr.predict_proba(X), atol=1e-5)
    assert list(head.predict(X)) == list(lr.predict(X))
    with pytest.raises(ValueError, match="binary"):
        model.fit_head("t", X, [("甲", "乙", "丙")[i % 3] for i in range(90)], cfg)
