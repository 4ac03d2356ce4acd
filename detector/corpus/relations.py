"""Passed relations of the detector's ledger, located in a document's text, and an independent interval test
of whether a changed number still fits them.

Why independent: error injection must decide whether a planted slip is *detectable by a careful reader*
without asking the detector whether it detects it (that would make the measured recall 100% by construction).
The detector is used only as an oracle of *relations*: its ledger says which numbers are tied together by a
relation that held in the original. Whether a changed number breaks that relation is decided here, with our own
interval arithmetic on the numbers as written:

- linear relations (sums, balances, equal figures, differences) — whatever the signs of the terms, changing
  one term by Δ moves the residual by |Δ|; the original residual is at most Σh (h: half a unit of each number's
  last digit), so the relation is certainly broken when |Δ| > Σh + Σh' (h' after the change); we ask for twice
  that (``WIDEN``), so that a hair-width miss is never planted as a defect;
- ratio relations (shares, completion rates, growth rates) — the roles are not assumed: every form
  p = a/b, a/(b−a), a/(a+b) or (a−b)/b over the relation's amounts that held in the original is a candidate, and the
  relation is broken only when none of the candidates still holds after the change, with every interval doubled;
- parts_exceed_total (Σ parts ≤ total for 主要包括 listings) — broken when the parts' lower bound exceeds the
  total's upper bound (the total being the largest member, as it must be in a relation that held).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import permutations

import regex as re

from detector.ingest.text import parse_text
from detector.interval import Interval, corner_range
from detector.model import Outcome, Paragraph, Table
from detector.numbers import MONEY_SCALE, half_ulp, parse_quantities, to_decimal

LINEAR = {"sum_mismatch", "value_conflict", "table_sum_mismatch", "table_balance", "cross_table_mismatch",
          "change_mismatch"}
RATIO = {"share_mismatch", "rate_mismatch", "growth_mismatch"}
INEQUALITY = {"parts_exceed_total"}
SUPPORTED = LINEAR | RATIO | INEQUALITY
HAN = re.compile(r"\p{Han}")
# A slip must break its relation even with every rounding interval doubled: a figure off by a hair beyond
# rounding is what gold calls `rounding` (a tool may note it, need not flag it), not a defect to be found.
WIDEN = Decimal(2)


@dataclass
class Member:
    """One number of a relation, where it is written in the document text (``start``/``end`` of the digits),
    with its unit. ``context`` is the span a quote may use: the sentence (narrative) or the row up to the cell."""

    written: str
    unit: str
    scale: Decimal
    start: int | None = None
    end: int | None = None
    context: tuple[int, int] | None = None
    cell: tuple[int, int, int] | None = None  # (table block, row, col)

    @property
    def value(self) -> Decimal:
        return to_decimal(self.written) or Decimal(0)

    @property
    def is_percent(self) -> bool:
        return self.unit in ("%", "‰")

    def interval(self, written: str | None = None, widen: Decimal = Decimal(1)) -> Interval:
        w = written if written is not None else self.written
        v, h = to_decimal(w) or Decimal(0), half_ulp(w.replace(",", "")) * widen
        return Interval((v - h) * self.scale, (v + h) * self.scale)

    @property
    def key(self) -> tuple[int, int] | None:
        return (self.start, self.end) if self.start is not None and self.end is not None else None


@dataclass
class Relation:
    rule: str
    kind: str
    formula: str
    members: list[Member] = field(default_factory=list)

    def located(self) -> list[Member]:
        return [m for m in self.members if m.key is not None]


# -------------------------------------------------------------------------------------------- text layout


@dataclass
class TextLayout:
    """Where each paragraph and each table cell of a cell-per-line text sits, by block index, mirroring the
    text reader's block numbering (checked against it)."""

    text: str
    paragraphs: dict[int, tuple[int, str]]  # block → (offset, text)
    cells: dict[tuple[int, int, int], tuple[int, int]]  # (block, row, col) → (start, end) of the cell text
    units: dict[int, str | None]

    @classmethod
    def of(cls, text: str) -> TextLayout:
        blocks = parse_text(text)
        paragraphs = {b.index: (b.offset, b.text) for b in blocks if isinstance(b, Paragraph)}
        tables = [b for b in blocks if isinstance(b, Table)]
        units = {t.index: t.unit for t in tables}
        # Every line that starts with a tab is a cell, in reading order: the k-th such line is the k-th cell of
        # the tables read row by row, table by table.
        spans = _tab_line_spans(text)
        flat = [(t.index, r, c, cell.text) for t in tables for r, row in enumerate(t.rows) for c, cell in enumerate(row)]
        if len(spans) != len(flat):
            raise ValueError("cell lines out of step with the text reader")
        cells: dict[tuple[int, int, int], tuple[int, int]] = {}
        for (s, e), (b, r, c, cell_text) in zip(spans, flat, strict=True):
            if text[s:e] != cell_text:
                raise ValueError("cell text out of step with the text reader")
            cells[(b, r, c)] = (s, e)
        return cls(text, paragraphs, cells, units)


