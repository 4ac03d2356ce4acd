"""Verdicts → the shared gold format (../shared/corpus/README.md), so reviewed findings grow the corpus.

Why only confirmed and dismissed: a confirmed finding is a defect a tool should flag, a dismissed one is a
place a tool must not flag (``acceptable``); an unsure verdict says nothing yet and is left out. A ``document``
line is written for each document that has at least one verdict, as the gold format asks.
"""

from __future__ import annotations

import json
from pathlib import Path

from detector.io import write_text_atomic
from detector.report.results import NUMBER_RE, finding_page
from detector.review.db import ReviewDB

LABEL = {"confirmed": "defect", "dismissed": "acceptable"}
SOURCE_SUFFIXES = {".txt", ".pdf", ".docx", ".doc", ".xlsx", ".xls", ".html", ".htm"}


def gold_doc_id(doc: str) -> str:
    """Gold ids are file names without extension (or a folder's id): 000_x.txt → 000_x."""
    p = Path(doc)
    return str(p.with_suffix("")) if p.suffix.lower() in SOURCE_SUFFIXES else doc


def _values(finding: dict) -> list[str]:
    values: list[str] = []
    for ev in finding.get("evidence") or []:
        for v in ev.get("values") or []:
            if str(v) not in values:
                values.append(str(v))
    if not values:
        for m in NUMBER_RE.finditer(str(finding.get("stated", ""))):
            if m.group(0) not in values:
                values.append(m.group(0))
    return values


def gold_lines(db: ReviewDB) -> list[dict]:
    """The gold items: per document a ``document`` line (#0), then one item per verdict (#1, #2, …)."""
    by_doc: dict[str, list[dict]] = {}
    for item in db.reviewed():
        label = LABEL.get(item["verdict"])
        if label is None:
            continue
        by_doc.setdefault(gold_doc_id(str(item["finding"].get("doc", ""))), []).append(item | {"label": label})
    lines: list[dict] = []
    for doc in sorted(by_doc):
        lines.append({"doc": doc, "id": f"{doc}#0", "label": "document", "kind": None, "page": None, "quote": "",
                      "values": [], "other_quote": "", "explanation": "reviewed with gouji review",
                      "confidence": "certain"})
        for n, item in enumerate(by_doc[doc], 1):
            f = item["finding"]
            texts = [str(e.get("text", "")) for e in f.get("evidence") or [] if isinstance(e, dict)]
            explanation = item["comment"] or str(f.get("message", ""))
            lines.append({
                "doc": doc, "id": f"{doc}#{n}", "label": item["label"], "kind": f.get("kind"),
                "page": finding_page(f), "quote": texts[0] if texts else "", "values": _values(f),
                "other_quote": texts[1] if len(texts) > 1 else "", "explanation": explanation,
                "confidence": "certain", "fingerprint": item["fingerprint"], "rule": f.get("rule"),
            })
    return lines


def export_gold(db: ReviewDB, out: str | Path) -> int:
    """Write the gold file atomically; returns the number of defect/acceptable items written."""
    lines = gold_lines(db)
    write_text_atomic(out, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    return sum(1 for x in lines if x["label"] != "document")
