"""Shared fixtures: one default model per test session, built in a temporary cache dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "data"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repo's data dir (seed corpus, user dictionary, stop words)."""
    return DATA_DIR


def shared_data(name: str) -> Path:
    """A file of ../shared/data: skip when it is absent, but fail in CI, where it must exist."""
    path = SHARED_DATA / name
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing, and CI must run the real-data checks")
        pytest.skip(f"real data {path} not present (../shared/data is optional outside CI)")
    return path
