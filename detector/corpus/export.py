"""A :class:`~detector.model.Document` written back as a plain-text, one-cell-per-line export.

Why: error injection perturbs *text*. Text documents are perturbed as they are; a PDF cannot be edited
faithfully, so its extracted content is written in the cell-per-line text format the text reader understands
(a cell is a line starting with a tab, a blank line ends a row, any other line is a paragraph) and that text is
perturbed instead. Reading the export back gives the same paragraphs and tables, in the same order, with the
same cell texts — :func:`roundtrip_problems` checks it, and injection refuses a document that does not survive.

Layout choices: a paragraph's internal line breaks are removed (PDF extraction breaks lines mid-word; Chinese
needs no space between lines); paragraphs are separated by a blank line; a table is preceded by its title as a
paragraph line when it has one — two tables in a row need a paragraph between them or they would read back
as one table, so an untitled table that follows another table gets a line ``[表]``.
"""

from __future__ import annotations

from detector.model import Document, Paragraph, Table

UNTITLED = "[表]"


def _flat(text: str) -> str:
    lines = [seg.strip() for seg in text.replace("\t", " ").split("\n")]
    return "".join(seg for seg in lines if seg)


def export_text(doc: Document) -> str:
    """The document as cell-per-line text (see the module docstring for the format)."""
    out: list[str] = []
    prev_table = False
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            text = _flat(block.text)
            if text:
                out += [text, ""]
                prev_table = False
            continue
        assert isinstance(block, Table)
        title = _flat(block.title or "")
        last_para = next((x for x in reversed(out) if x), None)
        if title and (prev_table or last_para != title):
            out += [title, ""]
        elif prev_table:
            out += [UNTITLED, ""]
        for row in block.rows:
            out += ["\t" + _flat(c.text) for c in row]
            out.append("")
        prev_table = True
    return "\n".join(out).rstrip("\n") + "\n"


def roundtrip_problems(doc: Document, text: str) -> list[str]:
    """Differences between ``doc`` and the export ``text`` read back: paragraph texts and table cells."""
    from detector.ingest.text import parse_text

    back = parse_text(text)
    want_tables = [[[_flat(c.text) for c in r] for r in t.rows] for t in doc.tables]
    got_tables = [[[c.text for c in r] for r in t.rows] for t in back if isinstance(t, Table)]
    problems = []
    if len(want_tables) != len(got_tables):
        problems.append(f"{len(want_tables)} tables became {len(got_tables)}")
    for i, (w, g) in enumerate(zip(want_tables, got_tables, strict=False)):
        if w != g:
            problems.append(f"table {i} differs")
    want_paras = [_flat(p.text) for p in doc.paragraphs if _flat(p.text)]
    got_paras = [p.text for p in back if isinstance(p, Paragraph) and p.text != UNTITLED]
    missing = set(want_paras) - set(got_paras)
    if missing:
        problems.append(f"{len(missing)} paragraphs lost")
    return problems
