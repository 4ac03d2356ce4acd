"""Shared fixtures. Tests that read ../shared/corpus are marked ``slow`` and skip with a reason when the
shared corpus is absent (a user's checkout has none)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
SAMPLES = ROOT / "corpus" / "samples"


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared corpus not found at {SHARED} (it sits beside the checkout in CI)")
    return SHARED


@pytest.fixture(scope="session")
def seeds(shared_corpus: Path) -> Path:
    return shared_corpus / "seeds"


@pytest.fixture(scope="session")
def jiangsu(shared_corpus: Path) -> Path:
    return shared_corpus / "jiangsu"
