"""Outcomes → findings: the failed relations, worded for people, with stable fingerprints.

Two outcomes about the same evidence and rule are one finding (auditors hate reading a problem twice)."""

from __future__ import annotations

from detector.model import Finding, Outcome, fingerprint


def to_findings(doc_id: str, outcomes: list[Outcome]) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for o in outcomes:
        if o.status != "fail":
            continue
        values = sorted({v for e in o.evidence for v in e.values})
        fp = fingerprint(doc_id, o.rule, [e.text for e in o.evidence], values)
        if fp in seen:
            continue
        seen.add(fp)
        findings.append(Finding(
            doc=doc_id, rule=o.rule, kind=o.kind, severity=o.severity, confidence=round(o.confidence, 2),
            message=o.reason or o.formula, stated=o.stated, expected=o.expected, evidence=o.evidence,
            fingerprint=fp, formula=o.formula, margin=round(o.margin, 3),
        ))
    return findings
