"""A :class:`~detector.model.Document` written back as a plain-text, one-cell-per-line export.

Why: error injection perturbs *text*. Text documents are perturbed as they are; a PDF cannot be edited
faithfully, so its extracted content is written in the cell-per-line text format the text reader understands
(a cell is a line starting with a tab, a blank line ends a row, any other line is a paragraph) and that text is
perturbed instead. Reading the export back gives the same paragraphs and tables, in the same order, with the
same cell texts — :func:`roundtrip_problems` checks it, and injection refuses a document that does not survive.

Layout choices: a paragraph's internal line breaks are removed (PDF extraction breaks lines mid-word; Chinese
needs no space between lines); paragraphs are separated by a blank line; a table is preceded by its title as a
paragraph line when it has one — two tables in a row need a paragraph between them or they would read back
as one table, so an untitled table that follows another table gets a line ``[表]``. A unit stated above the grid
(单位：万元 in the PDF's preamble) becomes a first row ``单位：万元``, where the text reader looks for it. Merged
cells have no mark in the text format: a covered position gets the text the table reader gives it anyway (see
:func:`grid_texts`). On the Jiangsu set the export and the PDF give the same findings but for one table total.
"""

from __future__ import annotations

from detector.model import Cell, Document, Paragraph, Table

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
        if block.unit and not any(block.unit in c.text for r in block.rows[:6] for c in r):
            out += [f"\t单位：{block.unit}", ""]  # the unit stood above the grid in the PDF: keep it in the table
        for texts in grid_texts(block):
            out += ["\t" + t for t in texts]
            out.append("")
        prev_table = True
    return "\n".join(out).rstrip("\n") + "\n"


def grid_texts(table: Table) -> list[list[str]]:
    """The cell texts to write. The text format has no mark for merged cells, so a covered position gets the text
    the table reader would give it anyway (:func:`detector.tables.filled_rows`: the label or header it
    continues; figures are never copied) — the export then reads as the PDF's table does."""
    from detector.tables import filled_rows
    from detector.tables.values import parse_amount

    grid = filled_rows(table)
    for r, row in enumerate(table.rows):
        if not any(parse_amount(t) is not None and t.strip() for t in grid[r]):
            continue
        for c, cell in enumerate(row):
            # A covered position left empty in a data row (当年支出小计 merged over the value column of its half)
            # would read back as an empty cell, which the table convention counts as 0; the label it continues
            # keeps it what it is in the PDF: no figure.
            if cell.merged and not grid[r][c].strip() and c > 0:
                left = grid[r][c - 1]
                if left.strip() and parse_amount(left) is None:
                    grid[r][c] = left
    return [[_flat(t) for t in row] for row in grid]


def roundtrip_problems(doc: Document, text: str) -> list[str]:
    """Differences between ``doc`` and the export ``text`` read back: paragraph texts and table cells."""
    from detector.ingest.text import parse_text

    back = parse_text(text)
    want_tables = [grid_texts(t) for t in doc.tables]
    got_tables = [[[c.text for c in r] for r in t.rows if not _unit_row(r)] for t in back if isinstance(t, Table)]
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


def _unit_row(row: list[Cell]) -> bool:
    return len(row) == 1 and row[0].text.startswith("单位：")
