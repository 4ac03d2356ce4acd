"""The same input gives the same findings in every process.

String hashes (and with them the order of sets) change from one interpreter to the next: a scan's workers, a
resumed scan and a rerun a year later must still agree byte for byte. Each run here is a fresh interpreter with
its own PYTHONHASHSEED."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "corpus" / "samples"


def _findings(paths: list[Path], seed: int, *extra: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    cmd = [sys.executable, "-m", "detector.cli", "check", *extra, "--format", "jsonl", *map(str, paths)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout


def test_samples_give_the_same_findings_under_any_hash_seed() -> None:
    runs = {_findings([SAMPLES], seed) for seed in (0, 1, 2)}
    assert len(runs) == 1 and runs.pop().count("\n") > 0


@pytest.mark.slow
def test_seeds_and_jiangsu_give_the_same_findings_under_any_hash_seed(seeds: Path, jiangsu: Path) -> None:
    assert len({_findings([seeds], seed) for seed in (0, 1)}) == 1
    folders = sorted(p for p in jiangsu.iterdir() if p.is_dir())
    assert len({_findings(folders, seed, "--document-per-folder") for seed in (0, 1)}) == 1
