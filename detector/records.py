"""Flat records of a Result for tidy tables (Parquet, DuckDB, pandas): one function per table."""

from __future__ import annotations

import json

from detector.model import AmountClaim, Claim, Quantity, Result


def _q(q: Quantity | None, prefix: str) -> dict:
    if q is None:
        return {f"{prefix}value": None, f"{prefix}unit": None, f"{prefix}text": None, f"{prefix}half_ulp": None}
    return {f"{prefix}value": float(q.value), f"{prefix}unit": q.unit, f"{prefix}text": q.text,
            f"{prefix}half_ulp": float(q.half_ulp)}


def claim_record(doc_id: str, n: int, c: Claim) -> dict:
    main = c if isinstance(c, AmountClaim) else getattr(c, "total", None) or getattr(c, "subject", None) or getattr(
        c, "part", None) or getattr(c, "actual", None)
    quantity = getattr(c, "quantity", None) or getattr(c, "percent", None) or getattr(c, "rate", None) or getattr(
        c, "amount", None) or getattr(c, "count", None)
    rec = {
        "doc": doc_id, "claim": n, "frame": c.frame,
        "referent": getattr(main, "referent", None) if main is not None else getattr(c, "referent", None),
        "concept": getattr(main, "concept", None), "period": getattr(main, "period", None),
        "measure": getattr(main, "measure", None), "link_confidence": getattr(main, "link_confidence", None),
        "sentence": c.sentence.text.strip(), "block": c.sentence.block, "page": c.sentence.page,
        "start": c.sentence.start + (quantity.start if quantity else 0),
        "end": c.sentence.start + (quantity.end if quantity else 0),
        "section": c.sentence.section,
    }
    rec.update(_q(quantity, ""))
    return rec


def claim_records(result: Result) -> list[dict]:
    return [claim_record(result.doc.id, n, c) for n, c in enumerate(result.claims)]


def outcome_records(result: Result) -> list[dict]:
    return [{
        "doc": result.doc.id, "check": n, "rule": o.rule, "kind": o.kind, "status": o.status,
        "severity": o.severity, "confidence": o.confidence, "margin": o.margin, "formula": o.formula,
        "stated": o.stated, "expected": o.expected, "reason": o.reason,
        "evidence": json.dumps([e.to_dict() for e in o.evidence], ensure_ascii=False),
    } for n, o in enumerate(result.outcomes)]


def finding_records(result: Result) -> list[dict]:
    rows = []
    for f in result.findings:
        d = f.to_dict()
        d["evidence"] = json.dumps(d["evidence"], ensure_ascii=False)
        d["page"] = next((e.page for e in f.evidence if e.page is not None), None)
        d["sentence"] = f.evidence[0].text if f.evidence else ""
        rows.append(d)
    return rows


def document_meta(result: Result) -> dict:
    counts = {"pass": 0, "fail": 0, "unverifiable": 0}
    for o in result.outcomes:
        counts[o.status] += 1
    sev = {"error": 0, "warning": 0, "info": 0}
    for f in result.findings:
        sev[f.severity] += 1
    meta = dict(result.doc.meta)
    return {
        "doc": result.doc.id, "format": meta.get("format"), "pages": meta.get("pages"),
        "files": len(result.doc.files), "blocks": len(result.doc.blocks), "tables": len(result.doc.tables),
        "claims": len(result.claims), "checks_pass": counts["pass"], "checks_fail": counts["fail"],
        "checks_unverifiable": counts["unverifiable"], "findings_error": sev["error"],
        "findings_warning": sev["warning"], "findings_info": sev["info"],
        **{f"time_{k}": v for k, v in result.timings.items()},
    }