def _tab_line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the stripped text of every tab-led line."""
    spans = []
    offset = 0
    for line in text.split("\n"):
        if line.startswith("\t"):
            body = line[1:]
            s = offset + 1 + len(body) - len(body.lstrip())
            spans.append((s, s + len(body.strip())))
        offset += len(line) + 1
    return spans


# ------------------------------------------------------------------------------------------- locating


def locate(outcome: Outcome, layout: TextLayout, default_unit: str = "万元") -> Relation:
    """The outcome's numbers as members located in the text. A number found zero or several times in its
    evidence item keeps ``start=None``: it still counts in the relation but cannot be perturbed."""
    rel = Relation(outcome.rule, outcome.kind, outcome.formula)
    for ev in outcome.evidence:
        if ev.cell is not None:
            member = _cell_member(ev.block, tuple(ev.cell), layout, default_unit)
            if member is not None:
                rel.members.append(member)
            continue
        rel.members.extend(_narrative_members(ev, layout))
    return rel


def _cell_member(block: int, cell: tuple, layout: TextLayout, default_unit: str) -> Member | None:
    span = layout.cells.get((block, int(cell[0]), int(cell[1])))
    if span is None:
        return None
    written = layout.text[span[0]:span[1]]
    if to_decimal(written) is None:
        return None
    unit = layout.units.get(block) or default_unit
    scale = MONEY_SCALE.get(unit, Decimal(1))
    row, col = int(cell[0]), int(cell[1])
    label_start = span[0]
    for c in range(col - 1, -1, -1):  # the nearest label to the left names the cell (two-half tables too)
        left = layout.cells.get((block, row, c))
        if left and len(HAN.findall(layout.text[left[0]:left[1]])) >= 2:
            label_start = left[0]
            break
    return Member(written, unit, scale, span[0], span[1], (label_start, span[1]), (block, row, col))


def _narrative_members(ev, layout: TextLayout) -> list[Member]:  # noqa: ANN001 — an Evidence
    para = layout.paragraphs.get(ev.block)
    if para is None:
        return []
    offset, ptext = para
    sent_text = ev.text.strip()
    pos = ptext.find(sent_text) if sent_text else -1
    if pos < 0:
        pos, sent_text = 0, ptext
    quantities = parse_quantities(sent_text)
    members = []
    for written in ev.values:
        value = to_decimal(_digits(written))
        if value is None:
            continue
        hits = [q for q in quantities if q.value == value]
        if len(hits) == 1:
            q = hits[0]
            num = _digits(q.text)
            s = offset + pos + q.start + q.text.find(num)
            members.append(Member(num, q.unit, q.scale, s, s + len(num), (offset + pos, offset + pos + len(sent_text))))
        elif hits:
            q = hits[0]
            members.append(Member(_digits(q.text), q.unit, q.scale))
    return members


def _digits(written: str) -> str:
    """The number part of a figure as written: '1,226.42万元' → '1,226.42'."""
    out = []
    for ch in written.strip():
        if ch.isdigit() or ch in ",.-":
            out.append(ch)
        elif out:
            break
    return "".join(out).strip(",.")


# --------------------------------------------------------------------------------------------- oracle


def broken(rel: Relation, member: Member, new_written: str) -> bool:
    """True when the relation, which held with the original numbers, certainly fails once ``member`` reads
    ``new_written`` and every other member keeps its value (see the module docstring)."""
    if rel.kind in LINEAR:
        return _linear_broken(rel, member, new_written)
    if rel.kind in RATIO:
        return _ratio_broken(rel, member, new_written)
    if rel.kind in INEQUALITY:
        return _inequality_broken(rel, member, new_written)
    return False


def _half(iv: Interval) -> Decimal:
    return (iv.hi - iv.lo) / 2


def _linear_broken(rel: Relation, member: Member, new_written: str) -> bool:
    old_slack = sum((_half(m.interval()) for m in rel.members), Decimal(0))
    new_slack = old_slack - _half(member.interval()) + _half(member.interval(new_written))
    delta = abs(member.interval(new_written).mid - member.interval().mid)
    return delta > WIDEN * (old_slack + new_slack)


def _ratio_forms(amounts: list[Interval]):  # noqa: ANN202 — yields (name, a, b, function)
    for i, j in permutations(range(len(amounts)), 2):
        yield ("a/b", i, j, lambda a, b: a / b * 100)
        yield ("a/(b-a)", i, j, lambda a, b: a / (b - a) * 100)
        yield ("a/(a+b)", i, j, lambda a, b: a / (a + b) * 100)
        yield ("(a-b)/b", i, j, lambda a, b: (a - b) / b * 100)


def _holding_forms(members: list[Member], override: dict[int, str],
                   widen: Decimal = Decimal(1)) -> set[tuple[str, int, int, int]]:
    amounts = [(k, m) for k, m in enumerate(members) if not m.is_percent]
    percents = [(k, m) for k, m in enumerate(members) if m.is_percent]
    ivs = [m.interval(override.get(k), widen) for k, m in amounts]
    held = set()
    for name, i, j, f in _ratio_forms(ivs):
        rng = corner_range(f, [ivs[i], ivs[j]])
        if rng is None:
            continue
        absr = Interval(min(abs(rng.lo), abs(rng.hi)) if rng.lo * rng.hi > 0 else Decimal(0),
                        max(abs(rng.lo), abs(rng.hi)))
        for pk, p in percents:
            if absr.overlaps(p.interval(override.get(pk), widen)):
                held.add((name, i, j, pk))
    return held


def _ratio_broken(rel: Relation, member: Member, new_written: str) -> bool:
    k = rel.members.index(member)
    before = _holding_forms(rel.members, {})
    if not before:
        return False  # the relation involves numbers we cannot see: we cannot certify anything
    after = _holding_forms(rel.members, {k: new_written}, WIDEN)
    return not (before & after)


def _inequality_broken(rel: Relation, member: Member, new_written: str) -> bool:
    k = rel.members.index(member)
    ivs = [m.interval(new_written if i == k else None, WIDEN) for i, m in enumerate(rel.members)]
    orig = [m.interval() for m in rel.members]
    t = max(range(len(orig)), key=lambda i: orig[i].mid)
    parts_lo = sum((iv.lo for i, iv in enumerate(ivs) if i != t), Decimal(0))
    return parts_lo > ivs[t].hi
