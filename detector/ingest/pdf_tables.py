"""Ruling lines + glyphs → table grids; title and unit from the lines above; tables continued across pages
merged back into one.

Why ruling lines: every standard table in these disclosures (Word, WPS and Excel exports alike) is drawn with
cell borders. The borders say exactly where each cell is, so a label wrapped onto two lines inside its cell
("九、医疗卫生与计划生育支" / "出") or a number the layout pushed onto the next line stays in its cell, a
side-by-side 收入 | 支出 layout stays one grid with aligned columns, and merged cells are seen as missing
borders. Text-alignment guessing (what makes PDF tables "shift rows") is not needed for ruled tables.

Grid convention (shared with the other readers): a merged cell's text sits in its top-left position, the
positions it covers are ``Cell(merged=True, text="")``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

import regex as re

from detector.ingest.grid import UNIT_RE
from detector.ingest.pdf_layout import Line, glyph_text, group_lines, join_lines
from detector.ingest.pdf_page import Glyph, Ruling
from detector.model import Cell, Table

SNAP = 2.0  # rulings closer than this (points) are the same line (double borders, rounding in exports)
# Grid lines closer than this are one boundary: no text fits in a 6-point sliver, and Word draws the border of
# a cell 5.4 points off its neighbour's when rows have slightly different cell widths (jagged columns).
MIN_BAND = 6.0
GAP = 2.5  # collinear pieces closer than this are one line (Word draws a border per cell)
MIN_TABLE_W = 40.0
MIN_TABLE_H = 12.0
TITLE_REACH = 100.0  # how far above a table or above the heading line below it (points) a heading line may sit
# A cell's last line ending closer than this many glyph heights to the cell's right border filled the cell
# (justified "当 年 收 入" included): its text may have wrapped. Measured: wrapped lines end 0.6–0.8 pt short,
# "十六、金融支出" (a complete line) 5.3 pt short at 9 pt glyphs.
WRAP_REACH = 0.5
# A continuation row that starts a new item: an outline marker or a subject code, or a figure anywhere.
NEW_ITEM_RE = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[、.．](?!\d)|\d{3,7}\b)")
FIGURE_RE = re.compile(r"^[-−]?[\d,，]+(?:\.\d+)?%?$")

# Lines around a table that are neither title nor data: the issuing unit and bare table numbers (表一, 公开02表).
NOTE_RE = re.compile(r"^\s*(?:部门(?:名称)?|单位名称|编制单位|填报单位|预算单位)[:：]")
NUMBER_RE = re.compile(
    r"^\s*(?:(?:公开)?\s*表\s*[一二三四五六七八九十\d]+(?:[-—－]\d+)?|(?:公开)?\s*\d+\s*表|附表\s*\d*)\s*$"
)
PART_RE = re.compile(r"^\s*第[一二三四五六七八九十\d]+部分")  # a part heading sits above a table, not its title
UNIT_CUT_RE = re.compile(r"单位[:：]?\s*[（(]?\s*[万千亿]?$")  # a unit line that wrapped before 元
TITLE_RE = re.compile(r"表\s*(?:[（(][^)）]*[)）])?\s*$|表[一二三四五六七八九十\d]|情况表|总表|明细表")


@dataclass
class Frame:
    """One connected set of rulings: the skeleton of a table."""

    xs: list[float]
    ys: list[float]
    h: list[Ruling]
    v: list[Ruling]
    x_spans: list[tuple[float, float]] = field(default_factory=list)  # positions merged into each xs line
    y_spans: list[tuple[float, float]] = field(default_factory=list)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.xs[0], self.ys[0], self.xs[-1], self.ys[-1]

    def contains(self, g: Glyph, tol: float = 1.0) -> bool:
        x0, top, x1, bottom = self.bbox
        return x0 - tol <= g.cx <= x1 + tol and top - tol <= g.cy <= bottom + tol


@dataclass
class Draft:
    """A table found on one page, before titles are attached and continuations merged."""

    page: int
    top: float
    bottom: float
    rows: list[list[Cell]]
    col_edges: list[tuple[float, float]]  # x-extent of each kept column, to align continuations
    title: str | None = None
    unit: str | None = None
    notes: list[str] = field(default_factory=list)
    cell_lines: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # lines of multi-line cells
    row_tops: list[float] = field(default_factory=list)
    last_page: int = 0  # the page its last rows are on, once continuations are merged in
    # x-extents of the last row's cells whose last text line runs into the right border: at a page break the
    # rest of such a cell's text ("八、社会保障和就" / "业支出") opens the next page as a row of its own
    open_spans: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.last_page = self.last_page or self.page


# ------------------------------------------------------------------------------------------------- frames


def find_frames(rulings: list[Ruling]) -> list[Frame]:
    """Group rulings into connected skeletons with at least two rows and two columns."""
    hs = _merge([r for r in rulings if r.horizontal])
    vs = _merge([r for r in rulings if not r.horizontal])
    if len(hs) < 2 or len(vs) < 2:
        return []
    parent = list(range(len(hs) + len(vs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if h.lo - SNAP <= v.pos <= h.hi + SNAP and v.lo - SNAP <= h.pos <= v.hi + SNAP:
                a, b = find(i), find(len(hs) + j)
                if a != b:
                    parent[a] = b
    groups: dict[int, tuple[list[Ruling], list[Ruling]]] = {}
    for i, h in enumerate(hs):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        groups.setdefault(find(len(hs) + j), ([], []))[1].append(v)
    frames = []
    for gh, gv in groups.values():
        if len(gh) < 2 or len(gv) < 2:
            continue
        x_spans = _cluster([v.pos for v in gv] + [min(h.lo for h in gh), max(h.hi for h in gh)])
        y_spans = _cluster([h.pos for h in gh] + [min(v.lo for v in gv), max(v.hi for v in gv)])
        xs = [(lo + hi) / 2 for lo, hi in x_spans]
        ys = [(lo + hi) / 2 for lo, hi in y_spans]
        if len(xs) < 2 or len(ys) < 2 or len(xs) + len(ys) < 5:
            continue  # a single box: a page border, a framed note or heading, never a table
        if xs[-1] - xs[0] < MIN_TABLE_W or ys[-1] - ys[0] < MIN_TABLE_H:
            continue
        frames.append(Frame(xs=xs, ys=ys, h=gh, v=gv, x_spans=x_spans, y_spans=y_spans))
    # Smallest first, so a glyph is given to the innermost frame that contains it.
    frames.sort(key=lambda f: (f.xs[-1] - f.xs[0]) * (f.ys[-1] - f.ys[0]))
    return frames


def _merge(segs: list[Ruling]) -> list[Ruling]:
    """Snap rulings at nearly the same position together and join collinear pieces that touch."""
    out: list[Ruling] = []
    segs = sorted(segs, key=lambda r: r.pos)
    i = 0
    while i < len(segs):
        j = i
        while j + 1 < len(segs) and segs[j + 1].pos - segs[i].pos <= SNAP:
            j += 1
        group = sorted(segs[i : j + 1], key=lambda r: r.lo)
        pos = sum(r.pos for r in group) / len(group)
        lo, hi = group[0].lo, group[0].hi
        for r in group[1:]:
            if r.lo <= hi + GAP:
                hi = max(hi, r.hi)
            else:
                out.append(Ruling(group[0].horizontal, pos, lo, hi))
                lo, hi = r.lo, r.hi
        out.append(Ruling(group[0].horizontal, pos, lo, hi))
        i = j + 1
    return out


def _cluster(values: list[float]) -> list[tuple[float, float]]:
    """Chain positions less than MIN_BAND apart into one grid line, returned as its (lowest, highest)."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][1] <= MIN_BAND:
            out[-1][1] = v
        else:
            out.append([v, v])
    return [(lo, hi) for lo, hi in out]


