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


def test_untrusted_types_are_refused(tmp_path, monkeypatch):
    d = _copy(tmp_path)
    meta = json.loads((d / model.METADATA_NAME).read_text(encoding="utf-8"))
    assert meta["sha256"]
    # without the trusted list skops must refuse the artifact's types
    monkeypatch.setattr(model, "TRUSTED", [])
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        model.load(d)
