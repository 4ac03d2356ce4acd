"""Table understanding: a :class:`~detector.model.Table` grid → an :class:`UnderstoodTable`.

The table's identity among the standard 预算/决算 tables comes from its title (rules/tables.yaml), its unit from
the ingested unit or a preamble cell, its header from :mod:`detector.tables.layout`, and its rows from
:mod:`detector.tables.rows`. Every guess lowers the confidence that checks attach to their outcomes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from detector.model import Document, Table
from detector.rules import Rules
from detector.tables.layout import normed_rows, read_layout
from detector.tables.model import Column, Half, Row, UnderstoodTable, Value
from detector.tables.rows import code_of, is_total_label, outline, split_label
from detector.tables.values import cell_value, is_amount
from detector.tables.vocab import RoleSpec, TableSpec, Vocab, norm, vocab

SIDE_WORDS = {"收入": "income", "支出": "expense"}


def understand(table: Table, rules: Rules) -> UnderstoodTable:
    """Read one table: identity, unit, header, columns (with roles), halves and data rows. A table that is no
    standard table has its identity at once and the rest when first asked for (:meth:`UnderstoodTable.deferred`:
    the checks only ask which tables are standard)."""
    v = vocab(rules)
    spec = v.identify(table.title or "")
    if spec is None:
        return UnderstoodTable.deferred(table, _identity_fields(None), lambda: _understand(table, v, None))
    return _understand(table, v, spec)


def _identity_fields(spec: TableSpec | None) -> dict[str, Any]:
    """The fields a table's identity alone sets (all of them known before its layout is read)."""
    return {
        "identity": spec.id if spec else None,
        "name": spec.name if spec else None,
        "scope": spec.scope if spec else None,
        "side": spec.side if spec else "",
        "empty_is_zero": spec.empty_is_zero if spec else False,
        "total_concept": spec.total_concept if spec else None,
        "grand_concept": spec.grand_concept if spec else None,
    }


def _understand(table: Table, v: Vocab, spec: TableSpec | None) -> UnderstoodTable:
    rows = filled_rows(table)
    normed = normed_rows(rows)
    n_cols = table.n_cols
    lay = read_layout(rows, n_cols, v, normed)
    guesses = list(lay.guesses)
    unit = table.unit or _unit(rows, lay.preamble, table.title or "", v)
    halves = _halves(rows, normed, lay, v, spec.side if spec else "")
    if spec is None:
        guesses.append("not a standard table")
    if unit is None:
        guesses.append("no unit")
    for h in halves:
        unknown = [c for c in h.columns if c.role is None]
        if unknown:
            guesses.append(f"columns without a known role: {', '.join('/'.join(c.path) or str(c.col) for c in unknown)}")
    confidence = max(0.3, 1.0 - 0.15 * len(guesses))
    return UnderstoodTable(
        table=table,
        **_identity_fields(spec),
        unit=unit,
        scale=v.unit_scale(unit),
        header_rows=lay.header,
        halves=halves,
        confidence=confidence,
        guesses=guesses,
    )


def understand_document(doc: Document, rules: Rules) -> list[UnderstoodTable]:
    return [understand(t, rules) for t in doc.tables]


def standard_tables(doc: Document, rules: Rules) -> list[dict]:
    """Per standard table found: identity, name, title, block, page and data-row count (a coverage listing)."""
    out = []
    for ut in understand_document(doc, rules):
        if ut.identity is None:
            continue
        out.append(
            {
                "identity": ut.identity,
                "name": ut.name,
                "title": ut.title,
                "block": ut.table.index,
                "page": ut.table.page,
                "rows": ut.n_data_rows(),
                "unit": ut.unit,
                "confidence": round(ut.confidence, 2),
            }
        )
    return out


def value_at(ut: UnderstoodTable, row: int, col: int, v: Vocab) -> Value | None:
    """The amount in a cell, with the table's empty-is-zero convention applied (None for no amount)."""
    cell = ut.cell(row, col)
    if cell is not None and cell.merged and not cell.text.strip():
        return None  # covered by a merged cell: its figure (if any) is counted where the merge starts
    return cell_value(cell.text if cell is not None else "", ut.empty_is_zero, v.words("zero_marks"), ut.unit or "", ut.scale)


# --------------------------------------------------------------------------------------------- internals


