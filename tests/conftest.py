"""Shared fixtures: the real bundled models load once per test run."""

from __future__ import annotations

import pytest

from node_svc.pipeline import Pipeline


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    return Pipeline.bundled()
