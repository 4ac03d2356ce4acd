"""A finding ranker learned from auditors' verdicts: which findings are most likely real defects?

Why: the main complaint about tools of this kind is false alarms. Auditors review findings in queue order, so
putting the likely-real ones first saves their time even when the detector's own ``confidence`` is coarse.
The ranker looks like any scikit-learn classifier (``fit`` / ``predict_proba`` / ``predict``), so it can be
cross-validated, pickled and swapped; it works on findings as dicts of the findings contract (or rows of the
corpus ``findings`` table), turning each into a small feature dict first.

Features (all available at review time, none derived from the label):
rule and kind (one-hot), severity, the detector's confidence, the margin beyond the rounding interval (log),
the relative gap between stated and expected, the number of evidence items and of table cells among them,
whether narrative and tables are both involved, and the mean link confidence of the evidence when the detector
reports one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from detector.numbers import to_decimal


def as_finding_dict(obj: object) -> dict:
    """A finding as a contract dict, whether given as a :class:`~detector.model.Finding`, a contract dict or a
    row of the corpus ``findings`` table (whose evidence is in ``evidence_json``)."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()  # type: ignore[no-any-return]
    d = dict(obj)  # type: ignore[call-overload]
    if "evidence" not in d and d.get("evidence_json"):
        d["evidence"] = json.loads(d["evidence_json"])
    return d


def _number(text: object) -> float | None:
    if text is None:
        return None
    s = str(text).replace("%", "").replace("万元", "").replace("元", "").strip()
    for token in s.replace("，", " ").replace("=", " ").split():
        v = to_decimal(token)
        if v is not None:
            return float(v)
    return None


def finding_features(finding: object) -> dict[str, float]:
    """The feature dict of one finding (see the module docstring for why each feature)."""
    f = as_finding_dict(finding)
    evidence = f.get("evidence") or []
    n_table = sum(1 for e in evidence if e.get("cell") is not None)
    margin = float(f.get("margin") or 0.0)
    stated, expected = _number(f.get("stated")), _number(f.get("expected"))
    rel_gap = 0.0
    if stated is not None and expected is not None:
        rel_gap = abs(stated - expected) / max(abs(expected), abs(stated), 1e-9)
    links = [float(e["link_confidence"]) for e in evidence if e.get("link_confidence") is not None]
    link = f.get("link_confidence")
    link = float(link) if link is not None else (float(np.mean(links)) if links else 1.0)
    feats = {
        f"rule={f.get('rule', '')}": 1.0,
        f"kind={f.get('kind', '')}": 1.0,
        f"severity={f.get('severity', '')}": 1.0,
        "confidence": float(f.get("confidence") or 0.0),
        "log_margin": math.log1p(max(margin, 0.0)),
        "rel_gap": min(rel_gap, 10.0),
        "n_evidence": float(len(evidence)),
        "n_table_evidence": float(n_table),
        "mixed_sources": float(0 < n_table < len(evidence)),
        "link_confidence": link,
    }
    return feats


class FindingRanker(ClassifierMixin, BaseEstimator):
    """P(confirmed | finding). ``X`` is a sequence of findings (anything :func:`as_finding_dict` accepts);
    ``y`` is 1 for confirmed, 0 for dismissed.

    ``C`` is the inverse regularisation of the logistic model: verdict sets are small, so a fairly strong
    penalty keeps the one-hot rule features from memorising a handful of findings."""

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced") -> None:  # noqa: N803
        self.C = C
        self.class_weight = class_weight

    def _pipeline(self):  # noqa: ANN202 — a sklearn Pipeline
        return make_pipeline(DictVectorizer(sparse=False), MaxAbsScaler(),
                             LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000))

    def fit(self, X: Sequence[object], y: Sequence[int]) -> FindingRanker:  # noqa: N803
        feats = [finding_features(x) for x in X]
        y_arr = np.asarray(y, dtype=int)
        self.pipeline_ = self._pipeline().fit(feats, y_arr)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X: Sequence[object]) -> np.ndarray:  # noqa: N803
        return self.pipeline_.predict_proba([finding_features(x) for x in X])

    def predict(self, X: Sequence[object]) -> np.ndarray:  # noqa: N803
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def feature_weights(self) -> dict[str, float]:
        """Learned weights by feature name (after scaling): what the auditors' verdicts taught the ranker."""
        vec, _, model = (step for _, step in self.pipeline_.steps)
        return dict(zip(vec.get_feature_names_out(), model.coef_[0].tolist(), strict=True))


def source_document(doc: str) -> str:
    """The source a document was made from: an injected copy ``X~3`` (or ``X~3.txt``) comes from ``X``. Copies
    share the source's real findings, so they must sit in the same cross-validation fold."""
    name = doc.rsplit("/", 1)[-1]
    for suffix in (".txt", ".pdf", ".docx", ".xlsx", ".html"):
        name = name.removesuffix(suffix)
    return name.split("~", 1)[0]


def cross_validate_ranker(X: Sequence[object], y: Sequence[int], ranker: FindingRanker | None = None,  # noqa: N803
                          folds: int = 5, seed: int = 0,
                          groups: Sequence[str] | None = None) -> dict[str, list[float]]:
    """Stratified k-fold ROC AUC and average precision. With ``groups`` (the source document of each finding)
    the folds are stratified *group* folds, so no source document is on both sides of a split. ``folds`` is
    lowered to what the data allow; fewer than two of either class is an error, since nothing can be said."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    y_arr = np.asarray(y, dtype=int)
    rare = int(min(np.sum(y_arr == 0), np.sum(y_arr == 1)))
    if rare < 2:
        raise ValueError(f"need at least two confirmed and two dismissed findings, have {rare} of the rarer class")
    k = min(folds, rare) if groups is None else min(folds, rare, len(set(groups)))
    if k < 2:
        raise ValueError("need at least two source documents to cross-validate by document")
    X_list = list(X)  # noqa: N806
    if groups is None:
        splits = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y_arr)), y_arr)
    else:
        splits = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(
            np.zeros(len(y_arr)), y_arr, groups=list(groups))
    out: dict[str, list[float]] = {"roc_auc": [], "average_precision": []}
    for train, test in splits:
        if len(set(y_arr[test])) < 2 or len(set(y_arr[train])) < 2:
            continue  # a fold of one class says nothing about ranking
        model = clone(ranker or FindingRanker()).fit([X_list[i] for i in train], y_arr[train])
        p = model.predict_proba([X_list[i] for i in test])[:, 1]
        out["roc_auc"].append(float(roc_auc_score(y_arr[test], p)))
        out["average_precision"].append(float(average_precision_score(y_arr[test], p)))
    if not out["roc_auc"]:
        raise ValueError("no fold held both classes")
    return out


def save_model(ranker: FindingRanker, path: str | Path, meta: dict) -> None:
    import joblib

    from detector.io import atomic_path

    with atomic_path(path) as tmp:
        joblib.dump({"ranker": ranker, "meta": meta}, tmp)


def load_model(path: str | Path) -> FindingRanker:
    import joblib

    return joblib.load(path)["ranker"]


def score_findings(findings: Iterable[object], model_path: str | Path) -> list[float]:
    """P(confirmed) for each finding, in the order given — the review queue sorts by it, highest first."""
    items = list(findings)
    if not items:
        return []
    return load_model(model_path).predict_proba(items)[:, 1].tolist()
