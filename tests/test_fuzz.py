"""The fuzzer: its inputs are reproducible and varied, it tells handled from unhandled outcomes, and a slice
of ≈200 mutated real documents goes through the whole pipeline without an unhandled exception or a hang."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from detector import fuzz
from detector.errors import IngestError
from detector.ingest import load, read_bytes

SAMPLES = Path(__file__).resolve().parents[1] / "corpus" / "samples"


@pytest.fixture(scope="module")
def corpus() -> list[fuzz.Sample]:
    return fuzz.load_corpus([SAMPLES])


def test_corpus_renders_every_format_readably(corpus: list[fuzz.Sample]) -> None:
    assert {Path(name).suffix for name, _ in corpus} == {".txt", ".docx", ".xlsx", ".html"}
    for name, data in corpus:
        content = read_bytes(data, name)
        assert content.blocks, name
        if name.endswith((".docx", ".html")):  # the rendered text keeps the original's tables
            assert any(b.kind == "table" for b in content.blocks), name


def test_corpus_takes_real_pdfs_below_the_size_cap(tmp_path: Path) -> None:
    (tmp_path / "2019").mkdir()
    small = b"%PDF-1.4\n" + b"0" * 1000
    (tmp_path / "2019" / "预算公开.pdf").write_bytes(small)
    (tmp_path / "big.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * fuzz.MAX_PDF_BYTES)
    (tmp_path / "a.txt").write_bytes((SAMPLES / "yusuan_2024_clean.txt").read_bytes())
    names = [name for name, _ in fuzz.load_corpus([tmp_path])]
    assert names == ["a.txt", "a.docx", "a.xlsx", "a.html", "预算公开.pdf"]
    assert dict(fuzz.load_corpus([tmp_path]))["预算公开.pdf"] == small


def test_mutations_are_reproducible_and_change_the_input(corpus: list[fuzz.Sample]) -> None:
    first = [fuzz.mutate(corpus[i % len(corpus)], random.Random(f"7:{i}")) for i in range(40)]
    again = [fuzz.mutate(corpus[i % len(corpus)], random.Random(f"7:{i}")) for i in range(40)]
    assert first == again
    changed = sum(data != corpus[i % len(corpus)][1] for i, (data, _, _) in enumerate(first))
    assert changed >= 35  # a rename alone keeps the bytes; nearly everything else alters them


def test_xml_mutation_survives_the_zip_layer(corpus: list[fuzz.Sample]) -> None:
    """Editing inside a part and re-zipping yields a valid ZIP whose XML is damaged, not a broken ZIP."""
    name, data = next(s for s in corpus if s[0].endswith(".docx"))
    rng = random.Random(3)
    mutated, _ = fuzz.in_member(data, name, rng, fuzz.digit_edit)
    assert mutated != data and mutated[:2] == b"PK"
    read_bytes(mutated, name)  # digit edits keep the XML well-formed: still a document


def test_unhandled_exceptions_are_counted_not_raised(corpus: list[fuzz.Sample],
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import detector.pipeline

    calls = []

    def flaky(paths: list, doc_id: str | None = None):
        calls.append(doc_id)
        if len(calls) % 3 == 0:
            raise KeyError("boom")
        raise IngestError("坏文件 / bad file", code="corrupt")

    monkeypatch.setattr(detector.pipeline, "check_paths", flaky)
    report = fuzz.run(30, seed=1, corpus=corpus, jobs=1, save=tmp_path)
    assert report.failed and report.counts["unhandled"] == len(report.failures) == 10
    assert report.counts["ingest_error"] + report.counts["unhandled"] == 30
    assert all("KeyError" in f.error for f in report.failures)
    assert list(tmp_path.glob("fail-1-*.txt")), "failing inputs are saved with their traceback"


def test_hang_is_a_failure(corpus: list[fuzz.Sample], monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import detector.pipeline

    monkeypatch.setattr(detector.pipeline, "check_paths", lambda paths, doc_id=None: time.sleep(5))
    report = fuzz.run(1, corpus=corpus, jobs=1, timeout=0.2)
    assert report.counts["timeout"] == 1 and report.failed


@pytest.mark.slow
def test_fuzz_slice_has_no_unhandled_exception() -> None:
    report = fuzz.run(200, seed=2024, jobs=2, timeout=60)
    print(report.summary())
    assert not report.failures, report.summary()
    assert report.counts["ok"] > 0 and report.counts["ingest_error"] > 0  # both paths were exercised
    assert len(report.mutations) == len(fuzz.BYTE_MUTATORS)


@pytest.mark.slow
def test_fuzz_found_lone_surrogate_from_a_damaged_pdf(shared_corpus: Path, tmp_path: Path) -> None:
    """Input 5474 of seed 1 (a Jiangsu PDF with flipped bytes, renamed .xls): its text layer holds a lone UTF-16
    surrogate, which crashed spaCy's string store and cannot be written as UTF-8 (findings.jsonl, Parquet).
    Ingestion writes U+FFFD in its place, so the findings serialise."""
    import json

    from detector.pipeline import check_paths

    corpus = fuzz.load_corpus(fuzz.DEFAULT_CORPUS)
    rng = random.Random("1:5474")
    data, name, _ = fuzz.mutate(rng.choice(corpus), rng)
    path = tmp_path / name
    path.write_bytes(data)
    doc = load(path)
    texts = [b.text for b in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row]
    assert any("\ufffd" in t for t in texts), "the damaged text layer is no longer what this test is about"
    assert not [t for t in texts if any("\ud800" <= ch <= "\udfff" for ch in t)]
    for f in check_paths([path]).findings:
        json.dumps(f.to_dict(), ensure_ascii=False).encode("utf-8")
