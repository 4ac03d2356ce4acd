"""The finding ranker behaves like a scikit-learn classifier and learns from verdicts."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from detector.corpus.ranker import (
    FindingRanker,
    cross_validate_ranker,
    finding_features,
    save_model,
    score_findings,
    source_document,
)


def _finding(real: bool, rng: random.Random, n: int) -> dict:
    """Real defects here fail by a wide margin on narrative evidence; false alarms are hair-width table sums."""
    ev = [{"text": "x", "cell": None if real else [1, 2]} for _ in range(2 if real else 5)]
    return {"doc": f"d{n % 7}~{n % 3}.txt", "rule": "narrative.share" if real else rng.choice(["table.total", "narrative.share"]),
            "kind": "share_mismatch", "severity": "error", "confidence": rng.uniform(0.6, 1.0),
            "margin": rng.uniform(20, 200) if real else rng.uniform(0, 3), "stated": "5.02%", "expected": "4.89%",
            "evidence": ev, "fingerprint": f"f{n}"}


@pytest.fixture()
def data() -> tuple[list[dict], list[int]]:
    rng = random.Random(0)
    y = [int(i % 3 != 0) for i in range(90)]
    return [_finding(bool(v), rng, i) for i, v in enumerate(y)], y


def test_learns_from_verdicts(data: tuple[list[dict], list[int]], tmp_path: Path) -> None:
    X, y = data  # noqa: N806
    model = FindingRanker().fit(X, y)
    p = model.predict_proba(X)
    assert p.shape == (90, 2) and np.allclose(p.sum(axis=1), 1)
    assert (model.predict(X) == np.asarray(y)).mean() > 0.9
    assert model.feature_weights()["log_margin"] > 0
    clone(model)  # a proper estimator: parameters only in __init__
    path = tmp_path / "m.joblib"
    save_model(model, path, {"n": 90})
    scores = score_findings(X[:5], path)
    assert scores == pytest.approx(p[:5, 1].tolist())
    assert score_findings([], path) == []


def test_cross_validation(data: tuple[list[dict], list[int]]) -> None:
    X, y = data  # noqa: N806
    cv = cross_validate_ranker(X, y, folds=5, groups=[source_document(x["doc"]) for x in X])
    assert len(cv["roc_auc"]) >= 2
    assert np.mean(cv["roc_auc"]) > 0.9
    with pytest.raises(ValueError):
        cross_validate_ranker(X[:5], [1] * 5)


def test_features() -> None:
    f = finding_features({"rule": "r", "kind": "k", "severity": "warning", "evidence_json": '[{"text": "a", "cell": [1, 2]}]',
                          "stated": "110", "expected": "100", "margin": 3.0})
    assert f["n_table_evidence"] == 1 and f["rule=r"] == 1.0
    assert f["rel_gap"] == pytest.approx(10 / 110)
    assert source_document("js-fy-2017-budget~3") == "js-fy-2017-budget"
    assert source_document("seeds/000_a~2.txt") == "000_a"
