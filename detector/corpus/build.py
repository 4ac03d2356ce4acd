"""``gouji corpus build``: a scan's output (``gouji scan ROOT --out SCAN``) → a documented research corpus.

Why a separate step and not just the scan's own Parquet files: a corpus is a publication. Its columns are
fixed by :mod:`detector.corpus.schema` (renamed, typed, documented), it adds what a scan does not know —
people's verdicts from the review database, labels derived from gold, and the disclosure-quality metrics —
and its README is generated from the same schema, so it cannot describe columns that are not there.

Sources: ``documents.parquet`` (one row per document, with the paths of its files), ``claims.parquet``,
``checks.parquet`` and ``findings.jsonl`` (the findings contract — the stable source for findings). The
documents' files are read again for the text metrics (completeness, template leftovers); a document whose
files are gone keeps null text metrics.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from detector.corpus import metrics as metrics_mod
from detector.corpus.schema import (
    CHECKS,
    CLAIMS,
    DOCUMENTS,
    FINDINGS,
    METRICS,
    TABLES,
    VERDICT_TABLE,
    TableSpec,
    conform,
    render_readme,
)
from detector.errors import UsageError
from detector.io import atomic_path, write_text_atomic

JOIN = " | "
EVIDENCE_JOIN = " ‖ "
REVIEW_LABELS = {"确认": "confirmed", "误报": "dismissed", "待定": "unsure",
                 "confirmed": "confirmed", "dismissed": "dismissed", "unsure": "unsure"}


def _frame(rows: list[dict], spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=spec.column_names())


def _list(value: object) -> list:
    """Parquet list columns come back as numpy arrays, JSON-encoded ones as text."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return [value]
        return parsed if isinstance(parsed, list) else [parsed]
    try:
        return list(value)  # type: ignore[call-overload]
    except TypeError:
        return [value]


def _none(v: object) -> object:
    try:
        return None if v is None or pd.isna(v) else v
    except (TypeError, ValueError):
        return v


# ------------------------------------------------------------------------------------------------ tables


def documents_table(scan_docs: pd.DataFrame, loaded: dict[str, object], root: Path | None = None) -> pd.DataFrame:
    rows = []
    for rec in scan_docs.to_dict("records"):
        doc = loaded.get(rec["doc"])
        rows.append({
            "doc": rec["doc"],
            "files": JOIN.join(map(str, _list(rec.get("files")))) or None,
            "path": JOIN.join(map(str, _paths(rec, root))) or None,
            "format": _none(rec.get("format")),
            "pages": _none(rec.get("pages")),
            "year": _none(rec.get("year")),
            "unit_name": _none(rec.get("unit")),
            "doc_type": metrics_mod.doc_type(_none(rec.get("kind"))),  # type: ignore[arg-type]
            "n_paragraphs": len(doc.paragraphs) if doc is not None else None,  # type: ignore[attr-defined]
            "n_tables": len(doc.tables) if doc is not None else None,  # type: ignore[attr-defined]
            "n_chars": sum(len(p.text) for p in doc.paragraphs) if doc is not None else None,  # type: ignore[attr-defined]
            "error": _none(rec.get("error_message")),
        })
    return _frame(rows, DOCUMENTS)