# -------------------------------------------------------------------------------------------------- grids


def build_draft(frame: Frame, glyphs: list[Glyph], page: int) -> Draft | None:
    """Fill a frame's cells with the glyphs inside them; merged cells are atoms with no border between."""
    xs, ys = frame.xs, frame.ys
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root is always the top-left atom

    v_at = _by_position(frame.v, frame.x_spans)
    h_at = _by_position(frame.h, frame.y_spans)
    for r in range(n_rows):
        ymid = (ys[r] + ys[r + 1]) / 2
        for c in range(n_cols):
            xmid = (xs[c] + xs[c + 1]) / 2
            if c + 1 < n_cols and not _covers(v_at.get(c + 1, ()), ymid):
                union(r * n_cols + c, r * n_cols + c + 1)
            if r + 1 < n_rows and not _covers(h_at.get(r + 1, ()), xmid):
                union(r * n_cols + c, (r + 1) * n_cols + c)

    content: dict[int, list[Glyph]] = {}
    for g in glyphs:
        r = min(max(bisect_right(ys, g.cy) - 1, 0), n_rows - 1)
        c = min(max(bisect_right(xs, g.cx) - 1, 0), n_cols - 1)
        content.setdefault(find(r * n_cols + c), []).append(g)

    texts = [[""] * n_cols for _ in range(n_rows)]
    merged = [[False] * n_cols for _ in range(n_rows)]
    lines_at: dict[tuple[int, int], list[str]] = {}
    right = _atom_right_edges(find, n_rows, n_cols, xs)
    full: dict[int, bool] = {}  # per atom with text: its last line reaches the right border
    for atom in range(n_rows * n_cols):
        root = find(atom)
        if root != atom:
            merged[atom // n_cols][atom % n_cols] = True
        elif atom in content:
            found = group_lines(content[atom])
            lines = [glyph_text(ln.glyphs) for ln in found]
            texts[atom // n_cols][atom % n_cols] = cell_text(lines)
            full[atom] = right[atom] - found[-1].x1 < WRAP_REACH * max(found[-1].size, 1.0)
            if len(lines) > 1:
                lines_at[(atom // n_cols, atom % n_cols)] = lines

    keep_rows = [r for r in range(n_rows) if any(texts[r])]
    keep_cols = [c for c in range(n_cols) if any(texts[r][c] for r in range(n_rows))]
    if not keep_rows or len(keep_cols) < 1:
        return None
    rows = [
        [Cell(row=i, col=j, text=texts[r][c], page=page, merged=merged[r][c] and not texts[r][c])
         for j, c in enumerate(keep_cols)]
        for i, r in enumerate(keep_rows)
    ]
    edges = [(xs[c], xs[c + 1]) for c in keep_cols]
    row_of = {r: i for i, r in enumerate(keep_rows)}
    col_of = {c: j for j, c in enumerate(keep_cols)}
    kept_lines = {(row_of[r], col_of[c]): v for (r, c), v in lines_at.items() if r in row_of and c in col_of}
    last = keep_rows[-1]
    open_spans = [(xs[c], right[last * n_cols + c]) for c in range(n_cols) if full.get(last * n_cols + c)]
    return Draft(page=page, top=ys[0], bottom=ys[-1], rows=rows, col_edges=edges, cell_lines=kept_lines,
                 row_tops=[ys[r] for r in keep_rows], open_spans=open_spans)


def _atom_right_edges(find, n_rows: int, n_cols: int, xs: list[float]) -> dict[int, float]:
    """The right border of each merged atom (by its root, the top-left grid position)."""
    right: dict[int, float] = {}
    for atom in range(n_rows * n_cols):
        root = find(atom)
        right[root] = max(right.get(root, 0.0), xs[atom % n_cols + 1])
    return right


def split_at_titles(draft: Draft) -> list[Draft]:
    """Cut a frame where a row holds nothing but a table title: Excel exports draw consecutive tables (the
    tail of one, the head of the next) inside one connected set of borders."""
    for i in range(1, len(draft.rows)):
        filled = [c for c in draft.rows[i] if c.text]
        if len(filled) == 1 and _is_title(filled[0].text) and not UNIT_RE.search(filled[0].text):
            head = Draft(page=draft.page, top=draft.top, bottom=draft.row_tops[i], rows=draft.rows[:i],
                         col_edges=draft.col_edges, row_tops=draft.row_tops[:i],
                         cell_lines={k: v for k, v in draft.cell_lines.items() if k[0] < i})
            tail = Draft(page=draft.page, top=draft.row_tops[i], bottom=draft.bottom, rows=draft.rows[i:],
                         col_edges=draft.col_edges, row_tops=draft.row_tops[i:],
                         cell_lines={(r - i, c): v for (r, c), v in draft.cell_lines.items() if r >= i},
                         open_spans=draft.open_spans)
            for r, row in enumerate(tail.rows):
                for cell in row:
                    cell.row = r
            return [head, *split_at_titles(tail)]
    return [draft]


def _by_position(rulings: list[Ruling], spans: list[tuple[float, float]]) -> dict[int, list[Ruling]]:
    """Index rulings by the grid line they were merged into."""
    out: dict[int, list[Ruling]] = {}
    los = [lo for lo, _ in spans]
    for r in rulings:
        k = bisect_right(los, r.pos + SNAP) - 1
        if k >= 0 and r.pos <= spans[k][1] + SNAP:
            out.setdefault(k, []).append(r)
    return out


def _covers(rulings: list[Ruling] | tuple, at: float) -> bool:
    return any(r.lo - 1.0 <= at <= r.hi + 1.0 for r in rulings)


def cell_text(lines: list[str]) -> str:
    """A cell's text: its lines joined without a break, so a wrapped label or a number pushed to the next
    line is one string again; spaces between Chinese characters (justified cells) are dropped."""
    return re.sub(r"(?<=[\p{Han}])\s+(?=[\p{Han}])", "", join_lines(lines)).strip()


# --------------------------------------------------------------------------------------- titles and units


def attach_heading(draft: Draft, above: list[Line]) -> list[Line]:
    """Take the table's title, unit and note lines from the lines just above it (closest first) and from
    head rows inside the frame (Excel exports draw the title area inside the table border); return the lines
    consumed above, which then are not narrative. Scanning stops at the first line that is none of these."""
    consumed: list[Line] = []
    pending: list[Line] = []  # short wordy lines (a wrapped unit name) kept only if a heading line follows
    lines = sorted(above, key=lambda q: -q.bottom)
    _wrapped_unit(draft, lines)
    i = 0
    while i < len(lines):
        ln = lines[i]
        up = lines[i + 1] if i + 1 < len(lines) and _wrapped(lines[i + 1], ln) else None
        floor = min((q.top for q in consumed + pending), default=draft.top)
        if floor - ln.bottom > TITLE_REACH:
            break
        if _heading_line(draft, ln.text.strip()):
            consumed.append(ln)
            consumed.extend(pending)
            draft.notes.extend(q.text.strip() for q in pending)
            pending.clear()
            if up is not None and draft.title == ln.text.strip() and not _heading_line(Draft(0, 0, 0, [], []),
                                                                                       up.text.strip()):
                draft.title = up.text.strip() + draft.title  # the title's first line, wrapped above
                consumed.append(up)
                i += 1
        elif up is not None and draft.title is None and _is_title(up.text.strip() + ln.text.strip()):
            draft.title = up.text.strip() + ln.text.strip()  # a title wrapped after its first line
            consumed.extend([ln, up])
            i += 1
        elif len(pending) < 2 and len(ln.text.strip()) <= 12 and not any(ch.isdigit() for ch in ln.text):
            pending.append(ln)
        else:
            break
        i += 1
    _take_head_rows(draft)
    if draft.unit is None:
        for row in draft.rows[:3]:
            for cell in row:
                m = UNIT_RE.search(cell.text)
                if m:
                    draft.unit = m.group(1)
                    break
            if draft.unit:
                break
    return consumed


def _wrapped_unit(draft: Draft, lines: list[Line]) -> None:
    """A unit cut by a narrow text box ("单位：万" / "元" on the line below, which the line grouping joins to
    the issuing unit's line on the left): read the glyphs just under the cut line's end."""
    for ln in lines:
        if draft.unit is not None or not UNIT_CUT_RE.search(ln.text.strip()):
            continue
        reach = max(ln.size, 1.0)
        below = [g for q in lines if q is not ln for g in q.glyphs
                 if 0 <= g.top - ln.bottom < reach and ln.x0 - reach <= g.x0 <= ln.x1 + reach]
        m = UNIT_RE.search(ln.text.strip() + glyph_text(sorted(below, key=lambda g: g.x0)))
        if m:
            draft.unit = m.group(1)


def _heading_line(draft: Draft, text: str, inside: bool = False) -> bool:
    """Record ``text`` as the draft's title, unit or note if it is one; False for anything else.

    A bare table number (表一, 公开02表) is a title only until a worded title turns up."""
    if not text:
        return True
    unit = UNIT_RE.search(text)
    if unit and draft.unit is None:
        draft.unit = unit.group(1)
    rest = UNIT_RE.sub("", text).strip(" （()）") if unit else text
    if not rest:
        return bool(unit)
    if NUMBER_RE.match(rest):
        draft.notes.append(rest)
        return True
    if NOTE_RE.search(rest):
        draft.notes.append(rest)
        return True
    if _is_title(rest) and (draft.title is None or inside and (NUMBER_RE.match(draft.title)
                                                                or PART_RE.match(draft.title))):
        draft.title = rest
        return True
    return bool(unit) and not any(ch.isdigit() for ch in rest)


def _take_head_rows(draft: Draft) -> None:
    """Drop leading rows that hold only the title, unit or issuing-unit line, recording what they say."""
    while len(draft.rows) > 1:
        row = draft.rows[0]
        filled = [c for c in row if c.text]
        if len(filled) == 1:
            lines = draft.cell_lines.get((0, filled[0].col), [filled[0].text])
        else:
            lines = ["".join(c.text for c in filled)]
        if not all(_heading_line(draft, t, inside=True) for t in lines):
            return
        draft.rows.pop(0)
        if draft.row_tops:
            draft.row_tops.pop(0)
        draft.cell_lines = {(r - 1, c): v for (r, c), v in draft.cell_lines.items() if r > 0}
        for i, r in enumerate(draft.rows):
            for cell in r:
                cell.row = i


def title_from_run(draft: Draft, run: list[Line]) -> bool:
    """A title (with its unit and note lines) left at the foot of the previous page: take the run's trailing
    heading lines for the untitled table that opens the next page."""
    if draft.title is not None or not run:
        return False
    probe = Draft(page=draft.page, top=0.0, bottom=0.0, rows=[], col_edges=[])
    taken = 0
    for ln in reversed(run[-4:]):
        if ln.page not in (draft.page, draft.page - 1) or not _heading_line(probe, ln.text.strip()):
            break
        taken += 1
        if probe.title is not None:
            break
    if probe.title is None:
        return False
    draft.title = probe.title
    draft.unit = draft.unit or probe.unit
    draft.notes = probe.notes + draft.notes
    del run[-taken:]
    return True


def _wrapped(upper: Line, lower: Line) -> bool:
    """Are two lines one heading wrapped? Same size, less than a line height apart, the upper one unfinished."""
    height = max(upper.bottom - upper.top, lower.bottom - lower.top, 1.0)
    text = upper.text.strip()
    return (0 <= lower.top - upper.bottom < height and abs(upper.size - lower.size) < 0.15 * height
            and bool(text) and text[-1] not in "。；;：:" and not UNIT_RE.search(text + lower.text))


def _is_title(text: str) -> bool:
    return 3 <= len(text) <= 80 and text[-1] not in "。；;，," and bool(TITLE_RE.search(text))


# ------------------------------------------------------------------------------------------ continuations


def continues(prev: Draft, draft: Draft) -> bool:
    """Is ``draft`` the rest of ``prev`` on the next page? Only when nothing but running heads sits between
    them, ``draft`` has no title of its own (or repeats ``prev``'s), and its columns line up with ``prev``'s."""
    if draft.page != prev.last_page + 1:
        return False
    if draft.title is not None and draft.title != prev.title:
        return False
    return common_columns(prev, draft) is not None or len(prev.col_edges) == len(draft.col_edges)


def _bounds(draft: Draft) -> list[float]:
    return sorted({x for edge in draft.col_edges for x in edge})


def common_columns(prev: Draft, draft: Draft) -> list[tuple[float, float]] | None:
    """The finer of the two tables' column grids when one refines the other (every boundary of the coarser
    one is also a boundary of the finer one, within MIN_BAND): a header row of merged cells at the foot of a
    page continues with the full columns on the next. None when the boundaries disagree."""
    a, b = _bounds(prev), _bounds(draft)
    union = _cluster(a + b)
    if len(union) != max(len(a), len(b)):
        return None
    xs = [(lo + hi) / 2 for lo, hi in union]
    return list(zip(xs, xs[1:], strict=False))


def regrid(draft: Draft, edges: list[tuple[float, float]]) -> None:
    """Re-express ``draft`` on finer columns: a cell covering several of them keeps its text in the first,
    the others are merged positions. A column the page left out (empty on this page) is covered where the
    cells on both sides of it are one merged cell ("当年支出小计" across 功能分类 and 支出用途)."""
    targets = [[k for k, (lo, hi) in enumerate(edges) if old_lo - MIN_BAND < (lo + hi) / 2 < old_hi + MIN_BAND]
               for old_lo, old_hi in draft.col_edges]
    targeted = {k for ks in targets for k in ks}
    rows = []
    for i, row in enumerate(draft.rows):
        new = [Cell(row=i, col=k, text="", page=draft.page) for k in range(len(edges))]
        for cell, ks in zip(row, targets, strict=True):
            for n, k in enumerate(ks):
                new[k] = Cell(row=i, col=k, text=cell.text if n == 0 else "", page=cell.page,
                              merged=cell.merged if n == 0 else bool(cell.text or cell.merged))
        for k in range(len(edges)):
            right = next((new[j] for j in range(k + 1, len(edges)) if j in targeted), None)
            if k not in targeted and k > 0 and right is not None and right.merged:
                new[k].merged = True
        rows.append(new)
    draft.rows = rows
    draft.col_edges = list(edges)
    draft.cell_lines = {}


def merge_into(prev: Draft, draft: Draft) -> None:
    """Append ``draft``'s rows to ``prev`` on a common column grid, dropping the header rows it repeats."""
    edges = common_columns(prev, draft)
    if edges is not None:
        for d in (prev, draft):
            if len(d.col_edges) != len(edges):
                regrid(d, edges)
    head = 0
    rows = draft.rows
    while head < len(rows) - 1 and head < len(prev.rows) and _texts(rows[head]) == _texts(prev.rows[head]):
        head += 1
    if head < len(rows) and _wrapped_over(prev, rows[head]):
        for cell, tail in zip(prev.rows[-1], rows[head], strict=False):
            cell.text = join_lines([cell.text, tail.text]) if tail.text else cell.text
        head += 1
    for row in rows[head:]:
        r = len(prev.rows)
        for c, cell in enumerate(row):
            cell.row, cell.col = r, c
        prev.rows.append(row)
    prev.bottom = draft.bottom
    prev.last_page = draft.last_page
    prev.open_spans = draft.open_spans if head < len(rows) else prev.open_spans
    prev.notes.extend(n for n in draft.notes if n not in prev.notes)
    if prev.unit is None:
        prev.unit = draft.unit


def _wrapped_over(prev: Draft, row: list[Cell]) -> bool:
    """Is ``row`` (the first new row on the next page) the wrapped rest of ``prev``'s last row? Only when it
    holds no figure and no new item, and each of its texts sits under a cell whose text ran into its border."""
    if not prev.rows or len(row) != len(prev.rows[-1]):
        return False
    filled = [(k, c.text.strip()) for k, c in enumerate(row) if c.text.strip()]
    if not filled:
        return False
    for k, text in filled:
        lo, hi = prev.col_edges[k]
        mid = (lo + hi) / 2
        if FIGURE_RE.match(text) or NEW_ITEM_RE.match(text) or not prev.rows[-1][k].text:
            return False
        if not any(a - MIN_BAND <= mid <= b + MIN_BAND for a, b in prev.open_spans):
            return False
    return True


def _texts(row: list[Cell]) -> list[str]:
    return ["".join(c.text.split()) for c in row]


def to_table(draft: Draft, index: int, file: str) -> Table:
    return Table(index=index, rows=draft.rows, title=draft.title, file=file, page=draft.page, unit=draft.unit,
                 notes=list(draft.notes))
