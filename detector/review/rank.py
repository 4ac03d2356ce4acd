"""The order of the review queue: by the finding ranker's score when a model is present, else a fixed order.

Why: auditors work down the queue and stop when their time runs out, so the findings most likely to be real
defects should come first. ``gouji corpus train-ranker`` learns P(confirmed) from past verdicts and writes a
model; ``gouji review`` orders the open findings by that score, highest first. Where the model lives:

- ``gouji review RESULTS --ranker PATH``: that model (an error if it cannot be read);
- otherwise ``$GOUJI_HOME/ranker.joblib`` (``~/.gouji/ranker.joblib``), the default ``--out`` of
  ``gouji corpus train-ranker``, when it exists;
- ``--ranker none``: no model even if the default one exists.

Without a model the queue is ordered by severity (error, warning, info), then the detector's confidence
(highest first), then the order of the results (document by document, in reading order): the findings the
detector itself is surest are serious come first. Resolved findings (gone from the current results) follow the
open ones in the same order. Ties always fall back to the order of the results, so the queue is stable.
"""

from __future__ import annotations

from pathlib import Path

from detector.errors import GoujiError, UsageError
from detector.review.db import gouji_home

RANKER_FILE = "ranker.joblib"
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def default_ranker_path() -> Path:
    """``$GOUJI_HOME/ranker.joblib`` (``~/.gouji/ranker.joblib``): where train-ranker writes by default and
    where the review app looks for a model."""
    return gouji_home() / RANKER_FILE


def resolve_ranker(option: str | None) -> Path | None:
    """The model path ``gouji review`` uses for its ``--ranker`` option (see the module docstring)."""
    if option is not None and option.lower() == "none":
        return None
    if option is not None:
        path = Path(option)
        if not path.is_file():
            raise UsageError(f"找不到排序模型 / no ranker model at {path}")
        return path
    path = default_ranker_path()
    return path if path.is_file() else None


class QueueOrder:
    """Sorts review items (dicts with ``finding``, ``fingerprint``, ``present``). Scores are computed once per
    fingerprint and kept; :meth:`forget` drops them when the results change."""

    def __init__(self, model_path: str | Path | None = None):
        self.model_path = Path(model_path) if model_path is not None else None
        self.model = None
        if self.model_path is not None:
            from detector.corpus.ranker import load_model

            try:
                self.model = load_model(self.model_path)
            except Exception as exc:  # noqa: BLE001 — a corrupt or foreign file: say so, do not start
                raise GoujiError(f"无法读取排序模型 / cannot read the ranker model {self.model_path}: {exc}") from exc
            if not hasattr(self.model, "predict_proba"):
                raise GoujiError(f"{self.model_path} 不是排序模型 / not a ranker model")
        self._scores: dict[str, float] = {}

    @property
    def ranked(self) -> bool:
        return self.model is not None

    def forget(self) -> None:
        self._scores = {}  # a new dict: a request scoring concurrently keeps the one it started with

    def score(self, item: dict) -> float | None:
        """P(confirmed) of the item's finding, or None without a model."""
        return self.scores([item]).get(item["fingerprint"])

    def scores(self, items: list[dict]) -> dict[str, float]:
        if self.model is None:
            return {}
        cache = self._scores
        todo = [i for i in items if i["fingerprint"] not in cache]
        if todo:
            probs = self.model.predict_proba([i["finding"] for i in todo])[:, 1]
            cache.update({i["fingerprint"]: float(p) for i, p in zip(todo, probs, strict=True)})
        return {i["fingerprint"]: cache[i["fingerprint"]] for i in items}

    def sort(self, items: list[dict]) -> list[dict]:
        """Open findings first, each group by score (with a model) or by severity and confidence; ties keep
        the given order (the results' order)."""
        scores = self.scores(items)

        def key(pair: tuple[int, dict]) -> tuple:
            n, item = pair
            f = item["finding"]
            try:
                confidence = float(f.get("confidence") or 0.0)
            except (TypeError, ValueError):
                confidence = 0.0
            head = (-scores[item["fingerprint"]],) if scores else ()
            return (not item["present"], *head, SEVERITY_RANK.get(str(f.get("severity")), 3), -confidence, n)

        return [item for _, item in sorted(enumerate(items), key=key)]
