"""Amount cells → quantities with their rounding interval.

Why a thin layer over :func:`detector.numbers.parse_number`: a table cell holds one bare figure whose unit and
scale come from the table (单位：万元), not from the cell. A figure written with d decimals stands for ±0.5·10^-d;
an empty cell read as 0 by the table's convention is exact.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from functools import lru_cache

import regex as re

from detector.model import Quantity
from detector.numbers import parse_number
from detector.tables.model import Value


def parse_amount(text: str, unit: str = "", scale: int | None = None) -> Quantity | None:
    """A table cell's figure in the table's unit, or None when the cell is not a bare amount (text, percent,
    code-like label, date)."""
    return _amount(text or "", unit, scale)


def is_amount(text: str) -> bool:
    """Whether a cell holds a bare amount: what layout guessing asks of a cell, which needs no figure made in
    the table's unit."""
    return _bare(text) is not None


_DIGIT = re.compile(r"\d")


def _bare(text: str) -> Quantity | None:
    """The cell's figure as parsed (no unit yet) when it is a bare amount. A cell without a digit is none (a
    bare figure is written in digits): most label cells are turned away before the parser and its cache."""
    if not text or not _DIGIT.search(text):
        return None
    q = parse_number(text)
    return q if q is not None and q.kind == "amount" and not q.unit else None


@lru_cache(maxsize=1 << 16)
def _amount(text: str, unit: str, scale: int | None) -> Quantity | None:
    """Cached: every relation reads the same cells again; a Quantity is frozen, so one per (text, unit, scale)
    serves them all, and the dataclasses.replace is paid once."""
    q = _bare(text)
    return None if q is None else replace(q, unit=unit, scale=Decimal(scale or 1))


@lru_cache(maxsize=256)
def zero(unit: str = "", scale: int | None = None) -> Quantity:
    """The exact zero an empty cell stands for under the empty-is-zero convention (one per unit: frozen)."""
    return Quantity(value=Decimal(0), unit=unit, kind="amount", scale=Decimal(scale or 1), text="", half_ulp=Decimal(0))


def cell_value(text: str, empty_is_zero: bool, zero_marks: list[str], unit: str = "", scale: int | None = None) -> Value | None:
    """The value of an amount cell: its figure, 0 for an empty/dash cell when the convention allows, else None."""
    q = parse_amount(text, unit, scale)
    if q is not None:
        return Value(q, written=True)
    t = "".join((text or "").split())
    if empty_is_zero and t in zero_marks:
        return Value(zero(unit, scale), written=bool(t))
    return None


def decimals_of(q: Quantity) -> int:
    """How many decimals a quantity was written with (0 for an empty cell read as 0)."""
    return _decimals(q.half_ulp)


@lru_cache(maxsize=64)
def _decimals(half_ulp: Decimal) -> int:
    """Cached: a handful of distinct half-units (0.005, 0.05 …) serve every figure of every relation."""
    if half_ulp == 0:
        return 0
    return max(0, -(half_ulp * 2).adjusted())
