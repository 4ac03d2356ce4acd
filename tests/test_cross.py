"""Narrative amounts against table figures (detector.checks.cross)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.checks import cross
from detector.claims import extract
from detector.ingest import from_text, load
from detector.rules import load_rules

RULES = load_rules()


def doc_with(sentence: str, unit: str, income: str) -> str:
    rows = [["收入", "支出"], ["项目", "预算数", "项目", "预算数"],
            ["一、一般公共预算拨款收入", income, "一、一般公共服务支出", income],
            ["本年收入合计", income, "本年支出合计", income]]
    lines = [sentence, "部门预算收支总表", f"\t单位：{unit}", ""]
    for r in rows:
        lines += [f"\t{c}" for c in r] + [""]
    return "\n".join(lines) + "\n"


def run(text: str):
    doc = from_text(text, "t")
    return cross.run(doc, extract(doc, RULES), RULES)


def test_yuan_table_against_wan_narrative_is_converted_not_flagged():
    res = run(doc_with("2023年一般公共预算收入107.54万元。", "元", "1075400.00"))
    linked = [o for o in res if "一般公共预算" in o.evidence[0].text]
    assert linked and all(o.status == "pass" for o in linked)


def test_conflict_names_both_sides():
    res = run(doc_with("2023年一般公共预算收入95.54万元。", "万元", "107.54"))
    bad = [o for o in res if o.status == "fail"]
    assert len(bad) == 1
    o = bad[0]
    assert (o.rule, o.kind, o.stated, o.expected) == ("narrative.table_value", "value_conflict", "95.54万元", "107.54万元")
    assert o.evidence[0].text == "2023年一般公共预算收入95.54万元。"
    assert o.evidence[1].text == "一、一般公共预算拨款收入 107.54" and o.evidence[1].cell == (3, 1)


def test_rounded_narrative_passes():
    res = run(doc_with("2023年一般公共预算收入107.5万元。", "万元", "107.54"))
    assert res and all(o.status == "pass" for o in res)


@pytest.mark.slow
def test_seed_001_conflicts_found_and_nothing_else(seeds: Path):
    doc = load(seeds / "001_cfc5e1461f5cd4c8.txt")
    res = cross.run(doc, extract(doc, RULES), RULES)
    bad = [o for o in res if o.status == "fail"]
    quotes = ["一般公共预算收入95.54万元", "基金预算收入18万元"]
    assert len(bad) == 2
    for q, o in zip(quotes, bad, strict=True):
        assert q in o.evidence[0].text
    assert sum(o.status == "pass" for o in res) >= 6


@pytest.mark.slow
def test_no_false_alarm_on_other_seeds(seeds: Path):
    for f in sorted(seeds.glob("*.txt")):
        if f.name.startswith("001_"):
            continue
        doc = load(f)
        assert [o.reason for o in cross.run(doc, extract(doc, RULES), RULES) if o.status == "fail"] == [], f.name
