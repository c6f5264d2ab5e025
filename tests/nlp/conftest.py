"""Shared fixtures: one default model per test session, built in a temporary cache dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, require_or_skip

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repo's data dir (seed corpus, user dictionary, stop words)."""
    return DATA_DIR


def shared_data(name: str) -> Path:
    """A file of ../shared/data: skip when it is absent, but fail in CI, where it must exist."""
    path = SHARED_DATA / name
    if not path.is_file():
        require_or_skip(f"real data {path} not present (../shared/data is optional outside CI)")
    return path
