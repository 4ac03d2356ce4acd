"""Table checks: sums inside a table and the same figure across tables.

Inside a table (per half, per amount column): a 合计 row = Σ top-level rows (``table.total``), a 类 = Σ its 款 and
a 款 = Σ its 项, a numbered item = Σ its sub-items (``table.hierarchy``); per row, a 合计/小计 column = Σ its
sibling columns (``table.columns``); in a 收支总表, 收入总计 = 支出总计 (``table.balance``). Across tables, a
figure keyed by (scope of funds, side, subject code or concept, column concept, period) must agree wherever it
appears (``table.cross``). Every relation becomes an Outcome, passes included.

Why relations fail so rarely here: every figure is an interval (see :mod:`detector.tables.arith`); a relation
whose structure rests on a guess (unknown column role, unaligned header) cannot fail, it is ``unverifiable``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from detector.model import Document, Evidence, Outcome, Quantity
from detector.numbers import fmt
from detector.rules import Rules
from detector.tables import understand_document, value_at
from detector.tables.arith import Verdict, equal_relation, sum_relation
from detector.tables.model import Column, Half, Row, UnderstoodTable, Value
from detector.tables.rows import strip_marker
from detector.tables.values import decimals_of
from detector.tables.vocab import memo_on, vocab

SURE = 0.85  # table confidence from which a failed relation is an error, not a warning
_MISSING = object()  # not made yet (None is a made answer: no amount)


def run(doc: Document, rules: Rules, understood: list | None = None,
        index: dict[tuple, list[Fact]] | None = None) -> list[Outcome]:
    """All table relations of one document, in document order: within tables first, then across tables.
    ``index``: the :func:`facts` of exactly these tables (the understood tables with an identity), when the
    caller has it already."""
    understood = understood if understood is not None else understand_document(doc, rules)
    tables = [t for t in understood if t.identity is not None]
    out: list[Outcome] = []
    for ut in tables:
        out += check_table(ut, rules)
    out += check_across(tables, rules, index)
    return out


def check_table(ut: UnderstoodTable, rules: Rules) -> list[Outcome]:
    """The relations inside one understood table."""
    cells = cells_of(ut, rules)
    out: list[Outcome] = []
    for half in ut.halves:
        below, above = _hierarchy_sums(half.rows), _total_sums(half.rows)  # the same rows in every column
        for col in half.columns:
            out += _row_sums(cells, "table.hierarchy", below, col)
            out += _row_sums(cells, "table.total", above, col)
        out += _columns(cells, half)
    out += _balance(cells)
    return out


# ----------------------------------------------------------------------------------------------- helpers


@dataclass
class Term:
    """One cell in a relation: the row (for its name), the column, and its value."""

    row: Row
    col: int
    value: Value
    name: str


class Cells:
    """One table's amount cells as relation terms, for one vocabulary. Each cell is read once and each term
    made once per row, column and name: a cell takes part in several relations (a 款 is a part of its 类 and
    the total of its 项; facts key it again), and neither a Value nor a Term is changed after it is made."""

    def __init__(self, ut: UnderstoodTable, rules: Rules) -> None:
        self.ut = ut
        self.vocab = vocab(rules)
        self.values: dict[tuple[int, int], Value | None] = {}
        self.terms: dict[tuple[int, int, str], Term | None] = {}

    def term(self, row: Row, col: int, name: str = "") -> Term | None:
        """The cell of ``row`` in column ``col`` as a term named ``name`` (else after its row), None when it
        holds no amount."""
        key = (id(row), col, name)  # a row lives as long as its table, and so do these terms
        made = self.terms.get(key, _MISSING)  # one lookup when made (a cell is asked for again and again)
        if made is _MISSING:
            at = (row.row, col)
            v = self.values.get(at, _MISSING)
            if v is _MISSING:
                v = self.values[at] = value_at(self.ut, row.row, col, self.vocab)
            made = self.terms[key] = None if v is None else Term(row, col, v, name or row.code
                                                                 or strip_marker(row.label) or f"第{row.row + 1}行")
        return made


def cells_of(ut: UnderstoodTable, rules: Rules) -> Cells:
    """The table's :class:`Cells` for the vocabulary of ``rules``, made once (facts and checks share it)."""
    made = memo_on(ut, "_cells")
    key = id(vocab(rules))
    if key not in made:
        made[key] = Cells(ut, rules)
    return made[key]


