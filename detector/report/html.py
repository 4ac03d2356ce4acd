"""``gouji report RESULTS --html out.html``: one self-contained file an auditor can open, mail and print.

Why self-contained: reports travel by mail and USB stick to machines without network; so no CDN, no external
font, CSS and the one small script inline. A Content-Security-Policy in the page allows only that script (by
its hash), so even a mistake in escaping could not run document content.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape
from pathlib import Path

from detector.io import write_text_atomic
from detector.report.render import doc_anchor, finding_html
from detector.report.results import OUTCOMES, SEVERITIES, Results, severity_counts
from detector.report.rule_pages import rule_html, rule_specs

Verdicts = dict[str, tuple[str | None, str]]  # fingerprint -> (confirmed | dismissed | unsure | None, comment)
VERDICT_NAMES = {"confirmed": "确认 confirmed", "dismissed": "误报 dismissed", "unsure": "待定 unsure"}

FONT_STACK = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
              '"WenQuanYi Micro Hei", sans-serif')

CSS = """
:root { --err: #b3261e; --warn: #a15c00; --info: #35608f; --line: #d9d9d9; }
* { box-sizing: border-box; }
body { font-family: %FONTS%; margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #1b1b1b;
       line-height: 1.6; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 2px solid #333; padding-bottom: .2rem; }
.meta { color: #555; font-size: .9rem; }
table.summary { border-collapse: collapse; width: 100%; font-size: .9rem; }
table.summary th, table.summary td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: right; }
table.summary th:first-child, table.summary td:first-child { text-align: left; word-break: break-all; }
table.summary tfoot td { font-weight: bold; }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--info); border-radius: 4px;
           padding: .6rem .9rem; margin: 1rem 0; page-break-inside: avoid; break-inside: avoid; }
