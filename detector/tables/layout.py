"""Header rows, column paths and side-by-side halves of a table grid.

Why span inference: word-processor exports drop merged cells, so an upper header row ("序号 | 收入 | 支出") has
fewer cells than the grid. A blank in the row below marks a cell merged downwards (合计 over two header rows);
a run of filled cells below is covered by one upper cell, split where the columns change kind (label → values)
or where a new label column starts a new half (收入 | 支出). When no split explains the upper row, it is left
out and the table is marked as guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import zip_longest

import regex as re

from detector.tables.values import is_amount
from detector.tables.vocab import Vocab, norm

CODE_RE = re.compile(r"^\d{3}(?:\d{2}){0,2}$")
# outline markers that open a data row (其中 is left out: "其中：政府采购" also heads columns)
DATA_MARKER_RE = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[、.．](?!\d))")
# a code followed by a name in one cell ("2013701行政运行", "[201]一般公共服务支出"); compiled once, not per cell
CODE_LABEL_RE = re.compile(r"^\[?\d{3}(?:\d{2}){0,2}\]?\D")
MAY_MARK_DATA = re.compile(r"[\d一二三四五六七八九十（(\[]")  # the first characters the three patterns above allow


@dataclass
class Layout:
    preamble: list[int]
    header: list[int]  # header rows used for column paths (栏次 row excluded)
    number_row: int | None  # the 栏次 row
    data_start: int
    paths: list[tuple[str, ...]]  # per grid column
    kinds: list[str]  # per grid column: seq | code | label | value | empty
    guesses: list[str]


def is_preamble(cells: list[str], v: Vocab) -> bool:
    """A unit line or a preamble word (填报单位 …) above the header. ``cells`` normalised (see :func:`norm`)."""
    joined = "".join(cells)
    return bool(v.unit_re.search(joined)) or any(w in joined for w in v.normed("preamble_words"))


def _is_number_row(cells: list[str], v: Vocab) -> bool:
    filled = [c for c in cells if c]
    if not filled:
        return False
    if any(w in filled[0] for w in v.words("column_number_words")):
        return True
    return len(filled) >= 3 and all(c.isdigit() and len(c) <= 2 for c in filled)


def _has_figures(cells: list[str]) -> bool:
    return any(is_amount(c) and ("." in c or "," in c) for c in cells)


def looks_like_data(cells: list[str], v: Vocab) -> bool:
    """A row that carries figures, a subject code, an outline marker or a total label is data, not header.
    ``cells`` normalised (see :func:`norm`).

    A total label counts only when it opens the row and a bare figure follows ("合 计 | 0" of an empty
    政府性基金 table): a header row may name a 合计 column, but holds no figure."""
    filled = [c for c in cells if c]
    if filled and filled[0] in v.words("total_row_words") and any(is_amount(t) for t in filled[1:]):
        return True
    return any(_marks_data(t) for t in filled)


@lru_cache(maxsize=1 << 16)
def _marks_data(t: str) -> bool:
    """A normalised cell that makes its row a data row: a subject code, an outline marker, a figure with a
    decimal point or thousands separator, or a code before a name. Cached: header and data rows are tried
    cell by cell, and the same cells recur down a document."""
    if ("." in t or "," in t) and is_amount(t):
        return True
    # a code, an outline marker and a code before a name all open with a digit, a numeral or a bracket: most
    # header words open otherwise and are turned away by one match instead of three
    return bool(MAY_MARK_DATA.match(t)) and bool(CODE_RE.match(t) or DATA_MARKER_RE.match(t) or CODE_LABEL_RE.match(t))


def normed_rows(rows: list[list[str]]) -> list[list[str]]:
    """The grid's texts normalised (:func:`norm`), once per table: every step below reads them, cell by cell."""
    return [[norm(t) for t in row] for row in rows]


def read_layout(rows: list[list[str]], n_cols: int, v: Vocab, normed: list[list[str]] | None = None) -> Layout:
    """Split a grid into preamble, header and data rows, and give each column its header path and kind.
    ``normed``: :func:`normed_rows` of ``rows``, when the caller has it already."""
    normed = normed if normed is not None else normed_rows(rows)
    guesses: list[str] = []
    i = 0
    preamble: list[int] = []
    while i < len(rows) and i < 4 and is_preamble(normed[i], v) and not _has_figures(rows[i]):
        preamble.append(i)
        i += 1
    header: list[int] = []
    number_row = None
    while i < len(rows) and not looks_like_data(normed[i], v):
        if _is_number_row(normed[i], v):
            number_row = i
            i += 1
            break
        header.append(i)
        i += 1
    data_start = i
    if number_row is None and header and data_start >= len(rows):
        # no data row at all: keep the first row as header only if it names columns
        pass
    paths = _paths([rows[r] for r in header], n_cols, v, guesses)
    kinds = _kinds(normed[data_start:], paths, n_cols, v)
    return Layout(preamble, header, number_row, data_start, paths, kinds, guesses)


