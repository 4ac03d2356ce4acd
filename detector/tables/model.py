"""What table understanding produces: a :class:`~detector.model.Table` read as rows, columns and halves.

Why a separate record instead of fields on ``Table``: ingestion stays a faithful copy of the grid, and the
understanding (which is a guess, with a confidence) can be recomputed with other rules without re-reading files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from detector.model import Cell, Quantity, Table


@dataclass
class Column:
    """A value column. ``path`` is the header text from the top header row down to this column (upper merged
    headers included), ``role`` the canonical role from rules/tables.yaml (None when no header word matched)."""

    col: int
    path: tuple[str, ...]
    role: str | None = None
    scope: str | None = None  # gpb / fund / soe / fiscal when the column restricts the money to one source
    total: bool = False  # 合计/小计: the sum of its additive siblings
    additive: bool = True
    period: str = "current"
    measure: str = "unknown"  # budget (预算数) | actual (决算数) | unknown
    concept: str | None = None  # the concept this column holds on the table's total row (基本支出 → basic_expense)

    @property
    def header(self) -> str:
        return self.path[-1] if self.path else ""


@dataclass
class Row:
    """A data row of one half. ``code`` is a subject code (201 / 20137 / 2013701, economic 301 / 30101), ``number``
    the outline marker (一、 （一） 1.) when the row has no code, ``level`` its outline depth (1 = top)."""

    row: int
    label: str
    label_col: int | None
    code: str | None = None
    number: str | None = None
    level: int = 1
    is_total: bool = False
    parent: int | None = None  # index in Half.rows of the outline parent (numbered rows)

    @property
    def name(self) -> str:
        """Code and label as a reader would cite the row: "201 一般公共服务支出"."""
        return f"{self.code} {self.label}".strip() if self.code else self.label


@dataclass
class Half:
    """One logical table inside a grid: the whole grid, or the 收入 or 支出 half of a side-by-side layout."""

    name: str  # "" for a single-half table, else the upper header word (收入 / 支出 …)
    side: str  # income | expense | ""
    columns: list[Column]
    rows: list[Row]
    code_col: int | None = None
    label_col: int | None = None


@dataclass
class UnderstoodTable:
    """A table with its identity, unit, header, halves and data rows. ``confidence`` drops for every guess made
    (no identity, unaligned upper header rows, unknown column roles)."""

    table: Table
    identity: str | None
    name: str | None
    scope: str | None
    side: str
    unit: str | None
    scale: int | None
    empty_is_zero: bool
    header_rows: list[int]
    halves: list[Half]
    total_concept: str | None = None
    grand_concept: str | None = None
    confidence: float = 1.0
    guesses: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.table.title or ""

    def cell(self, row: int, col: int) -> Cell | None:
        r = self.table.rows[row] if 0 <= row < len(self.table.rows) else []
        return r[col] if 0 <= col < len(r) else None

    def text(self, row: int, col: int) -> str:
        c = self.cell(row, col)
        return c.text if c is not None else ""

    def n_data_rows(self) -> int:
        return sum(len(h.rows) for h in self.halves)


@dataclass
class Value:
    """An amount cell read as a quantity: the figure and the interval its digits stand for. ``written`` is False
    for an empty cell read as 0 by the table's convention."""

    quantity: Quantity
    written: bool = True
