"""Shared fixtures: the real bundled models load once per test run."""

from __future__ import annotations

import pytest

from node_svc.pipeline import Pipeline


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    return Pipeline.bundled()


@pytest.fixture(scope="session")
def languages_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """A node as `lingua up` builds it: every bundled model (tiny.en, multilingual base, Apertium pairs, the
    phrasebook, Piper joe) from a model store, espeak-ng's voices beside them."""
    from tests.helpers.store import seed_store

    store = seed_store(tmp_path_factory.mktemp("store") / "models")
    return Pipeline.from_store(store)
