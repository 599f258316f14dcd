"""Fixtures of the classifier tests: the shipped model, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers import corpus

needs_corpus = pytest.mark.skipif(
    not corpus.shared_data_available(),
    reason=f"training/evaluation data not present at {corpus.SHARED_DATA} (only on the project's CI)",
)


@pytest.fixture(scope="session")
def shipped():
    from classifiers import load_default

    return load_default()


@pytest.fixture
def repo_root() -> Path:
    return corpus.REPO_ROOT