def filled_rows(table: Table) -> list[list[str]]:
    """The grid's texts with merged-cell text copied into the positions it covers.

    Readers that expand merged cells leave covered positions empty (``merged=True``). A covered cell continues
    the cell above when the row above changes there (its text differs from its left neighbour's: a vertical
    merge such as 会议费 over three header rows), else the cell on its left (a horizontal merge such as
    “三公”经费 over five columns). Figures are never copied: a merged amount counts once."""
    grid = [[c.text for c in r] for r in table.rows]
    covered = [(r, c) for r, row in enumerate(table.rows) for c, cell in enumerate(row)
               if cell.merged and not cell.text.strip()]  # in grid order, as each copy reads the ones before
    for r, c in covered:
        above = grid[r - 1][c] if r > 0 and c < len(grid[r - 1]) else None
        above_left = grid[r - 1][c - 1] if r > 0 and 0 < c <= len(grid[r - 1]) else None
        left = grid[r][c - 1] if c > 0 else None
        vertical = left is None or (above is not None and above != above_left)
        text = above if vertical else left
        if text and not is_amount(text):
            grid[r][c] = text
    return grid



def _unit(rows: list[list[str]], preamble: list[int], title: str, v: Vocab) -> str | None:
    for text in [title, *("".join(rows[r]) for r in preamble)]:
        m = v.unit_re.search(norm(text))
        if m:
            return m.group(1)
    return None


def _halves(rows: list[list[str]], normed: list[list[str]], lay, v: Vocab, table_side: str) -> list[Half]:
    kinds = lay.kinds
    labels = [c for c, k in enumerate(kinds) if k == "label"]
    starts: list[int] = []
    for c in labels:
        # a label column after value columns starts a new half (收入 | 支出 side by side)
        if not starts or any(kinds[x] == "value" for x in range(starts[-1], c)):
            start = c - 1 if c > 0 and kinds[c - 1] == "code" else c
            starts.append(start)
    if not starts:
        starts = [0]
    starts[0] = 0
    bounds = list(zip(starts, [*starts[1:], len(kinds)], strict=False))
    halves = []
    for a, b in bounds:
        cols = range(a, b)
        top = [lay.paths[c][0] for c in cols if lay.paths[c]]  # in column order: the first side word names it
        name = next((t for t in top if t in SIDE_WORDS), "") if len(bounds) > 1 else ""
        side = SIDE_WORDS.get(name, "" if table_side == "both" else table_side)
        columns = [_column(c, lay.paths[c], v) for c in cols if kinds[c] == "value"]
        code_col = next((c for c in cols if kinds[c] == "code"), None)
        label_col = next((c for c in cols if kinds[c] == "label"), None)
        half = Half(name=name, side=side, columns=columns, rows=[], code_col=code_col, label_col=label_col)
        half.rows = _rows(rows, normed, lay.data_start, half, v)
        halves.append(half)
    return halves


def _column(col: int, path: tuple[str, ...], v: Vocab) -> Column:
    spec, non_add = _column_role(path, v)
    if spec is None:
        return Column(col=col, path=path, additive=not non_add)
    return Column(
        col=col,
        path=path,
        role=spec.role,
        scope=spec.scope,
        total=spec.total,
        additive=spec.additive and not non_add,
        period=spec.period,
        concept=spec.concept,
        measure=spec.measure,
    )


@lru_cache(maxsize=1 << 14)
def _column_role(path: tuple[str, ...], v: Vocab) -> tuple[RoleSpec | None, bool]:
    """The role a column's header path names, and whether a non-additive word is left in the path. Cached: the
    same headers recur in every table of a document, and across documents."""
    head = path[-1] if path else ""
    spec = v.role_of(head)
    joined = "".join(path)
    if spec is not None:
        for w in spec.words:
            joined = joined.replace(norm(w), "")
    return spec, v.contains_any("non_additive_words", joined)


def _rows(rows: list[list[str]], normed: list[list[str]], start: int, half: Half, v: Vocab) -> list[Row]:
    """The half's data rows from ``start`` (``normed``: the rows' texts normalised)."""
    out: list[Row] = []
    label_col, code_col = half.label_col, half.code_col
    for r in range(start, len(rows)):
        cells, n = rows[r], len(rows[r])
        has_label = label_col is not None and label_col < n
        raw = cells[label_col] if has_label else ""
        has_code = code_col is not None and code_col < n
        code = code_of(cells[code_col]) if has_code else None
        if has_code and code is None and not (has_label and normed[r][label_col]):
            raw = cells[code_col]  # a 合计 label merged across the code and name columns
        inline, label = split_label(raw)
        code = code or inline
        if not code and not norm(label) and not any(c.col < n and normed[r][c.col] for c in half.columns):
            continue  # no label, no code, no figure
        row = Row(row=r, label=" ".join(label.split()), label_col=half.label_col, code=code)
        row.is_total = not code and (is_total_label(label, v) or (not norm(label) and half.label_col is None))
        if code:
            row.level = {3: 1, 5: 2, 7: 3}[len(code)]
        out.append(row)
    outline(out, v)
    return out


__all__ = ["understand", "understand_document", "standard_tables", "value_at", "UnderstoodTable", "Column", "Half", "Row"]