def cell_name(ut: UnderstoodTable, term: Term) -> str:
    """How a reader cites a cell: its row's code and label, or its column's header path where the row has no
    name (the one row of a 三公 table: “三公”经费/小计)."""
    if term.row.name:
        return term.row.name
    col = next((c for h in ut.halves for c in h.columns if c.col == term.col), None)
    return "/".join(col.path) if col is not None else ""


def cell_evidence(ut: UnderstoodTable, term: Term) -> Evidence:
    """The cell of a term as evidence. Made once per row and column and shared by every outcome that cites
    the cell (an Evidence is never changed after it is made)."""
    made = memo_on(ut, "_evidence")
    key = (id(term.row), term.col)  # a row lives as long as its table, and its name with it
    evidence = made.get(key)
    if evidence is None:
        evidence = made[key] = _cell_evidence(ut, term)
    return evidence


def _cell_evidence(ut: UnderstoodTable, term: Term) -> Evidence:
    cell = ut.cell(term.row.row, term.col)
    text = cell.text if cell is not None else ""
    label = f"{cell_name(ut, term)} {text}".strip()
    return Evidence(
        text=label,
        block=ut.table.index,
        page=cell.page if cell is not None and cell.page is not None else ut.table.page,
        table=ut.title,
        cell=(term.row.row, term.col),
        file=ut.table.file,
        values=[text] if text.strip() else [],
    )


def _shown(q: Quantity) -> str:
    return q.text if q.text else "0"


def _relation(
    ut: UnderstoodTable,
    rule: str,
    kind: str,
    total: Term,
    parts: list[Term],
    guessed: str = "",
    what: str = "",
) -> Outcome | None:
    """total = Σ parts as an Outcome; None when nothing in it is written (an all-empty relation says nothing)."""
    if not total.value.written and not any(p.value.written for p in parts):
        return None
    verdict = sum_relation(total.value.quantity, [p.value.quantity for p in parts])
    return _outcome(ut, rule, kind, total, parts, verdict, guessed, what)


def _outcome(
    ut: UnderstoodTable,
    rule: str,
    kind: str,
    total: Term,
    parts: list[Term],
    verdict: Verdict,
    guessed: str,
    what: str,
    other: UnderstoodTable | None = None,
) -> Outcome:
    qs = [p.value.quantity for p in parts]
    dec = max(map(decimals_of, [total.value.quantity, *qs]))
    scale = total.value.quantity.scale
    expected = fmt(verdict.expected / scale, dec)
    shown = [p for p in parts if p.value.written] or parts[:1]
    if len(parts) == 1 and other is not None:
        formula = f"{total.name} {_shown(total.value.quantity)} = {parts[0].name} {_shown(qs[0])}"
    else:
        names = " + ".join(p.name for p in shown)
        vals = " + ".join(_shown(p.value.quantity) for p in shown)
        more = " + …（其余为空，按 0 计）" if len(shown) < len(parts) else ""
        formula = f"{total.name} = {names}{more}: {vals} = {expected}"
    if what:
        formula = f"{what}: {formula}"
    conf = min(ut.confidence, other.confidence) if other is not None else ut.confidence
    status = "pass" if verdict.holds else ("unverifiable" if guessed else "fail")
    reason = ""
    if not verdict.holds:
        where = f"{ut.title}" + (f" / {other.title}" if other is not None else "")
        reason = f"{where}：{formula}，表中为 {_shown(total.value.quantity)}"
        if guessed:
            reason = f"{reason}（表结构为推测：{guessed}，不下结论）"
    cited = other or ut
    evidence = [cell_evidence(ut, total), *[cell_evidence(cited, p) for p in shown if p.value.written]]
    return Outcome(
        rule=rule,
        kind=kind,
        status=status,
        formula=formula,
        evidence=evidence,
        stated=total.value.quantity.text or "0",
        expected=expected,
        reason=reason,
        severity="error" if conf >= SURE else "warning",
        confidence=round(conf, 2),
        margin=verdict.margin,
    )


# ------------------------------------------------------------------------------------------ in one table


