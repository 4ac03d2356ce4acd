"""One page per rule — purpose, formula, worked example, known limits — from ``rules/checks.yaml``.

Why from data: the engineers who write a rule describe it next to its id in checks.yaml; the HTML report, the
review app (/rules/<id>) and ``gouji rules`` all render that same entry, so an auditor reading a finding sees the
rule exactly as documented. A rule without an entry still gets a page that says so, instead of a broken link.
"""

from __future__ import annotations

from html import escape

import regex as re

FIELDS = (
    ("purpose", "目的 Purpose"),
    ("formula", "公式 Formula"),
    ("example", "示例 Worked example"),
    ("limits", "已知局限 Known limits"),
)
MISSING = "（checks.yaml 中尚无此规则的说明 / not yet documented in rules/checks.yaml）"


def rule_specs(extra_dir: str | None = None) -> dict[str, dict]:
    """Every documented rule, shipped and user rules merged (see :func:`detector.rules.load_rules`)."""
    from detector.rules import load_rules

    return {str(k): (v if isinstance(v, dict) else {"purpose": str(v)}) for k, v in load_rules(extra_dir).checks.items()}


def anchor(rule_id: str) -> str:
    """The HTML id of a rule's section: ids may carry dots; anything else unusual becomes '-'."""
    return "rule-" + re.sub(r"[^\w.-]", "-", rule_id)


def _lines(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    return [str(value).rstrip()]


def rule_text(rule_id: str, spec: dict | None) -> str:
    """A rule as plain text for the terminal (``gouji rules``)."""
    spec = spec or {}
    head = f"{rule_id}" + (f"  [{spec['kind']}]" if spec.get("kind") else "")
    out = [head, "=" * len(head.encode("gbk", "replace"))]
    if not any(spec.get(k) for k, _ in FIELDS):
        out.append(MISSING)
    for key, label in FIELDS:
        lines = _lines(spec.get(key))
        if not lines:
            continue
        out.append(f"{label}:")
        out += ["  " + ln for line in lines for ln in line.splitlines()]
    return "\n".join(out) + "\n"


def rule_html(rule_id: str, spec: dict | None, heading: str = "h3") -> str:
    """A rule as an HTML ``<section>`` (escaped; ids from :func:`anchor`) for the report and the review app."""
    spec = spec or {}
    kind = f' <span class="kind">{escape(str(spec["kind"]))}</span>' if spec.get("kind") else ""
    parts = [f'<section class="rule" id="{escape(anchor(rule_id))}">',
             f"<{heading}><code>{escape(rule_id)}</code>{kind}</{heading}>"]
    if not any(spec.get(k) for k, _ in FIELDS):
        parts.append(f'<p class="missing">{escape(MISSING)}</p>')
    parts.append("<dl>")
    for key, label in FIELDS:
        lines = _lines(spec.get(key))
        if not lines:
            continue
        parts.append(f"<dt>{escape(label)}</dt>")
        tag = "pre" if key in ("formula", "example") else "p"
        parts += [f"<dd><{tag}>{escape(line)}</{tag}></dd>" for line in lines]
    parts.append("</dl></section>")
    return "\n".join(parts)
