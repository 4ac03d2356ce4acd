"""Text PDFs → paragraphs and tables.

Why pdfium and our own layout instead of pdfplumber: measured on the Jiangsu disclosures (bench/bench_pdf.py),
a bare pdfplumber ``extract_text`` + ``extract_tables`` pass costs ~100 ms per page, almost all of it in
pdfminer's layout analysis; pypdfium2 hands over every character with its box and every path segment in a few
milliseconds. Rebuilding lines, paragraphs (:mod:`pdf_layout`) and ruled table grids (:mod:`pdf_tables`) from
that geometry is cheap and, because it sees cell borders, keeps wrapped cells and side-by-side layouts intact.

This module only orchestrates: open the file (turning every failure into an :class:`IngestError` a user can
read), read each page's geometry (:mod:`pdf_page`), cut tables out, rebuild the narrative, and put blocks in
reading order. Paragraph ``offset`` is the offset in the file's narrative text: paragraphs joined by ``\\n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium

from detector.errors import IngestError
from detector.ingest import FileContent
from detector.ingest.pdf_layout import Line, body_margins, build_paragraphs, group_lines, strip_running_heads
from detector.ingest.pdf_page import PageGeometry, read_page
from detector.ingest.pdf_tables import (
    Draft,
    attach_heading,
    build_draft,
    continues,
    find_frames,
    merge_into,
    split_at_titles,
    title_from_run,
    to_table,
)
from detector.model import Block, Paragraph

MAX_PAGES = 2000
MIN_CHARS_PER_PAGE = 5  # below this on average, the file is scanned images, not text
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


@dataclass
class _PageItems:
    """One page after tables are cut out: narrative lines and table drafts, each with its top edge."""

    number: int
    height: float
    lines: list[Line]
    drafts: list[Draft]


def read(data: bytes, file: str) -> FileContent:
    """Read a text PDF into paragraphs and tables in reading order (indexes local to the file)."""
    doc = _open(data, file)
    try:
        n_pages = len(doc)
        if n_pages == 0:
            raise IngestError("损坏的 PDF：没有页面 / corrupt PDF: no pages", path=file, code="corrupt")
        if n_pages > MAX_PAGES:
            raise IngestError(f"PDF 页数过多（{n_pages} 页，上限 {MAX_PAGES}）/ too many pages", path=file,
                              code="too_many_pages")
        pages: list[PageGeometry] = []
        for i in range(n_pages):
            try:
                page = doc[i]
            except pdfium.PdfiumError as exc:
                raise IngestError(f"损坏的 PDF：第 {i + 1} 页无法读取 / corrupt PDF page {i + 1}", path=file,
                                  code="corrupt") from exc
            try:
                pages.append(read_page(page, i + 1))
            finally:
                page.close()
    finally:
        doc.close()
    chars = sum(len(p.glyphs) for p in pages)
    if chars < MIN_CHARS_PER_PAGE * n_pages:
        raise IngestError("PDF 没有文字层，需要先做 OCR / no text layer: OCR needed", path=file, code="no_text")
    items = [_cut_tables(p) for p in pages]
    blocks = _assemble(items, file)
    meta = {
        "pages": n_pages,
        "chars": chars,
        "tables": sum(1 for b in blocks if b.kind == "table"),
        "pages_without_text": [p.number for p in pages if not p.glyphs],
    }
    return FileContent(blocks=blocks, meta=meta)


def _open(data: bytes, file: str) -> pdfium.PdfDocument:
    tail = data[-8192:]
    if b"%%EOF" not in tail:
        raise IngestError("损坏的 PDF：文件被截断（缺少 %%EOF）/ corrupt PDF: truncated", path=file,
                          code="corrupt")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
            raise IngestError("加密的 PDF，请提供未加密的文件 / encrypted PDF (password protected)", path=file,
                              code="encrypted") from exc
        raise IngestError(f"损坏的 PDF，无法打开 / corrupt PDF: {exc}", path=file, code="corrupt") from exc


def _cut_tables(page: PageGeometry) -> _PageItems:
    """Split a page's glyphs between ruled tables and narrative lines."""
    frames = find_frames(page.rulings)
    inside: list[list] = [[] for _ in frames]
    free = []
    for g in page.glyphs:
        for k, frame in enumerate(frames):
            if frame.contains(g):
                inside[k].append(g)
                break
        else:
            free.append(g)
    drafts: list[Draft] = []
    for frame, glyphs in zip(frames, inside, strict=True):
        draft = build_draft(frame, glyphs, page.number) if glyphs else None
        if draft is not None and _is_table(draft):
            drafts.extend(split_at_titles(draft))
        else:
            free.extend(glyphs)  # a boxed paragraph or a frame around the page: narrative after all
    return _PageItems(page.number, page.height, group_lines(free, page.number), drafts)


def _is_table(draft: Draft) -> bool:
    """A frame is a table when it has two columns of text; a single box is a border around a page, a note or
    a heading. One row is enough: a table's header row is often all that fits at the foot of a page."""
    return len(draft.col_edges) >= 2


def _assemble(items: list[_PageItems], file: str) -> list[Block]:
    """Reading order over all pages: narrative runs become paragraphs, tables attach their titles and merge
    with the table they continue."""
    kept = strip_running_heads([(p.height, p.lines) for p in items])
    margins = body_margins([ln for lines in kept for ln in lines])
    stream: list[Line | Draft] = []
    for page, lines in zip(items, kept, strict=True):
        lines = list(lines)
        drafts = sorted(page.drafts, key=lambda d: d.top)
        floor = 0.0
        for draft in drafts:
            above = [ln for ln in lines if floor <= ln.top and ln.bottom <= draft.top + 1.0]
            consumed = attach_heading(draft, above)
            lines = [ln for ln in lines if all(ln is not c for c in consumed)]
            floor = draft.bottom
        page_items: list[Line | Draft] = [*lines, *drafts]
        page_items.sort(key=lambda it: it.top)
        stream.extend(page_items)

    blocks: list[Block] = []
    run: list[Line] = []
    offset = 0
    last: Draft | None = None

    def flush() -> None:
        nonlocal offset
        for para in build_paragraphs(run, margins):
            text = para.text
            blocks.append(Paragraph(index=len(blocks), text=text, file=file, page=para.page, offset=offset))
            offset += len(text) + 1
        run.clear()

    drafts_out: list[tuple[int, Draft]] = []
    for it in stream:
        if isinstance(it, Line):
            run.append(it)
            continue
        if last is not None and not run and continues(last, it):
            merge_into(last, it)
            continue
        title_from_run(it, run)
        flush()
        drafts_out.append((len(blocks), it))
        blocks.append(to_table(it, len(blocks), file))
        last = it
    flush()
    # Merged drafts grew after their Table was created: rebuild those tables from the final drafts.
    for pos, draft in drafts_out:
        blocks[pos] = to_table(draft, pos, file)
    return blocks
