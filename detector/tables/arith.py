"""Interval arithmetic on written figures.

Why intervals: 805.51 written with two decimals stands for any value in [805.505, 805.515]. A relation fails
only when no choice of values inside every figure's interval satisfies it, so rounding never raises an alarm.
All comparisons are in base units (元), so figures from a 万元 table and a 元 table compare directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from detector.model import Quantity


@dataclass(frozen=True)
class Verdict:
    holds: bool
    stated: Decimal  # base units
    expected: Decimal  # base units: Σ parts (or the other figure)
    tolerance: Decimal  # base units: Σ half-units
    margin: float  # how far outside the tolerance, in units of the stated figure's last digit (0 when it holds)


def sum_relation(stated: Quantity, parts: list[Quantity]) -> Verdict:
    """stated = Σ parts, within the rounding intervals of all figures."""
    expected = half_widths = Decimal(0)
    for p in parts:  # one pass, the same sums in the same order as Σ p.base and Σ (p.hi − p.lo) / 2
        expected += p.base
        half_widths += (p.hi - p.lo) / 2
    tol = (stated.hi - stated.lo) / 2 + half_widths
    diff = abs(stated.base - expected)
    holds = diff <= tol
    unit = (stated.hi - stated.lo) or Decimal(stated.scale)
    margin = 0.0 if holds else float((diff - tol) / unit)
    return Verdict(holds, stated.base, expected, tol, margin)


def equal_relation(a: Quantity, b: Quantity) -> Verdict:
    """a = b: their rounding intervals overlap."""
    return sum_relation(a, [b])
