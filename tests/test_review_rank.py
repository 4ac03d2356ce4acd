"""The review queue's order: by the ranker's score when a model is present (``--ranker PATH`` or the default
``$GOUJI_HOME/ranker.joblib``), by severity then confidence without one — on findings of the real pipeline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _report_helpers import ROOT, check_samples, review_server
from test_review_app import fingerprints, request

from detector.corpus.ranker import FindingRanker, save_model
from detector.errors import GoujiError, UsageError
from detector.review.rank import SEVERITY_RANK, QueueOrder, default_ranker_path, resolve_ranker


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict]]:
    return check_samples(tmp_path_factory.mktemp("rank"))


def _model(findings: list[dict], path: Path) -> FindingRanker:
    """A ranker taught that findings of the most common rule are real and the rest are not (an auditor's
    verdicts on these very findings), so the learned order differs from the default one."""
    rules = [f["rule"] for f in findings]
    common = max(set(rules), key=rules.count)
    y = [int(r == common) for r in rules]
    if len(set(y)) < 2:
        y = [i % 2 for i in range(len(findings))]
    model = FindingRanker().fit(findings, y)
    save_model(model, path, {"n": len(y)})
    return model


def _default_order(findings: list[dict]) -> list[str]:
    ranked = sorted(enumerate(findings), key=lambda p: (SEVERITY_RANK[p[1]["severity"]],
                                                        -float(p[1]["confidence"]), p[0]))
    return [f["fingerprint"] for _, f in ranked]


def test_queue_follows_the_ranker_score(checked: tuple[Path, Path, list[dict]], tmp_path: Path) -> None:
    jsonl, src, findings = checked
    model = _model(findings, tmp_path / "ranker.joblib")
    scores = dict(zip((f["fingerprint"] for f in findings), model.predict_proba(findings)[:, 1], strict=True))
    order = QueueOrder(tmp_path / "ranker.joblib")
    with review_server(jsonl, tmp_path / "review.sqlite", source=src, ranker=order.model_path) as url:
        _, _, page = request(url, "GET", "/")
    shown = fingerprints(page)
    assert sorted(shown) == sorted(scores)
    assert [scores[fp] for fp in shown] == sorted(scores.values(), reverse=True)
    assert 'data-order="ranker"' in page
    for fp, score in re.findall(r'data-score="([0-9.]+)"[^>]*data-fingerprint="([0-9a-f]+)"', page):
        assert float(fp) == pytest.approx(scores[score], abs=1e-6)
    assert page.count('class="rank"') == len(findings)  # each card says its score


def test_without_a_model_the_queue_is_by_severity_then_confidence(checked: tuple[Path, Path, list[dict]],
                                                                   tmp_path: Path) -> None:
    jsonl, src, findings = checked
    with review_server(jsonl, tmp_path / "review.sqlite", source=src) as url:
        _, _, page = request(url, "GET", "/")
    assert fingerprints(page) == _default_order(findings)
    assert 'data-order="default"' in page and "data-score" not in page


def test_resolved_findings_follow_the_open_ones(checked: tuple[Path, Path, list[dict]], tmp_path: Path) -> None:
    _, _, findings = checked
    items = [{"fingerprint": f["fingerprint"], "finding": f, "present": i != 0} for i, f in enumerate(findings)]
    sorted_items = QueueOrder().sort(items)
    assert sorted_items[-1]["fingerprint"] == findings[0]["fingerprint"]
    _model(findings, tmp_path / "m.joblib")
    ranked = QueueOrder(tmp_path / "m.joblib").sort(items)
    assert ranked[-1]["fingerprint"] == findings[0]["fingerprint"]


def test_ranker_option_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        checked: tuple[Path, Path, list[dict]]) -> None:
    monkeypatch.setenv("GOUJI_HOME", str(tmp_path / "home"))
    assert default_ranker_path() == tmp_path / "home" / "ranker.joblib"
    assert resolve_ranker(None) is None  # no model yet: the default order
    _model(checked[2], default_ranker_path())
    assert resolve_ranker(None) == default_ranker_path()
    assert resolve_ranker("none") is None
    assert resolve_ranker(str(default_ranker_path())) == default_ranker_path()
    with pytest.raises(UsageError):
        resolve_ranker(str(tmp_path / "missing.joblib"))
    (tmp_path / "junk.joblib").write_bytes(b"not a model")
    with pytest.raises(GoujiError):
        QueueOrder(tmp_path / "junk.joblib")


def test_gouji_review_uses_the_default_model(checked: tuple[Path, Path, list[dict]], tmp_path: Path) -> None:
    """The real command line: a model at $GOUJI_HOME/ranker.joblib orders the queue; --ranker none does not."""
    jsonl, src, findings = checked
    home = tmp_path / "home"
    _model(findings, home / "ranker.joblib")
    for extra, expect in (([], "ranker"), (["--ranker", "none"], "default")):
        proc = subprocess.Popen(
            [sys.executable, "-m", "detector.cli", "review", str(jsonl), "--source", str(src), "--port", "0",
             "--db", str(tmp_path / f"{expect}.sqlite"), *extra],
            cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ, "GOUJI_HOME": str(home)})
        try:
            line = proc.stderr.readline()
            m = re.search(r"http://[\d.]+:(\d+)/", line)
            assert m, line
            _, _, page = request(f"http://127.0.0.1:{m.group(1)}", "GET", "/")
            assert f'data-order="{expect}"' in page
            assert (str(home / "ranker.joblib") in line) == (expect == "ranker")
        finally:
            proc.terminate()
            proc.wait(timeout=30)



@pytest.mark.slow
def test_a_ranker_trained_on_review_verdicts_orders_the_queue(shared_corpus: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The whole loop on the real corpus: scan the seeds and the Jiangsu documents; an auditor gives verdicts in
    the review database (here one who dismisses the findings that clear the rounding interval by less than the
    median margin — hair-width differences); `gouji corpus build --verdicts`; `gouji corpus train-ranker`
    (cross-validated, the model lands at the default path); `gouji review`'s queue follows the model, which has
    learned to put the auditor's confirmed findings above the dismissed ones. The verdicts do not depend on how
    many false alarms the detector has, so the test holds as the engine improves."""
    from detector.cli import main
    from detector.corpus.cli import training_set
    from detector.report.results import load_results, read_findings
    from detector.review.db import ReviewDB, default_db_path

    monkeypatch.setenv("GOUJI_HOME", str(tmp_path / "home"))
    scans = []
    for name, extra in (("seeds", []), ("jiangsu", ["--document-per-folder"])):
        scan = tmp_path / f"scan-{name}"
        assert main(["scan", str(shared_corpus / name), "--out", str(scan), "-q", *extra]) in (0, 1)
        scans.append(scan)
    findings = {scan: read_findings(scan / "findings.jsonl") for scan in scans}
    margins = sorted(float(f.get("margin") or 0) for fs in findings.values() for f in fs)
    assert len(margins) >= 8
    median = margins[len(margins) // 2]
    corpora = []
    for scan in scans:
        db = ReviewDB(default_db_path(scan))
        db.sync(load_results(scan).key, findings[scan])
        for f in findings[scan]:
            real = float(f.get("margin") or 0) >= median
            db.set_verdict(f["fingerprint"], "confirmed" if real else "dismissed", "" if real else "差额过小")
        corpus = tmp_path / f"corpus-{scan.name}"
        assert main(["corpus", "build", str(scan), "--out", str(corpus), "--verdicts", str(db.path)]) == 0
        corpora.append(corpus)
    capsys.readouterr()
    assert main(["corpus", "train-ranker", *map(str, corpora)]) == 0
    printed = capsys.readouterr().out
    print(printed)
    assert re.search(r"roc_auc\s+[01]\.\d{3} ± ", printed) and "test folds held both classes" in printed
    model_path = resolve_ranker(None)
    assert model_path == default_ranker_path() and model_path.is_file()

    X, y = training_set(corpora)  # noqa: N806
    scores = QueueOrder(model_path).model.predict_proba(X)[:, 1]
    confirmed = [s for s, label in zip(scores, y, strict=True) if label]
    dismissed = [s for s, label in zip(scores, y, strict=True) if not label]
    assert sum(confirmed) / len(confirmed) > sum(dismissed) / len(dismissed)

    with review_server(scans[1], tmp_path / "review.sqlite", ranker=model_path) as url:
        _, _, page = request(url, "GET", "/")
    shown = [float(s) for s in re.findall(r'data-score="([0-9.]+)"', page)]
    assert len(shown) == len(fingerprints(page)) > 0 and shown == sorted(shown, reverse=True)
