"""Disclosure-quality metrics: the definitions hold on small, hand-checked inputs."""

from __future__ import annotations

import pandas as pd

from detector.corpus.metrics import (
    SECTIONS,
    TABLES,
    doc_type,
    ledger_metrics,
    leftovers,
    rule_table_patterns,
    text_metrics,
)
from detector.corpus.schema import FINDING_KINDS

PARAS = [
    "一、收入支出决算总体情况说明",
    "本年收入100万元，比上年增加（减少）0万元，增长（下降）0%，主要原因是。",
    "公务接待费XX万元。",
    "二、“三公”经费支出决算情况说明",
]


def test_leftovers_are_found_with_context() -> None:
    found = leftovers(PARAS)
    assert len(found) == 4  # two alternatives, a reason never given, a placeholder
    assert any("XX万元" in f for f in found)
    assert leftovers(["支出比上年增加10万元，主要原因是人员增加。"]) == []


def test_completeness_counts_sections_and_tables() -> None:
    row = text_metrics(PARAS, ["收入支出决算总表"], "决算", TABLES)
    assert row["sections_expected"] == len(SECTIONS)
    assert 0 < row["sections_present"] < len(SECTIONS)
    assert "名词解释" in row["sections_missing"]
    assert row["tables_present"] == 1
    assert 0 < row["completeness"] < 1
    assert row["tables_expected"] == len(TABLES)
    assert text_metrics(PARAS, [], "绩效")["completeness"] is None  # not a 预算/决算 disclosure
    patterns = rule_table_patterns()  # the standard tables of rules/tables.yaml, one pattern per table
    assert len({p.label for p in patterns}) == len(patterns) >= 5
    assert doc_type("绩效自评") == "绩效" and doc_type(None) == "other"


def test_ledger_metrics() -> None:
    claims = pd.DataFrame({"doc": ["a"] * 4 + ["b"]})
    checks = pd.DataFrame({"doc": ["a", "a", "a", "a", "b"],
                           "status": ["pass", "pass", "fail", "unverifiable", "unverifiable"]})
    findings = pd.DataFrame({"doc": ["a", "a"], "kind": ["share_mismatch", "sum_mismatch"],
                             "severity": ["error", "info"]})
    m = ledger_metrics(["a", "b", "c"], claims, checks, findings).set_index("doc")
    assert m.loc["a", "coverage"] == 3 / 4
    assert m.loc["a", "consistency"] == 2 / 3
    assert m.loc["a", "n_findings"] == 1  # info findings are not counted
    assert m.loc["a", "findings_share_mismatch"] == 1 and m.loc["a", "findings_sum_mismatch"] == 0
    assert pd.isna(m.loc["b", "consistency"]) and pd.isna(m.loc["c", "coverage"])
    assert {f"findings_{k}" for k in FINDING_KINDS} <= set(m.columns)
