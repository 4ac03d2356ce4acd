"""Interval arithmetic on written figures.

Why intervals: 805.51 written with two decimals stands for any value in [805.505, 805.515]. A relation fails
only when no choice of values inside every figure's interval satisfies it, so rounding never raises an alarm.
All comparisons are in base units (元), so figures from a 万元 table and a 元 table compare directly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from detector.model import Quantity


class Verdict(NamedTuple):
    """A relation's verdict. A named tuple, not a frozen dataclass: one is made per relation checked, and a frozen
    dataclass sets each field through object.__setattr__ (half the cost of the arithmetic)."""

    holds: bool
    stated: Decimal  # base units
    expected: Decimal  # base units: Σ parts (or the other figure)
    tolerance: Decimal  # base units: Σ half-units
    margin: float  # how far outside the tolerance, in units of the stated figure's last digit (0 when it holds)


def sum_relation(stated: Quantity, parts: list[Quantity]) -> Verdict:
    """stated = Σ parts, within the rounding intervals of all figures."""
    expected = half_widths = Decimal(0)
    # one pass, the same Decimal operations in the same order as Σ p.base and Σ (p.hi − p.lo) / 2, written out
    # from the fields (base = value·scale, hi/lo = (value ± half_ulp)·scale) without three property calls a figure
    for p in parts:
        v, h, s = p.value, p.half_ulp, p.scale
        expected += v * s
        half_widths += ((v + h) * s - (v - h) * s) / 2
    v, h, s = stated.value, stated.half_ulp, stated.scale
    base = v * s
    width = (v + h) * s - (v - h) * s
    tol = width / 2 + half_widths
    diff = abs(base - expected)
    holds = diff <= tol
    unit = width or Decimal(s)
    margin = 0.0 if holds else float((diff - tol) / unit)
    return Verdict(holds, base, expected, tol, margin)


def equal_relation(a: Quantity, b: Quantity) -> Verdict:
    """a = b: their rounding intervals overlap."""
    return sum_relation(a, [b])
