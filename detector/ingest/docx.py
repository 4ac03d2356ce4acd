"""DOCX (and DOCM/DOTX): paragraphs and tables in body order, merged cells expanded.

Why walk the body XML ourselves instead of ``document.paragraphs`` / ``document.tables``: python-docx lists
those separately, losing which paragraph precedes which table (the title and unit of a disclosure table are the
paragraphs just before it). Content controls (``w:sdt``) and ``w:customXml`` wrappers are descended into, so
tables inside them are not lost; ``mc:Fallback`` copies and deleted revisions are skipped, so text is not
doubled. Word has no pages in the file, so ``page`` is None and a paragraph is addressed by its block index.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from docx.opc.package import OpcPackage
from docx.oxml.parser import parse_xml
from lxml import etree

from detector.errors import IngestError
from detector.ingest import FileContent
from detector.ingest.grid import (
    Span,
    build_grid,
    check_zip,
    find_unit,
    head_texts,
    is_cjk,
    is_unit_line,
    paragraphs_before,
    reraise_fatal,
    title_row,
)
from detector.model import Block, Paragraph, Table

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
WRAPPERS = {f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}smartTag"}
SKIP = {f"{MC}Fallback", f"{W}del", f"{W}moveFrom", f"{W}sdtPr", f"{W}rPr", f"{W}pPr", f"{W}tcPr", f"{W}trPr",
        f"{W}tblPr", f"{W}tblGrid"}


def read(data: bytes, file: str) -> FileContent:
    check_zip(data, file, "DOCX")
    body = _open_body(data, file)
    blocks: list[Block] = []
    for el in _children(body, (f"{W}p", f"{W}tbl")):
        if el.tag == f"{W}p":
            text = paragraph_text(el).strip()
            if text:
                blocks.append(Paragraph(index=len(blocks), text=text, file=file))
        elif el.tag == f"{W}tbl":
            table = _table(el, file, blocks)
            if table is not None:
                blocks.append(table)
    return FileContent(blocks=blocks, meta={"pages": None})


def _open_body(data: bytes, file: str) -> etree._Element:
    """The ``w:body`` element of the main document part, whatever its content type (docx, docm, dotx)."""
    try:
        part = OpcPackage.open(io.BytesIO(data)).main_document_part
        root = getattr(part, "element", None)
        if root is None:
            root = parse_xml(part.blob)
    except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors for broken packages
        reraise_fatal(exc)
        raise IngestError(f"DOCX 文件已损坏或缺少正文部件 / broken DOCX ({type(exc).__name__}: {exc})", path=file,
                          code="corrupt") from exc
    body = root.find(f"{W}body")
    if body is None:
        raise IngestError("DOCX 文件已损坏：没有正文（w:body）/ broken DOCX: no document body", path=file, code="corrupt")
    return body


def _children(parent: etree._Element, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """Children with one of ``tags``, in order, looking through content-control and custom-XML wrappers
    (body → paragraphs/tables, table → rows, row → cells)."""
    for child in parent:
        if child.tag in tags:
            yield child
        elif child.tag in WRAPPERS:
            yield from _children(child, tags)


def _walk(el: etree._Element) -> Iterator[etree._Element]:
    """Descendants in document order, pruning subtrees whose text is not the visible text."""
    for child in el:
        if child.tag in SKIP:
            continue
        yield child
        yield from _walk(child)


def paragraph_text(p: etree._Element) -> str:
    """Visible text of a paragraph: runs, hyperlinks, fields' results and insertions; tabs and breaks kept."""
    parts: list[str] = []
    for el in _walk(p):
        tag = el.tag
        if tag == f"{W}t":
            parts.append(el.text or "")
        elif tag == f"{W}tab":
            parts.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif tag == f"{W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


def join_lines(pieces: list[str]) -> str:
    """Join the paragraphs of one cell: nothing between two CJK characters (a label wrapped by Word, e.g.
    「政府性基金预算财政」+「拨款」), a space elsewhere."""
    out = ""
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if out and not (is_cjk(out[-1]) and is_cjk(piece[0])):
            out += " "
        out += piece
    return out


def _val(el: etree._Element | None, default: str | None = None) -> str | None:
    return default if el is None else el.get(f"{W}val", default)


def _int(value: str | None, default: int) -> int:
    try:
        return max(int(value), 0) if value is not None else default
    except ValueError:
        return default


def _cell_text(tc: etree._Element) -> str:
    return join_lines([paragraph_text(p) for p in tc.iter(f"{W}p")])


def table_spans(tbl: etree._Element) -> tuple[list[Span], int]:
    """Translate Word's merges into spans: ``gridSpan`` widens a cell; a ``vMerge`` cell without
    ``val="restart"`` continues the span of the cell above it in the same grid column."""
    spans: list[Span] = []
    open_v: dict[int, Span] = {}  # grid column → the span a vMerge continuation extends
    n_rows = 0
    for r, tr in enumerate(_children(tbl, (f"{W}tr",))):
        n_rows = r + 1
        trpr = tr.find(f"{W}trPr")
        col = _int(_val(trpr.find(f"{W}gridBefore")) if trpr is not None else None, 0)
        for tc in _children(tr, (f"{W}tc",)):
            tcpr = tc.find(f"{W}tcPr")
            span = _int(_val(tcpr.find(f"{W}gridSpan")) if tcpr is not None else None, 1) or 1
            vmerge = tcpr.find(f"{W}vMerge") if tcpr is not None else None
            above = open_v.get(col)
            if vmerge is not None and _val(vmerge, "continue") != "restart" and above is not None \
                    and above.row + above.rowspan == r:
                above.rowspan += 1
            else:
                s = Span(row=r, col=col, text=_cell_text(tc), colspan=span)
                spans.append(s)
                for c in range(col, col + span):
                    open_v.pop(c, None)
                if vmerge is not None:
                    open_v[col] = s
            col += span
    return spans, n_rows


def _table(tbl: etree._Element, file: str, blocks: list[Block]) -> Table | None:
    spans, n_rows = table_spans(tbl)
    if not spans:
        return None
    rows = build_grid(spans, n_rows, file=file)
    before = paragraphs_before(blocks)
    title = next((p for p in before if not is_unit_line(p)), None) or title_row(rows)
    unit = find_unit(*head_texts(rows), *before)
    return Table(index=len(blocks), rows=rows, title=title, file=file, unit=unit)