.finding.sev-error { border-left-color: var(--err); } .finding.sev-warning { border-left-color: var(--warn); }
.finding header { display: flex; flex-wrap: wrap; gap: .6rem; align-items: baseline; font-size: .9rem; }
.sev { font-weight: bold; padding: 0 .4rem; border-radius: 3px; color: #fff; background: var(--info); }
.sev-error .sev, .sev.sev-error { background: var(--err); } .sev.sev-warning { background: var(--warn); }
.message { font-size: 1.05rem; margin: .4rem 0; }
dl.arith { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .4rem 0; }
dl.arith dt { color: #555; } dl.arith dd { margin: 0; }
blockquote.evidence { margin: .5rem 0; padding: .4rem .8rem; background: #f6f6f4; border-left: 3px solid #999; }
blockquote.evidence p { margin: .2rem 0; } .context { color: #777; font-size: .9rem; }
.sentence { background: #fff8d6; } mark { background: #ffd54a; color: #000; padding: 0 1px; font-weight: bold; }
.table-wrap { overflow-x: auto; margin: .5rem 0; }
table.doc-table { border-collapse: collapse; font-size: .85rem; }
table.doc-table caption { text-align: left; font-weight: bold; padding: .2rem 0; }
table.doc-table td { border: 1px solid var(--line); padding: .15rem .4rem; white-space: pre-wrap; }
table.doc-table tr.hit-row td { background: #fffbe6; } table.doc-table td.hit { outline: 3px solid var(--err); }
table.doc-table tr.gap td { text-align: center; color: #999; border: none; }
.unit, .where, .fp { color: #666; font-size: .8rem; margin: .2rem 0; }
.filters { position: sticky; top: 0; background: #fff; padding: .4rem 0; border-bottom: 1px solid var(--line); }
section.rule { border-top: 1px solid var(--line); padding: .3rem 0; }
section.rule dt { font-weight: bold; } section.rule pre { white-space: pre-wrap; margin: 0; }
.missing { color: #999; } .doc-status { font-size: .9rem; color: #555; }
.hidden { display: none; }
.verdict-note { margin-top: .4rem; padding: .2rem .5rem; border-radius: 3px; background: #f0f0f0; font-size: .9rem; }
.verdict-note.v-confirmed { background: #fde8e6; } .verdict-note.v-dismissed { background: #e6f4e7; }
.verdict-note.v-unsure { background: #fff4dc; } .verdict-note .comment { white-space: pre-wrap; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  .filters, .noprint { display: none !important; }
  a { color: inherit; text-decoration: none; }
  h2 { page-break-before: auto; break-after: avoid; }
  .finding { border-color: #999; }
  mark, .sev, .sentence, td.hit { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
""".replace("%FONTS%", FONT_STACK)

# Severity filter: the only script of the page, allowed by its hash in the CSP.
SCRIPT = """
document.querySelectorAll('.filters input[type=checkbox]').forEach(function (box) {
  box.addEventListener('change', function () {
    document.querySelectorAll('article.finding[data-severity="' + box.value + '"]').forEach(function (el) {
      el.classList.toggle('hidden', !box.checked);
    });
  });
});
"""


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _summary(results: Results, by_doc: dict[str, list[dict]], verdicts: Verdicts | None) -> str:
    head = ["文档 document", "状态 status", *SEVERITIES]
    if results.has_checks:
        head += ["通过 pass", "不符 fail", "无法核验 unverifiable"]
    if verdicts is not None:
        head += ["确认 confirmed", "误报 dismissed", "待定 unsure", "未审 unreviewed"]
    rows, totals = [], [0] * (len(head) - 2)
    for doc, info in results.documents.items():
        counts = severity_counts(by_doc.get(doc, []))
        nums = [counts.get(s, 0) for s in SEVERITIES]
        if results.has_checks:
            nums += [info.checks.get(o, 0) for o in OUTCOMES]
        if verdicts is not None:
            given = [(verdicts.get(str(f.get("fingerprint", ""))) or (None, ""))[0] for f in by_doc.get(doc, [])]
            nums += [given.count(v) for v in VERDICT_NAMES] + [given.count(None)]
        totals = [a + b for a, b in zip(totals, nums, strict=True)]
        cells = "".join(f"<td>{n}</td>" for n in nums)
        rows.append(f'<tr><td><a href="#{doc_anchor(doc)}">{escape(doc)}</a></td><td>{escape(info.status)}</td>'
                    f"{cells}</tr>")
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    foot = "".join(f"<td>{n}</td>" for n in totals)
    return (f'<table class="summary"><thead><tr>{th}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f'<tfoot><tr><td>合计 total（{len(results.documents)} 份文档）</td><td></td>{foot}</tr></tfoot></table>')


def _filters() -> str:
    boxes = "".join(f'<label><input type="checkbox" value="{s}" checked> {s}</label> ' for s in SEVERITIES)
    return f'<div class="filters noprint">显示 show: {boxes}<a href="#rules">规则说明</a></div>'


def verdict_html(verdict: str | None, comment: str) -> str:
    """An auditor's verdict and comment from the review database, under the finding (escaped: comments are
    typed by people and may hold anything)."""
    name = VERDICT_NAMES.get(verdict or "", "未审 unreviewed")
    note = f' · 备注 comment：<span class="comment">{escape(comment)}</span>' if comment else ""
    return (f'<div class="verdict-note v-{escape(verdict or "none")}" data-verdict="{escape(verdict or "")}">'
            f"审阅结论 verdict：<b>{escape(name)}</b>{note}</div>")


def build_html(results: Results, rules_dir: str | None = None, title: str = "勾稽检查报告",
               verdicts: Verdicts | None = None) -> str:
    """The report as one HTML string. Findings of each document follow the summary in document order. With
    ``verdicts`` (from the review database) each finding shows its verdict and comment, and the summary
    counts them per document."""
    by_doc = results.by_document()
    specs = rule_specs(rules_dir)
    sections = []
    for doc in results.documents:
        findings = by_doc.get(doc, [])
        document = results.document(doc) if findings else None
        note = "" if document is not None or not findings else (
            '<p class="doc-status">原文不可用，仅显示证据文本 / source not available: evidence text only</p>')
        cards = "".join(_card(f, document, verdicts) for f in findings) or '<p class="doc-status">无发现 no findings</p>'
        sections.append(f'<section class="document" id="{doc_anchor(doc)}"><h2>{escape(doc)}</h2>'
                        f'<p class="doc-status">{len(findings)} 项发现 findings</p>{note}{cards}</section>')
    used = sorted({str(f.get("rule", "")) for f in results.findings})
    rule_ids = sorted(set(specs) | set(used))
    rules = "".join(rule_html(r, specs.get(r)) for r in rule_ids)
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_csp()}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">结果 results: {escape(str(results.findings_path))} · 生成于 generated {generated} ·
{len(results.findings)} 项发现 findings in {len(results.documents)} 份文档 documents{_reviewed(results, verdicts)}</p>
{_filters()}
<h2 id="summary">汇总 Summary</h2>
{_summary(results, by_doc, verdicts)}
{"".join(sections)}
<h2 id="rules">规则说明 Rules</h2>
{rules}
<script>{SCRIPT}</script>
</body></html>
"""


def _card(finding: dict, document: object, verdicts: Verdicts | None) -> str:
    if verdicts is None:
        return finding_html(finding, document)[0]  # type: ignore[arg-type]
    verdict, comment = verdicts.get(str(finding.get("fingerprint", ""))) or (None, "")
    html = finding_html(finding, document, extra=verdict_html(verdict, comment))[0]  # type: ignore[arg-type]
    return html.replace("<article ", f'<article data-verdict="{escape(verdict or "")}" ', 1)


def _reviewed(results: Results, verdicts: Verdicts | None) -> str:
    if verdicts is None:
        return ""
    n = sum(1 for f in results.findings if (verdicts.get(str(f.get("fingerprint", ""))) or (None,))[0])
    return f" · 已审 reviewed {n} / {len(results.findings)}"


def write_html(results: Results, out: str | Path, rules_dir: str | None = None,
               verdicts: Verdicts | None = None) -> Path:
    write_text_atomic(out, build_html(results, rules_dir, verdicts=verdicts))
    return Path(out)
