"""HTML fragments for one finding: its sentence with the numbers marked, the arithmetic, the table cell in its table.

Why shared: the single-file report and the review app show a finding the same way, so an auditor who learned
one reads the other. Every piece of document text goes through :func:`html.escape` here and nowhere else
builds markup from document text — a document containing ``<script>`` stays text.
"""

from __future__ import annotations

import hashlib
from html import escape

import regex as re

from detector.model import Cell, Document, Paragraph, Table
from detector.report.results import difference, finding_page, finding_values, stated_numbers
from detector.report.rule_pages import anchor

SEVERITY_LABEL = {"error": "错误 error", "warning": "警告 warning", "info": "提示 info"}
TABLE_WINDOW = 5  # rows shown on each side of the highlighted cell; the head rows are always shown
HEAD_ROWS = 3


def _norm(text: str) -> str:
    return "".join(text.split())


def _value_pattern(value: str) -> re.Pattern | None:
    """A pattern for a number as written that tolerates thousands separators either way (1,226.42 ↔ 1226.42)
    and never matches inside a longer number (26.42 is not marked inside 1226.42)."""
    core = value.strip().rstrip("%％").replace(",", "").replace("，", "").lstrip("+")
    if not re.search(r"\d", core):
        return None
    body = "".join(re.escape(ch) + ("[,，]?" if ch.isdigit() else "") for ch in core)
    pct = "[%％]?" if value.strip().endswith(("%", "％")) else ""
    return re.compile(rf"(?<![\d.]){body}{pct}(?![\d]|\.\d)")


def mark_values(text: str, values: list[str]) -> tuple[str, int]:
    """Escape ``text`` and wrap each occurrence of the given numbers in ``<mark>``; returns (html, marks)."""
    spans: list[tuple[int, int]] = []
    for value in sorted(set(values), key=len, reverse=True):
        pattern = _value_pattern(value)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            if all(m.end() <= s or m.start() >= e for s, e in spans):
                spans.append((m.start(), m.end()))
    spans.sort()
    out, pos = [], 0
    for s, e in spans:
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out), len(spans)


# -------------------------------------------------------------------------------------------- locating


def find_paragraph(doc: Document, ev: dict) -> Paragraph | None:
    """The paragraph holding the evidence sentence: the recorded block when its text still contains the
    sentence, else the first paragraph that does (a re-ingestion may number blocks differently)."""
    want = _norm(str(ev.get("text", "")))
    if not want:
        return None
    block = ev.get("block")
    if isinstance(block, int) and 0 <= block < len(doc.blocks):
        b = doc.blocks[block]
        if isinstance(b, Paragraph) and want in _norm(b.text):
            return b
    return next((p for p in doc.paragraphs if want in _norm(p.text)), None)


def find_table(doc: Document, ev: dict) -> Table | None:
    """The table an evidence cell refers to: the recorded block if it is a table of that title, else the
    table of that title, else the recorded block if it is a table at all."""
    title = ev.get("table")
    block = ev.get("block")
    b = doc.blocks[block] if isinstance(block, int) and 0 <= block < len(doc.blocks) else None
    if isinstance(b, Table) and (not title or b.title == title):
        return b
    if title:
        match = next((t for t in doc.tables if t.title == title), None)
        if match is not None:
            return match
    return b if isinstance(b, Table) else None


def _sentence_span(para: Paragraph, ev: dict) -> tuple[int, int] | None:
    text = str(ev.get("text", ""))
    i = para.text.find(text) if text else -1
    if i >= 0:
        return i, i + len(text)
    s, e = ev.get("start"), ev.get("end")
    if (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(para.text)
            and _norm(para.text[s:e]) == _norm(text)):
        return s, e
    return None


# ------------------------------------------------------------------------------------------- rendering


