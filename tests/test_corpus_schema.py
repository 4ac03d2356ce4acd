"""The corpus as published: every Parquet table read back fits its documented columns and types, the README
documents exactly those columns, and verdicts from the review database and from gold land in it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from detector.cli import main
from detector.corpus.build import build
from detector.corpus.schema import BY_NAME, CHECKS, TABLES, SchemaError, check_table, conform
from detector.review.db import ReviewDB

SAMPLES = Path(__file__).resolve().parents[1] / "corpus" / "samples"


@pytest.fixture(scope="module")
def scan_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scan of a copy of the samples, made from the folder above them with a relative root (as a person
    types it); the corpus is then built from another folder."""
    base = tmp_path_factory.mktemp("scan")
    shutil.copytree(SAMPLES, base / "src")
    here = Path.cwd()
    os.chdir(base)
    try:
        assert main(["scan", "src", "--out", "out", "-q"]) == 0
    finally:
        os.chdir(here)
    return base / "out"


@pytest.fixture(scope="module")
def corpus(scan_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    contract = [json.loads(x) for x in (scan_out / "findings.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert contract, "the planted sample should produce findings"
    db = ReviewDB(tmp_path_factory.mktemp("review") / "review.sqlite")
    db.sync("samples", contract)
    db.set_verdict(contract[0]["fingerprint"], "dismissed", "测试：误报")
    out = tmp_path_factory.mktemp("corpus")
    assert main(["corpus", "build", str(scan_out), "--out", str(out), "--verdicts", str(db.path),
                 "--gold", str(SAMPLES / "gold.jsonl")]) == 0
    return out


def test_every_table_fits_its_documented_schema(corpus: Path) -> None:
    for spec in TABLES:
        table = pq.read_table(corpus / spec.file)
        assert check_table(table, spec) == [], spec.name
    assert pq.read_table(corpus / "documents.parquet").num_rows == 2
    assert pq.read_table(corpus / "claims.parquet").num_rows > 10


def test_readme_documents_every_column(corpus: Path) -> None:
    readme = (corpus / "README.md").read_text(encoding="utf-8")
    for spec in TABLES:
        assert f"## {spec.name}" in readme
        for col in spec.columns:
            assert f"| `{col.name}` | {col.type} |" in readme, f"{spec.name}.{col.name}"
    assert "**consistency**" in readme  # the metric definitions are part of it


def test_verdicts_from_review_and_gold(corpus: Path) -> None:
    verdicts = pd.read_parquet(corpus / "verdicts.parquet")
    review = verdicts[verdicts["source"] == "review"]
    assert review["verdict"].tolist() == ["dismissed"]
    assert review["comment"].tolist() == ["测试：误报"]
    gold = verdicts[verdicts["source"] == "gold"]
    assert (gold["verdict"] == "confirmed").sum() >= 3  # the planted sample's defects are found and matched
    findings = pd.read_parquet(corpus / "findings.parquet")
    assert set(gold["fingerprint"]) <= set(findings["fingerprint"])


def test_documents_name_their_files_by_absolute_path(corpus: Path, scan_out: Path) -> None:
    docs = pd.read_parquet(corpus / "documents.parquet")
    for path, n in zip(docs["path"], docs["n_paragraphs"], strict=True):
        files = [Path(p) for p in path.split(" | ")]
        assert all(f.is_absolute() and f.is_file() and f.parent == scan_out.parent / "src" for f in files), path
        assert n > 0  # the text was read again for the text metrics


def test_metrics_per_document(corpus: Path) -> None:
    m = pd.read_parquet(corpus / "metrics.parquet").set_index("doc")
    assert len(m) == 2
    assert ((m["consistency"] >= 0) & (m["consistency"] <= 1)).all()
    planted = m.loc[[d for d in m.index if "planted" in d][0]]
    assert planted["n_findings"] > 0 and planted["n_fail"] > 0
    assert planted["completeness"] > 0.3
    kinds = [c for c in m.columns if c.startswith("findings_")]
    assert (m[kinds].sum(axis=1) == m["n_findings"]).all()


def test_conform_refuses_an_undocumented_shape() -> None:
    with pytest.raises(SchemaError):
        conform(pd.DataFrame({"doc": ["a"]}), CHECKS)
    frame = pd.DataFrame([{c: None for c in CHECKS.column_names()}])
    with pytest.raises(SchemaError):  # non-null columns must be filled
        conform(frame, CHECKS)


def test_build_rejects_a_folder_that_is_not_a_scan(tmp_path: Path) -> None:
    from detector.errors import UsageError

    with pytest.raises(UsageError):
        build(tmp_path, tmp_path / "corpus")
    assert set(BY_NAME) == {"documents", "claims", "checks", "findings", "verdicts", "metrics"}