def _hierarchy_sums(rows: list[Row]) -> list[tuple[Row, list[Row]]]:
    """类 = Σ 款, 款 = Σ 项 by code prefix; a numbered item = Σ its numbered sub-items: (parent, kids) pairs."""
    children: dict[int, list[Row]] = {}
    for r in rows:
        if r.parent is not None and not r.code:
            children.setdefault(r.parent, []).append(r)
    out: list[tuple[Row, list[Row]]] = []
    for i, parent in enumerate(rows):
        kids: list[Row] = []
        if parent.code:
            below = []
            for r in rows[i + 1 :]:
                if not r.code or not r.code.startswith(parent.code) or r.code == parent.code:
                    break
                below.append(r)
            if below:
                depth = min(len(r.code or "") for r in below)
                kids = [r for r in below if len(r.code or "") == depth]
        else:
            kids = children.get(i, [])
        if kids:
            out.append((parent, kids))
    return out


def _total_sums(rows: list[Row]) -> list[tuple[Row, list[Row]]]:
    """A total row = Σ top-level rows above it (coded tables: the shortest codes; else since the last total,
    the last total included): (total, parts) pairs."""
    coded = [r for r in rows if r.code]
    if coded:
        top = min(len(r.code or "") for r in coded)
        tops = [r for r in coded if len(r.code or "") == top]
        # one 合计 row in a coded table; later totals are not over the same rows
        return [(r, tops) for r in rows if r.is_total][:1]
    out: list[tuple[Row, list[Row]]] = []
    prev: Row | None = None
    block: list[Row] = []
    for r in rows:
        if r.is_total:
            parts = ([prev] if prev else []) + block
            if parts:
                out.append((r, parts))
            prev, block = r, []
        elif r.level == 1 and r.number != "其中":
            block.append(r)
    return out


def _row_sums(cells: Cells, rule: str, sums: list[tuple[Row, list[Row]]], col: Column) -> list[Outcome]:
    """Each (total, parts) of rows as a sum in one column; skipped where a cell holds no amount."""
    out: list[Outcome] = []
    what = _col_name(col)
    for total_row, part_rows in sums:
        total = cells.term(total_row, col.col)
        parts = [cells.term(r, col.col) for r in part_rows]
        if total is None or any(p is None for p in parts):
            continue
        o = _relation(cells.ut, rule, "table_sum_mismatch", total, parts, what=what)  # type: ignore[arg-type]
        if o:
            out.append(o)
    return out


def _col_name(col: Column) -> str:
    return "/".join(col.path) if col.path else f"第{col.col + 1}列"


def _columns(cells: Cells, half: Half) -> list[Outcome]:
    """Per row: a 合计/小计 column = Σ its sibling columns under the same upper header; a sibling group with
    its own 小计 counts by that 小计."""
    groups = _column_groups(half.columns)
    out: list[Outcome] = []
    title = cells.ut.title
    for _prefix, (total_col, members, guessed) in groups.items():
        total_at, total_name = total_col.col, total_col.header
        named = [(c.col, c.header) for c in members]
        for row in half.rows:
            total = cells.term(row, total_at, total_name)
            parts = [cells.term(row, col, name) for col, name in named]
            if total is None or any(p is None for p in parts):
                continue
            what = f"{row.name}（{title}）"
            o = _relation(cells.ut, "table.columns", "table_sum_mismatch", total, parts, guessed, what)  # type: ignore[arg-type]
            if o:
                out.append(o)
    return out


def _column_groups(columns: list[Column]) -> dict[tuple[str, ...], tuple[Column, list[Column], str]]:
    """For each header prefix: its total column, the columns (or sub-group totals) that add up to it, and
    why the grouping is a guess ("" when every member has a known additive role)."""
    by_prefix: dict[tuple[str, ...], list[Column]] = defaultdict(list)
    for c in columns:
        for k in range(len(c.path)):
            by_prefix[c.path[:k]].append(c)
    groups = {}
    for prefix, cols in by_prefix.items():
        depth = len(prefix)
        leaves = [c for c in cols if len(c.path) == depth + 1]
        totals = [c for c in leaves if c.total and c.additive]
        if len(totals) != 1:
            continue
        members: list[Column] = []
        guessed: list[str] = []
        subgroups: dict[str, list[Column]] = defaultdict(list)
        for c in cols:
            if c is totals[0]:
                continue
            if len(c.path) == depth + 1:
                if c.total:
                    members = []
                    guessed = ["两个合计列"]
                    break
                if not c.additive:
                    continue
                if c.role is None:
                    guessed.append(c.header)
                members.append(c)
            else:
                subgroups[c.path[depth]].append(c)
        else:
            for name, sub in subgroups.items():
                sub_totals = [c for c in sub if len(c.path) == depth + 2 and c.total]
                if len(sub_totals) == 1:
                    members.append(sub_totals[0])
                else:
                    guessed.append(f"{name}（无小计列）")
                    members = []
                    break
        if members:
            groups[prefix] = (totals[0], members, "、".join(guessed))
    return groups


