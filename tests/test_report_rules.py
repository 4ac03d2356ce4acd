"""Rule pages from rules/checks.yaml: every documented rule renders as text and as escaped HTML."""

from __future__ import annotations

from html.parser import HTMLParser

from detector.report.rule_pages import FIELDS, MISSING, anchor, rule_html, rule_specs, rule_text


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

