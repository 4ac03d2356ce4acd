"""The pipeline from files to findings, as pure functions:

    ingest.load → claims.extract → checks (narrative, tables, narrative×tables) → findings.to_findings
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from detector import claims as claims_mod
from detector import findings as findings_mod
from detector import ingest
from detector.checks import cross, narrative, tables
from detector.model import Document, Result
from detector.rules import Rules, load_rules
from detector.tables import understand_document


def check_document(doc: Document, rules: Rules | None = None) -> Result:
    """Claims, every relation's outcome and the findings of one document."""
    rules = rules or load_rules()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    claims = claims_mod.extract(doc, rules)
    timings["claims"] = time.perf_counter() - t
    t = time.perf_counter()
    understood = understand_document(doc, rules)  # once, for both table checkers
    checked = [t for t in understood if t.identity is not None]
    # the keyed figures, once for both when both checkers read the same tables (cross only reads scaled ones)
    index = tables.facts(checked, rules) if checked and all(t.scale for t in checked) else None
    outcomes = narrative.run(doc, claims, rules)
    outcomes += tables.run(doc, rules, understood, index)
    outcomes += cross.run(doc, claims, rules, understood, index)
    timings["checks"] = time.perf_counter() - t
    found = findings_mod.to_findings(doc.id, outcomes)
    return Result(doc=doc, claims=claims, outcomes=outcomes, findings=found, timings=timings)


def check_paths(paths: list[str | Path], doc_id: str | None = None, rules_dir: str | None = None) -> Result:
    """Ingest one document (one or more files) and check it. Raises IngestError for unreadable input."""
    t = time.perf_counter()
    doc = ingest.load(list(paths), doc_id=doc_id)
    ingest_time = time.perf_counter() - t
    result = check_document(doc, load_rules(rules_dir))
    result.timings["ingest"] = ingest_time
    return result


def settle() -> None:
    """Put what the process has loaded for good (rules, jieba's dictionary, spaCy, compiled patterns) out of the
    garbage collector's reach. Called once the first document is checked (so everything loaded lazily is in).

    Why: checking allocates many short-lived objects, and every so often that triggers a full collection which
    walks all ~100,000 long-lived objects too — ~150 ms each on the seeds' machine, ~15% of checking time over
    a run of documents. Frozen objects are never walked again (they are never freed either, which is what they
    are for)."""
    gc.collect()
    gc.freeze()