def _balance(cells: Cells) -> list[Outcome]:
    """收入总计 = 支出总计 in a table with income and expense side by side (the last total row of each half)."""
    ut = cells.ut
    if ut.side != "both":
        return []
    inc = [h for h in ut.halves if h.side == "income"]
    exp = [h for h in ut.halves if h.side == "expense"]
    if len(inc) != 1 or not exp:
        return []
    out = []
    a_row = next((r for r in reversed(inc[0].rows) if r.is_total), None)
    if a_row is None or not inc[0].columns:
        return []
    a = cells.term(a_row, inc[0].columns[0].col)
    for h in exp:
        b_row = next((r for r in reversed(h.rows) if r.is_total), None)
        cols = [c for c in h.columns if c.total] or h.columns
        if b_row is None or not cols or a is None:
            continue
        b = cells.term(b_row, cols[0].col)
        if b is None:
            continue
        o = _relation(ut, "table.balance", "table_balance", a, [b], what="收支平衡")
        if o:
            out.append(o)
    return out


# ------------------------------------------------------------------------------------------ across tables


@dataclass
class Fact:
    """One figure of one table under a key (scope, side, subject, component, period, measure) others may share."""

    ut: UnderstoodTable
    term: Term
    scope: str = "all"  # the source of funds of its key (a linked narrative figure may be restricted to one)


def facts(tables: list[UnderstoodTable], rules: Rules) -> dict[tuple, list[Fact]]:
    """Every amount cell of the standard tables under its key (scope, side, subject, column concept, period).

    The subject is a code; a code-less row label is mapped to a code seen in another table of the document
    (一、一般公共服务支出 → 201) or to a concept of rules/concepts.yaml (一般公共预算拨款收入 → gpb_income). On a
    table's 合计 row the subject is the concept its column holds: the table's total concept (or its grand-total
    concept when the table has a carry-over column), 基本支出 → basic_expense, a 小计 under 本年收入 → income_total.
    Columns holding one source of funds set the scope (一般公共预算财政拨款 → gpb), and in one source's scope a
    generic total is that source's concept (rules/tables.yaml ``scoped_concepts``: 支出合计 of a 财政拨款收支总表
    → fiscal_expense). An unlabelled total row of a table without a total concept (the one row of a 三公 table)
    holds one concept per column (“三公”经费/小计 → three_public, 因公出国（境）费 → abroad)."""
    names = _code_names(tables)
    aliases = _aliases(rules)
    scoped: dict[str, dict[str, str]] = vocab(rules).settings.get("scoped_concepts", {})
    out: dict[tuple, list[Fact]] = defaultdict(list)
    for ut in tables:
        cells = cells_of(ut, rules)
        seen: set[tuple] = set()
        for half in ut.halves:
            side = half.side or ut.side
            first_total = next((r for r in half.rows if r.is_total and not r.code), None)
            carry = any(c.role in ("carryover", "carry_next") and c.additive for c in half.columns)
            cols = [(c, _group(c, half, aliases)) for c in half.columns if c.additive or c.period != "current"]
            for row in half.rows:
                row_subject = _subject(row, names, aliases)  # the same for each column
                for col, group in cols:
                    if row is first_total and ut.total_concept:
                        subject, component = _total_row_key(ut, col, group, carry)
                    elif row is first_total and not strip_marker(row.label):
                        subject, component = _column_concept(col, group, aliases, rules), "total"
                    else:
                        subject = row_subject
                        component = "total" if col.scope or (col.total and not group) else (group or col.role or "")
                    if subject is None or not component:
                        continue
                    scope = col.scope or ut.scope
                    subject = scoped.get(scope, {}).get(subject, subject)
                    key = (scope, side, subject, component, col.period, col.measure)
                    if key in seen:
                        continue
                    term = cells.term(row, col.col)
                    if term is None:
                        continue
                    seen.add(key)
                    out[key].append(Fact(ut, term, scope))
    return out


def _aliases(rules: Rules) -> dict[str, str]:
    """Concept alias → concept id, built once per Rules object (kept beside its vocabulary)."""
    memo = memo_on(vocab(rules), "_aliases")
    if not memo:
        memo.update((a, cid) for a, cid in rules.alias_index())
    return memo