# ------------------------------------------------------------------------------------------ header paths


@lru_cache(maxsize=1 << 14)
def _header_kind(text: str, v: Vocab) -> str:
    """seq, code, label or value: what a header word says its column holds (blank for none). Cached: the same
    headers recur in every table of a document, and across documents."""
    t = norm(text)
    if not t:
        return "blank"
    if any(w == t or (w in t and len(t) <= len(w) + 4) for w in v.words("seq_words")):
        return "seq"
    if v.contains_any("code_words", t):
        return "code"
    if t.endswith(v.ending("label_words")):  # is or ends with a label word
        return "label"
    return "value"


def _segments(lower: list[str], n_cols: int, v: Vocab, needed: int) -> list[list[int]] | None:
    """Column groups covered by the cells of the row above ``lower``, or None when no split explains them."""
    segs: list[list[int]] = []
    run: list[int] = []
    for c in range(n_cols):
        t = norm(lower[c]) if c < len(lower) else ""
        if not t:
            if run:
                segs.append(run)
                run = []
            segs.append([c])
        else:
            run.append(c)
    if run:
        segs.append(run)
    if len(segs) == needed:
        return segs
    if len(segs) > needed:
        return None
    kinds = [_header_kind(lower[c] if c < len(lower) else "", v) for c in range(n_cols)]
    strong: set[int] = set()
    weak: set[int] = set()
    for s in segs:
        for a, b in zip(s, s[1:], strict=False):
            if kinds[b] in ("label", "code") and kinds[a] == "value":
                strong.add(b)
            elif kinds[a] in ("label", "code") and kinds[b] == "value":
                weak.add(b)
    extra = needed - len(segs)
    for cuts in (strong, weak, strong | weak):
        if len(cuts) == extra:
            out: list[list[int]] = []
            for s in segs:
                cur: list[int] = []
                for c in s:
                    if c in cuts and cur:
                        out.append(cur)
                        cur = []
                    cur.append(c)
                out.append(cur)
            return out
    return None


def _paths(header: list[list[str]], n_cols: int, v: Vocab, guesses: list[str]) -> list[tuple[str, ...]]:
    aligned: list[list[str] | None] = [None] * len(header)
    full = [k for k, r in enumerate(header) if len(r) == n_cols]
    for k in full:
        aligned[k] = list(header[k])
    for k in range(len(header) - 1, -1, -1):
        if aligned[k] is not None:
            continue
        below = next((aligned[j] for j in range(k + 1, len(header)) if aligned[j] is not None), None)
        raw = header[k]
        if below is None:
            if len(raw) < n_cols:
                guesses.append(f"header row {k} not aligned")
            continue
        segs = _segments(below, n_cols, v, len(raw))
        if segs is None:
            guesses.append(f"header row {k} not aligned")
            continue
        row = [""] * n_cols
        for text, seg in zip(raw, segs, strict=True):
            for c in seg:
                row[c] = text
        aligned[k] = row
    paths: list[tuple[str, ...]] = []
    for c in range(n_cols):
        p: list[str] = []
        for row in aligned:
            if row is None or c >= len(row):
                continue
            t = norm(row[c])
            if t and (not p or p[-1] != t):
                p.append(t)
        paths.append(tuple(p))
    return paths


# ------------------------------------------------------------------------------------------ column kinds


def _kinds(data: list[list[str]], paths: list[tuple[str, ...]], n_cols: int, v: Vocab) -> list[str]:
    """Each column's kind from its header word and its data cells (``data`` normalised), read column by column
    from the transposed rows (a short row has nothing in the columns it lacks)."""
    columns = list(zip_longest(*data, fillvalue=""))[:n_cols]
    columns += [()] * (n_cols - len(columns))
    kinds: list[str] = []
    for c in range(n_cols):
        head = paths[c][-1] if paths[c] else ""
        hk = _header_kind(head, v) if head else "blank"
        cells = [_traits(t) for t in columns[c] if t]
        codes, nums, shorts = zip(*cells, strict=True) if cells else ((), (), ())
        n_code = sum(codes)
        n_num = sum(nums)
        n_text = len(cells) - n_num
        if hk == "seq" or (c == 0 and cells and all(shorts) and hk != "code"):
            kinds.append("seq")
        elif hk == "code" or (cells and n_code == len(cells) and (hk in ("blank", "label") or len(cells) >= 3)):
            kinds.append("code")
        elif hk == "label" or (n_text > 0 and n_text >= n_num):
            kinds.append("label")
        elif cells or hk == "value":
            kinds.append("value")
        else:
            kinds.append("empty")
    return kinds


@lru_cache(maxsize=1 << 16)
def _traits(t: str) -> tuple[bool, bool, bool]:
    """Of a normalised data cell: is it a subject code, a bare amount, an integer of at most 3 digits (a 序号)?
    Cached: every column of every table asks for its cells."""
    return bool(CODE_RE.match(t)), is_amount(t), t.isdigit() and len(t) <= 3
