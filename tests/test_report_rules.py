"""Rule pages from rules/checks.yaml: every rule the engine emits has one (purpose, formula, worked example,
known limits), rendered as text by `gouji rules` and as escaped HTML linked from each finding of the report."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from detector.cli import main
from detector.report.html import build_html
from detector.report.results import DocInfo, Results
from detector.report.rule_pages import FIELDS, MISSING, anchor, rule_html, rule_specs, rule_text

ROOT = Path(__file__).resolve().parents[1]


def test_every_documented_rule_renders_all_its_fields() -> None:
    specs = rule_specs()
    assert specs, "rules/checks.yaml documents the shipped rules"
    for rule_id, spec in specs.items():
        text, html = rule_text(rule_id, spec), rule_html(rule_id, spec)
        assert text.startswith(rule_id) and f'id="{anchor(rule_id)}"' in html
        for key, label in FIELDS:
            if spec.get(key):
                first_line = str(spec[key]).splitlines()[0]
                assert label in text and first_line in text
                assert label in html
        HTMLParser().feed(html)


def test_undocumented_rule_says_so_and_markup_is_escaped() -> None:
    assert MISSING in rule_text("x.unknown", None)
    html = rule_html("x.<b>", {"purpose": "a < b & <script>alert(1)</script>", "example": ["1 + 1 = 2", "2 > 1"]})
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &lt; b &amp;" in html
    assert html.count("<pre>") == 2  # a list of examples, one block each
    assert 'id="rule-x.-b-"' in html



RULE_LITERAL = re.compile(r'"((?:narrative|table)\.[a-z_]+)"')
ENGINE = ROOT / "detector"


def engine_rules() -> set[str]:
    """Every rule id the checkers can put on a finding (the string literals of the engine's code)."""
    ids: set[str] = set()
    for path in ENGINE.rglob("*.py"):
        if not {"report", "review", "corpus"} & set(path.relative_to(ENGINE).parts):
            ids |= set(RULE_LITERAL.findall(path.read_text(encoding="utf-8")))
    assert len(ids) >= 10, ids
    return ids


def test_every_rule_of_the_engine_has_a_full_page() -> None:
    specs = rule_specs()
    for rule in sorted(engine_rules()):
        assert rule in specs, f"{rule} is not documented in rules/checks.yaml"
        missing = [key for key, _ in FIELDS if not specs[rule].get(key)]
        assert not missing, f"{rule}: no {missing}"


def test_gouji_rules_lists_every_rule_and_prints_its_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    for rule in engine_rules():
        assert re.search(rf"^{re.escape(rule)}\s", listing, re.M), rule
        assert main(["rules", rule]) == 0
        page = capsys.readouterr().out
        assert page.startswith(rule) and all(label in page for _, label in FIELDS), page
    assert main(["rules", "no.such.rule"]) == 2


def test_each_finding_of_the_report_links_to_its_rule_page() -> None:
    """One finding per engine rule: each card's rule link lands on that rule's section of the same file."""
    findings = [{"doc": "d.txt", "rule": r, "severity": "error", "fingerprint": f"f{i}", "message": r,
                 "stated": "1", "expected": "2", "evidence": [{"text": "x 1"}]}
                for i, r in enumerate(sorted(engine_rules()))]
    html = build_html(Results(findings, {"d.txt": DocInfo("d.txt")}, Path("findings.jsonl"), None, None))
    for f in findings:
        card = re.search(rf'<article [^>]*data-fingerprint="{f["fingerprint"]}".*?</article>', html, re.S).group(0)
        href = re.search(r'class="rule-link" href="#([^"]+)"', card).group(1)
        section = re.search(rf'<section class="rule" id="{re.escape(href)}">(.*?)</section>', html, re.S)
        assert section and f["rule"] in section.group(1) and "目的 Purpose" in section.group(1), f["rule"]
