"""The review database on real findings: verdicts follow fingerprints across re-runs, fixed findings resolve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _report_helpers import PLANTED, copy_samples, edit_sample, run_check

from detector.report.results import load_results
from detector.review.db import ReviewDB, default_db_path
from detector.review.gold import export_gold, gold_doc_id


def _findings(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """(source folder, findings) of one real check run, for the tests that only read them."""
    root = tmp_path_factory.mktemp("planted")
    src = copy_samples(root / "src")
    return src, _findings(run_check([src / PLANTED], root / "findings.jsonl"))


def _share(findings: list[dict]) -> dict:
    return next(f for f in findings if f["kind"] == "share_mismatch" and "6.12%" in f["stated"])


def test_verdicts_survive_a_rerun_and_a_fixed_finding_resolves(tmp_path: Path) -> None:
    src = copy_samples(tmp_path / "src")
    jsonl = run_check([src / PLANTED], tmp_path / "findings.jsonl")
    first = _findings(jsonl)
    share = _share(first)
    other = next(f for f in first if f["fingerprint"] != share["fingerprint"])
    db = ReviewDB(tmp_path / "review.sqlite")
    results = load_results(jsonl, src)
    db.sync(results.key, results.findings)
    db.set_verdict(share["fingerprint"], "confirmed")
    db.set_verdict(other["fingerprint"], "dismissed", "两处口径不同")

    # an edit elsewhere moves every offset: the fingerprints, and so the verdicts, stay
    edit_sample(src / PLANTED, "\n", "\n（本说明根据年度决算编制。）\n")
    run_check([src / PLANTED], jsonl)
    second = _findings(jsonl)
    assert {f["fingerprint"] for f in second} == {f["fingerprint"] for f in first}
    db.sync(results.key, load_results(jsonl, src).findings)
    queue = {i["fingerprint"]: i for i in db.queue(results.key)}
    assert queue[share["fingerprint"]]["verdict"] == "confirmed"
    assert (queue[other["fingerprint"]]["verdict"], queue[other["fingerprint"]]["comment"]) == ("dismissed", "两处口径不同")
    assert all(i["present"] for i in queue.values())

    # the unit corrects the share: the finding disappears and is shown as resolved, verdict kept
    edit_sample(src / PLANTED, "占6.12%", "占6.21%")
    run_check([src / PLANTED], jsonl)
    assert share["fingerprint"] not in {f["fingerprint"] for f in _findings(jsonl)}
    db.sync(results.key, load_results(jsonl, src).findings)
    resolved = {i["fingerprint"]: i for i in db.queue(results.key)}[share["fingerprint"]]
    assert resolved["present"] is False and resolved["verdict"] == "confirmed"
    assert [i["present"] for i in db.queue(results.key)][-1] is False  # resolved ones come last


def test_documents_not_checked_again_do_not_resolve(planted: tuple[Path, list[dict]], tmp_path: Path) -> None:
    findings = planted[1]
    db = ReviewDB(tmp_path / "review.sqlite")
    db.sync("scan", findings)
    db.sync("scan", [], checked_docs=["another.txt"])  # a re-scan in which this document failed to load
    assert all(i["present"] for i in db.queue("scan"))
    db.sync("scan", [], checked_docs=[PLANTED])
    assert not any(i["present"] for i in db.queue("scan"))


def test_gold_export_of_real_verdicts(planted: tuple[Path, list[dict]], tmp_path: Path) -> None:
    src, findings = planted
    db = ReviewDB(tmp_path / "review.sqlite")
    db.sync("k", findings)
    share = _share(findings)
    rest = [f for f in findings if f is not share]
    db.set_verdict(share["fingerprint"], "confirmed")
    db.set_verdict(rest[0]["fingerprint"], "dismissed", "误报：不同口径")
    db.set_verdict(rest[1]["fingerprint"], "unsure")
    out = tmp_path / "gold.jsonl"
    assert export_gold(db, out) == 2
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["label"] == "document"
    assert sorted(x["label"] for x in lines[1:]) == ["acceptable", "defect"]  # unsure is left out
    doc = lines[0]
    assert doc == doc | {"doc": "juesuan_2023_planted", "id": "juesuan_2023_planted#0", "quote": ""}
    defect = next(x for x in lines if x["label"] == "defect")
    assert defect["quote"] == share["evidence"][0]["text"]
    assert "6.12%" in defect["values"] and defect["kind"] == "share_mismatch"
    # the quote is an exact substring of the document, as the gold format requires
    text = (src / PLANTED).read_text(encoding="utf-8")
    for item in lines[1:]:
        assert item["quote"] in text
    assert [x["id"] for x in lines] == [f"{doc['doc']}#{n}" for n in range(3)]


def test_unknown_verdict_is_refused(tmp_path: Path) -> None:
    db = ReviewDB(tmp_path / "r.sqlite")
    with pytest.raises(ValueError):
        db.set_verdict("abc", "maybe")


def test_default_db_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOUJI_HOME", str(tmp_path / "home"))
    assert default_db_path(tmp_path) == tmp_path / "review.sqlite"
    assert default_db_path(tmp_path / "f.jsonl") == tmp_path / "home" / "review.sqlite"
    assert gold_doc_id("a/b/000_x.txt") == "a/b/000_x" and gold_doc_id("jiangsu_2019_x") == "jiangsu_2019_x"