def claims_table(scan_claims: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for rec in scan_claims.to_dict("records"):
        rows.append({**{k: _none(rec.get(k)) for k in CLAIMS.column_names()},
                     "precision": _none(rec.get("half_ulp")), "span_start": _none(rec.get("start")),
                     "span_end": _none(rec.get("end"))})
    return _frame(rows, CLAIMS)


def _evidence_summary(evidence: list[dict]) -> dict:
    return {
        "n_evidence": len(evidence),
        "evidence_text": EVIDENCE_JOIN.join(str(e.get("text", "")) for e in evidence),
        "values": JOIN.join(str(v) for e in evidence for v in e.get("values") or []),
    }


def checks_table(scan_checks: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for rec in scan_checks.to_dict("records"):
        evidence = _list(rec.get("evidence"))
        rows.append({**{k: _none(rec.get(k)) for k in CHECKS.column_names()}, **_evidence_summary(evidence)})
    return _frame(rows, CHECKS)


def findings_table(contract: list[dict]) -> pd.DataFrame:
    rows = []
    for f in contract:
        evidence = f.get("evidence") or []
        rows.append({
            **{k: f.get(k) for k in FINDINGS.column_names()},
            "n_evidence": len(evidence),
            "n_table_evidence": sum(1 for e in evidence if e.get("cell") is not None),
            "page": next((e.get("page") for e in evidence if e.get("page") is not None), None),
            "evidence_text": EVIDENCE_JOIN.join(str(e.get("text", "")) for e in evidence),
            "evidence_json": json.dumps(evidence, ensure_ascii=False),
        })
    return _frame(rows, FINDINGS)


def review_verdicts(db_path: str | Path, findings: pd.DataFrame) -> pd.DataFrame:
    """Verdicts from the review app's SQLite database (table ``verdicts``: fingerprint, verdict, comment)."""
    path = Path(db_path)
    if not path.is_file():
        raise UsageError(f"找不到审阅数据库 / review database not found: {path}")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        raw = con.execute("SELECT fingerprint, verdict, comment FROM verdicts WHERE verdict IS NOT NULL").fetchall()
    doc_of = dict(zip(findings["fingerprint"], findings["doc"], strict=True))
    rows = [{"fingerprint": fp, "doc": doc_of.get(fp), "verdict": REVIEW_LABELS.get(str(v), str(v)),
             "comment": comment or None, "source": "review"} for fp, v, comment in raw]
    return _frame([r for r in rows if r["verdict"] in REVIEW_LABELS.values()], VERDICT_TABLE)


def gold_verdicts(contract: list[dict], gold: list[dict]) -> pd.DataFrame:
    """Labels derived from gold with the scoring's own matching rule (:func:`detector.evaluate.matches`): a
    finding that matches a defect is confirmed; one that matches only acceptable items, or nothing, is
    dismissed; one that matches only rounding items gets no label (gold says it counts neither way). Only
    documents that gold covers (a ``document`` line) are labelled."""
    from detector.commands import gold_doc_id
    from detector.evaluate import matches

    covered = {g["doc"] for g in gold if g.get("label") == "document"}
    by_doc: dict[str, list[dict]] = {}
    for g in gold:
        if g.get("label") in ("defect", "rounding", "acceptable"):
            by_doc.setdefault(g["doc"], []).append(g)
    rows = []
    for f in contract:
        gdoc = gold_doc_id(str(f.get("doc", "")), covered)  # scan ids are paths, gold ids are file stems
        if gdoc not in covered:
            continue
        hits = [g for g in by_doc.get(gdoc, []) if matches(f, g)]
        labels = {g["label"] for g in hits}
        if "defect" in labels:
            verdict, why = "confirmed", next(g["id"] for g in hits if g["label"] == "defect")
        elif labels == {"rounding"}:
            continue
        else:
            verdict = "dismissed"
            why = next((g["id"] for g in hits if g["label"] == "acceptable"), "no gold item")
        rows.append({"fingerprint": f["fingerprint"], "doc": f["doc"], "verdict": verdict,
                     "comment": f"gold: {why}", "source": "gold"})
    return _frame(rows, VERDICT_TABLE).drop_duplicates(["fingerprint", "source"])


# ------------------------------------------------------------------------------------------------- build


def _paths(rec: dict, root: Path | None) -> list[Path]:
    """The document's files as absolute paths: a relative path (a scan by an older gouji) is resolved the way
    the report resolves it (see :func:`detector.report.results.source_paths`)."""
    from detector.report.results import source_paths

    return source_paths(_list(rec.get("path")), root)


def _load_documents(scan_docs: pd.DataFrame, root: Path | None = None) -> dict[str, object]:
    """Each readable document again, for the text metrics."""
    from detector.ingest import load

    loaded: dict[str, object] = {}
    for rec in scan_docs.to_dict("records"):
        paths = _paths(rec, root)
        if not paths or not all(p.is_file() for p in paths) or _none(rec.get("error_message")):
            continue
        try:
            loaded[rec["doc"]] = load(paths, doc_id=rec["doc"])
        except Exception:  # noqa: BLE001 — a file changed since the scan: no text metrics for it
            continue
    return loaded


def read_contract(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build(scan_out: str | Path, out: str | Path, verdicts_db: str | Path | None = None,
          gold_paths: Iterable[str | Path] = ()) -> dict[str, int]:
    """Write the corpus tables and README into ``out``; return row counts per table."""
    scan = Path(scan_out)
    if not (scan / "documents.parquet").is_file():
        raise UsageError(f"{scan} 不是 gouji scan 的输出目录（缺少 documents.parquet）/ not a scan output folder")
    scan_docs = pd.read_parquet(scan / "documents.parquet")
    contract = read_contract(scan / "findings.jsonl")
    root = scan.resolve()
    loaded = _load_documents(scan_docs, root)
    tables: dict[str, pd.DataFrame] = {
        "documents": documents_table(scan_docs, loaded, root),
        "claims": claims_table(_read(scan / "claims.parquet")),
        "checks": checks_table(_read(scan / "checks.parquet")),
        "findings": findings_table(contract),
    }
    verdict_frames = []
    if verdicts_db:
        verdict_frames.append(review_verdicts(verdicts_db, tables["findings"]))
    gold = [json.loads(line) for g in gold_paths for line in Path(g).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    if gold:
        verdict_frames.append(gold_verdicts(contract, gold))
    tables["verdicts"] = (pd.concat(verdict_frames, ignore_index=True) if verdict_frames
                          else _frame([], VERDICT_TABLE))
    texts = {d: ([p.text for p in doc.paragraphs], [t.title or "" for t in doc.tables])  # type: ignore[attr-defined]
             for d, doc in loaded.items()}
    tables["metrics"] = metrics_mod.document_metrics(tables["documents"], tables["claims"], tables["checks"],
                                                     tables["findings"], texts)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for spec in TABLES:
        arrow = conform(tables[spec.name], spec)
        with atomic_path(out_dir / spec.file) as tmp:
            pq.write_table(arrow, tmp)
        counts[spec.name] = arrow.num_rows
    write_text_atomic(out_dir / "README.md", render_readme({"Metric definitions": metrics_mod.DEFINITIONS},
                                                           counts))
    return counts


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()


__all__ = ["build", "gold_verdicts", "review_verdicts", "METRICS"]