def paragraph_html(para: Paragraph, items: list[tuple[dict, list[str]]], doc: Document,
                   context: int = 0) -> tuple[str, int]:
    """A paragraph with each evidence sentence in it emphasised and their numbers marked, shown once even
    when several evidence items lie in it; ``context`` paragraphs before and after are shown dimmed (the
    review app shows one on each side)."""
    spans: list[tuple[int, int, list[str]]] = []
    loose: list[tuple[dict, list[str]]] = []
    for ev, values in items:
        span = _sentence_span(para, ev)
        if span is not None and all(span[1] <= a or span[0] >= b for a, b, _ in spans):
            spans.append((span[0], span[1], values))
        elif span is None:
            loose.append((ev, values))
    spans.sort()
    out, pos, marks = [], 0, 0
    for a, b, values in spans:
        body, k = mark_values(para.text[a:b], values)
        out.append(escape(para.text[pos:a]) + f'<span class="sentence">{body}</span>')
        pos, marks = b, marks + k
    out.append(escape(para.text[pos:]))
    extra = []
    for ev, values in loose:  # the sentence is in the paragraph only modulo whitespace
        body, k = mark_values(str(ev.get("text", "")), values)
        extra.append(f'<p><span class="sentence">{body}</span></p>')
        marks += k
    before, after = _neighbours(doc, para, context)
    ctx_b = "".join(f'<p class="context">{escape(p.text)}</p>' for p in before)
    ctx_a = "".join(f'<p class="context">{escape(p.text)}</p>' for p in after)
    return f'<blockquote class="evidence">{ctx_b}<p>{"".join(out)}</p>{"".join(extra)}{ctx_a}</blockquote>', marks


def sentence_html(ev: dict, values: list[str]) -> tuple[str, int]:
    """The evidence text alone, numbers marked: for a finding whose source is not available."""
    body, marks = mark_values(str(ev.get("text", "")), values)
    return f'<blockquote class="evidence"><span class="sentence">{body}</span></blockquote>', marks


def _neighbours(doc: Document, para: Paragraph, n: int) -> tuple[list[Paragraph], list[Paragraph]]:
    if n <= 0:
        return [], []
    paras = doc.paragraphs
    i = next((k for k, p in enumerate(paras) if p is para), None)
    if i is None:
        return [], []
    return paras[max(0, i - n): i], paras[i + 1: i + 1 + n]


def _row_html(cells: list[Cell], hit_col: int | None, values: list[str]) -> tuple[str, int]:
    """One table row. A merged cell spans the covered positions to its right (colspan); positions covered
    from above stay as empty cells, so every row keeps the grid's columns aligned."""
    out, marks, i = [], 0, 0
    while i < len(cells):
        c = cells[i]
        span = 1
        if not c.merged and c.col != hit_col:
            while i + span < len(cells) and cells[i + span].merged and cells[i + span].col != hit_col:
                span += 1
        attr = f' colspan="{span}"' if span > 1 else ""
        if c.col == hit_col:
            body, k = mark_values(c.text, values)
            if k == 0:  # the cell itself is the number in question
                body, k = f"<mark>{escape(c.text)}</mark>", 1
            out.append(f'<td class="hit">{body}</td>')
            marks += k
        elif c.merged:
            out.append('<td class="covered"></td>')
        else:
            out.append(f"<td{attr}>{escape(c.text)}</td>")
        i += span
    return "".join(out), marks


def table_html(table: Table, cell: tuple[int, int] | None, values: list[str],
               window: bool = True) -> tuple[str, int]:
    """The table around ``cell`` (head rows plus a window of rows; all rows with ``window=False``), the
    cell highlighted and its numbers marked; rows left out are shown as one '…' row so the reader knows the
    table goes on."""
    row_at = cell[0] if cell else 0
    keep = set(range(table.n_rows)) if not window else set(range(min(HEAD_ROWS, table.n_rows)))
    keep |= set(range(max(0, row_at - TABLE_WINDOW), min(table.n_rows, row_at + TABLE_WINDOW + 1)))
    ncols = max(table.n_cols, 1)
    title = f"<caption>{escape(table.title)}</caption>" if table.title else ""
    rows_html, marks, last = [], 0, -1
    for r in sorted(keep):
        if r != last + 1:
            rows_html.append(f'<tr class="gap"><td colspan="{ncols}">…</td></tr>')
        last = r
        hit = cell is not None and r == row_at
        body, k = _row_html(table.rows[r], cell[1] if hit else None, values)
        marks += k
        rows_html.append(f'<tr class="hit-row">{body}</tr>' if hit else f"<tr>{body}</tr>")
    if last < table.n_rows - 1:
        rows_html.append(f'<tr class="gap"><td colspan="{ncols}">…</td></tr>')
    unit = f'<p class="unit">单位：{escape(table.unit)}</p>' if table.unit else ""
    return f'<div class="table-wrap">{unit}<table class="doc-table">{title}{"".join(rows_html)}</table></div>', marks