def _group(col: Column, half: Half, aliases: dict[str, str]) -> str | None:
    """The concept of the header group a 小计 column totals (本年收入/小计 → income_total), else None."""
    if not col.total or len(col.path) < 2 or col.path[-2] == half.name:
        return None
    return aliases.get(col.path[-2])


def _column_concept(col: Column, group: str | None, aliases: dict[str, str], rules: Rules) -> str | None:
    """The concept a column holds on its own: its group's (小计 under “三公”经费), its role's, or its header's."""
    if group or col.concept:
        return group or col.concept
    if col.role in rules.concepts:
        return col.role
    return aliases.get(col.header)


def _total_row_key(ut: UnderstoodTable, col: Column, group: str | None, carry: bool) -> tuple[str | None, str]:
    if col.concept:
        return col.concept, "total"
    if group:
        return group, "total"
    if col.scope:
        return ut.total_concept, "total"
    if col.total:
        return (ut.grand_concept if carry and ut.grand_concept else ut.total_concept), "total"
    return ut.total_concept, col.role or ""


def _code_names(tables: list[UnderstoodTable]) -> dict[str, str]:
    names: dict[str, str] = {}
    for ut in tables:
        for h in ut.halves:
            for r in h.rows:
                if r.code:
                    names.setdefault(strip_marker(r.label), r.code)
    return names


def _subject(row: Row, names: dict[str, str], aliases: dict[str, str]) -> str | None:
    if row.code:
        return row.code
    label = strip_marker(row.label)
    return names.get(label) or aliases.get(label)


def check_across(tables: list[UnderstoodTable], rules: Rules, index: dict[tuple, list[Fact]] | None = None
                 ) -> list[Outcome]:
    """The same keyed figure in two standard tables must agree (each later table against the first)."""
    out: list[Outcome] = []
    merged: dict[tuple, list[tuple[tuple, list[Fact]]]] = defaultdict(list)
    for key, fs in (index if index is not None else facts(tables, rules)).items():
        merged[key[:5]].append((key, fs))  # 预算数 / 决算数 / plain 合计 columns meet when compatible
    for keyed in merged.values():
        if len(keyed) == 1 and len(keyed[0][1]) == 1:
            continue  # one figure alone: nothing to compare (most keys)
        group = [(key, f) for key, fs in keyed for f in fs]
        key, ref = group[0]
        for other_key, f in group[1:]:
            if f.ut is ref.ut or (not f.term.value.written and not ref.term.value.written):
                continue
            if not measures_agree(key[5], other_key[5]):
                continue
            verdict = equal_relation(f.term.value.quantity, ref.term.value.quantity)
            what = _key_name(key, f.term.row, rules)
            a = Term(f.term.row, f.term.col, f.term.value, f"{f.ut.title}")
            b = Term(ref.term.row, ref.term.col, ref.term.value, f"{ref.ut.title}")
            o = _outcome(f.ut, "table.cross", "cross_table_mismatch", a, [b], verdict, "", what, other=ref.ut)
            out.append(o)
    return out


def measures_agree(a: str, b: str) -> bool:
    """A column's measure (budget / actual) is compatible with another's when equal or when one is unknown."""
    return a == b or "unknown" in (a, b)


SCOPES = {"all": "全部资金", "fiscal": "财政拨款", "gpb": "一般公共预算", "fund": "政府性基金", "soe": "国有资本经营"}


def _key_name(key: tuple, row: Row, rules: Rules) -> str:
    scope, _side, subject, component, period, measure = key
    concept = rules.concepts.get(subject)
    name = concept.name if concept else (f"{subject} {strip_marker(row.label)}" if row.code else subject)
    bits = [f"{SCOPES.get(scope, scope)}口径", name]
    if component != "total":
        c = rules.concepts.get(component)
        bits.append(c.name if c else component)
    if period != "current":
        bits.append("上年")
    if measure != "unknown":
        bits.append({"budget": "预算数", "actual": "决算数"}.get(measure, measure))
    return " ".join(bits)


def outcome_counts(outcomes: list[Outcome]) -> dict[str, int]:
    """pass / fail / unverifiable counts (a coverage figure for reports and tests)."""
    counts = {"pass": 0, "fail": 0, "unverifiable": 0}
    for o in outcomes:
        counts[o.status] += 1
    return counts


__all__ = ["run", "check_table", "check_across", "facts", "cell_evidence", "cell_name", "outcome_counts", "measures_agree", "Fact"]
