"""What table understanding produces: a :class:`~detector.model.Table` read as rows, columns and halves.

Why a separate record instead of fields on ``Table``: ingestion stays a faithful copy of the grid, and the
understanding (which is a guess, with a confidence) can be recomputed with other rules without re-reading files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

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

    @classmethod
    def deferred(cls, table: Table, known: dict[str, Any], read: Callable[[], UnderstoodTable]) -> UnderstoodTable:
        """A table whose ``known`` fields are set and whose other fields ``read`` makes on first use.

        Why: a document's tables that are no standard table (绩效目标表, 机构设置 …) are understood like every
        other, yet the checks only ask for their identity; their header, columns and rows (a third of the time
        understanding a document) are read only if something asks for them — a report, a test — and are then
        exactly what ``read`` makes."""
        ut = cls.__new__(cls)
        ut.__dict__.update(known, table=table, _pending=read)
        return ut

    def __getattr__(self, name: str) -> Any:
        """Only reached for a field not set yet: the fields of a :meth:`deferred` table, read now."""
        read = self.__dict__.get("_pending")
        if read is None or name not in _FIELDS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self._settle(read)
        return self.__dict__[name]

    def _settle(self, read: Callable[[], UnderstoodTable]) -> None:
        full = read()
        del self.__dict__["_pending"]
        for f in _FIELDS:
            self.__dict__.setdefault(f, full.__dict__[f])

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and copied with every field read (the reader of a deferred table is not kept)."""
        read = self.__dict__.get("_pending")
        if read is not None:
            self._settle(read)
        return self.__dict__

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


_FIELDS = tuple(f.name for f in fields(UnderstoodTable))


@dataclass
class Value:
    """An amount cell read as a quantity: the figure and the interval its digits stand for. ``written`` is False
    for an empty cell read as 0 by the table's convention."""

    quantity: Quantity
    written: bool = True