def evidence_html(evidence: list[tuple[dict, list[str]]], doc: Document | None,
                  context: int = 0) -> tuple[str, int]:
    """The evidence items of a finding, in order: a table cell inside its table, sentences inside their
    paragraph (one paragraph shown once), or the bare text when the source is gone."""
    pieces: list[tuple[object, list[tuple[dict, list[str]]]]] = []  # (table | paragraph | None, items)
    for ev, values in evidence:
        cell = ev.get("cell")
        table = find_table(doc, ev) if cell and doc is not None else None
        if table is not None and isinstance(cell, (list, tuple)) and 0 <= int(cell[0]) < table.n_rows:
            pieces.append((table, [(ev, values)]))
            continue
        para = find_paragraph(doc, ev) if doc is not None else None
        same = next((items for key, items in pieces if para is not None and key is para), None)
        if same is not None:
            same.append((ev, values))
        else:
            pieces.append((para, [(ev, values)]))
    html, marks = [], 0
    for key, items in pieces:
        if isinstance(key, Table):
            ev, values = items[0]
            where = f'<p class="where">表格单元 table cell：{escape(str(ev.get("text", "")))}</p>'
            body, k = table_html(key, (int(ev["cell"][0]), int(ev["cell"][1])), values)
            body = where + body
        elif isinstance(key, Paragraph) and doc is not None:
            body, k = paragraph_html(key, items, doc, context)
        else:
            body, k = sentence_html(*items[0])
        html.append(body)
        marks += k
    return "".join(html), marks


def arithmetic_html(finding: dict) -> str:
    """The arithmetic written out: formula, the stated and the computed values and their difference."""
    stated, expected = str(finding.get("stated", "")), str(finding.get("expected", ""))
    rows = []
    if finding.get("formula"):
        rows.append(("公式 formula", str(finding["formula"])))
    rows.append(("文中 stated", stated))
    rows.append(("计算 computed", expected))
    diff = difference(stated, expected)
    if diff:
        rows.append(("差额 difference", diff))
    items = "".join(f"<dt>{escape(k)}</dt><dd><code>{escape(v)}</code></dd>" for k, v in rows)
    return f'<dl class="arith">{items}</dl>'


def finding_html(finding: dict, doc: Document | None, rule_href: str | None = None, context: int = 0,
                 extra: str = "") -> tuple[str, int]:
    """A finding card. ``rule_href`` links the rule id (default: the anchor in the same file); ``extra`` is
    trusted markup appended by the caller (the review app's verdict controls). Returns (html, marks)."""
    sev = str(finding.get("severity", "info"))
    rule = str(finding.get("rule", ""))
    href = rule_href if rule_href is not None else "#" + anchor(rule)
    values = finding_values(finding)
    page = finding_page(finding)
    evidence = []
    for ev in finding.get("evidence") or []:
        if isinstance(ev, dict):
            own = [str(v) for v in ev.get("values") or []]
            evidence.append((ev, list(dict.fromkeys([*own, *stated_numbers(finding)])) if own else values))
    evid, marks = evidence_html(evidence, doc, context)
    fp = str(finding.get("fingerprint", ""))
    head = (
        f'<header><span class="sev sev-{escape(sev)}">{escape(SEVERITY_LABEL.get(sev, sev))}</span> '
        f'<a class="rule-link" href="{escape(href)}"><code>{escape(rule)}</code></a> '
        f'<span class="kind">{escape(str(finding.get("kind", "")))}</span> '
        f'<span class="page">{"第 " + escape(str(page)) + " 页" if page is not None else "页码未知"}</span> '
        f'<span class="conf">置信度 {escape(str(finding.get("confidence", "")))}</span></header>'
    )
    msg = f'<p class="message">{escape(str(finding.get("message", "")))}</p>'
    card = (
        f'<article class="finding sev-{escape(sev)}" id="f-{escape(fp)}" data-fingerprint="{escape(fp)}" '
        f'data-severity="{escape(sev)}" data-rule="{escape(rule)}">{head}{msg}{arithmetic_html(finding)}'
        f'{evid}<footer class="fp">指纹 fingerprint <code>{escape(fp)}</code></footer>{extra}</article>'
    )
    return card, marks


def doc_anchor(doc: str) -> str:
    """An HTML id for a document: ids are paths with any characters, so a short hash keeps anchors safe."""
    return "doc-" + hashlib.sha1(doc.encode("utf-8")).hexdigest()[:12]
