"""Interval arithmetic on Decimals: a stated figure stands for every value its rounding allows.

A relation *fails* only when no values inside the stated numbers' intervals satisfy it. The relations we
check (sums, differences, ratios) are monotone in each argument over the positive numbers, so the exact
range of a formula over a box of intervals is reached at the box's corners: :func:`corner_range` evaluates
them, which avoids the over-wide results of naive interval division when a variable appears twice
(growth = change / (current − change)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from itertools import product

from detector.model import Quantity


@dataclass(frozen=True)
class Interval:
    lo: Decimal
    hi: Decimal

    @classmethod
    def of(cls, q: Quantity) -> Interval:
        return cls(q.lo, q.hi)

    @classmethod
    def exact(cls, v: Decimal) -> Interval:
        return cls(v, v)

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.lo - other.hi, self.hi - other.lo)

    def overlaps(self, other: Interval) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi

    def gap(self, other: Interval) -> Decimal:
        """Distance between the intervals (0 when they overlap)."""
        if self.overlaps(other):
            return Decimal(0)
        return other.lo - self.hi if self.hi < other.lo else self.lo - other.hi

    @property
    def mid(self) -> Decimal:
        return (self.lo + self.hi) / 2


def total(intervals: Sequence[Interval]) -> Interval:
    out = Interval(Decimal(0), Decimal(0))
    for i in intervals:
        out = out + i
    return out


def corner_range(f: Callable[..., Decimal], args: Sequence[Interval]) -> Interval | None:
    """Range of ``f`` over the box ``args`` (exact for functions monotone in each argument). None when ``f``
    is undefined at a corner (a zero base)."""
    values = []
    for corner in product(*[(a.lo, a.hi) for a in args]):
        try:
            values.append(f(*corner))
        except (ZeroDivisionError, DivisionByZero, InvalidOperation):
            return None
    return Interval(min(values), max(values))
