"""What the structured readers (DOCX, XLSX/XLS, HTML) share: expanding merged cells into a grid, finding a
table's unit and title, and refusing ZIP containers that would decompress into something absurd.

Why one place: the three formats express merges differently (gridSpan/vMerge, merged ranges, rowspan/colspan)
but downstream code must see one convention — the text in the top-left position, every covered position a
``Cell(merged=True, text="")`` — so each reader only translates its format into :class:`Span` records.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import regex as re

from detector.errors import IngestError
from detector.model import Block, Cell, Paragraph

UNIT_RE = re.compile(r"单位[:：]?\s*[（(]?\s*(万元|千元|亿元|元)")
TITLE_UNIT_ONLY_RE = re.compile(r"^\s*[（(]?\s*(金额)?单位[:：]?\s*[（(]?\s*(万元|千元|亿元|元)\s*[)）]?\s*$")

# ZIP containers (DOCX/XLSX). A real disclosure's XML compresses 5–50×; a member far beyond that and large
# is a decompression bomb, and no disclosure expands to more than a gigabyte of XML.
MAX_ZIP_MEMBERS = 10_000
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_MEMBER_RATIO = 200
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024
# A grid is materialised cell by cell; a stray value in cell XFD1048576 or colspan="1000" rowspan="65534" must
# not allocate billions of cells. Two million positions is far beyond any disclosure table.
MAX_GRID_CELLS = 2_000_000


@dataclass
class Span:
    """A cell as the source writes it: its anchor in the grid and how many rows/columns it covers."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1


def build_grid(spans: list[Span], n_rows: int | None = None, page: int | None = None,
               file: str = "") -> list[list[Cell]]:
    """Expand spans into a rectangular grid. Positions no span covers become empty cells; a span reaching
    beyond ``n_rows`` (HTML rowspan larger than the table) is cut at the table's end. A position claimed twice
    keeps its first writer, so malformed overlapping merges cannot raise."""
    if n_rows is None:
        n_rows = max((s.row + max(s.rowspan, 1) for s in spans), default=0)
    n_cols = max((s.col + max(s.colspan, 1) for s in spans if s.row < n_rows), default=0)
    if n_rows * n_cols > MAX_GRID_CELLS:
        raise IngestError(f"表格过大（{n_rows} 行 × {n_cols} 列）/ table too large ({n_rows} × {n_cols})",
                          path=file, code="too_large")
    grid: list[list[Cell | None]] = [[None] * n_cols for _ in range(n_rows)]
    for s in spans:
        if s.row >= n_rows:
            continue
        for r in range(s.row, min(s.row + max(s.rowspan, 1), n_rows)):
            for c in range(s.col, s.col + max(s.colspan, 1)):
                if grid[r][c] is not None:
                    continue
                anchor = r == s.row and c == s.col
                grid[r][c] = Cell(row=r, col=c, text=s.text if anchor else "", page=page, merged=not anchor)
    return [
        [cell if cell is not None else Cell(row=r, col=c, text="", page=page) for c, cell in enumerate(row)]
        for r, row in enumerate(grid)
    ]


def find_unit(*texts: str | None) -> str | None:
    """The first 单位：万元/元 found in ``texts`` (table cells first, then the paragraphs before the table)."""
    for text in texts:
        if text:
            m = UNIT_RE.search(text)
            if m:
                return m.group(1)
    return None


def is_unit_line(text: str) -> bool:
    """True for a line that only states the unit (「单位：万元」), which is never a table's title."""
    return bool(TITLE_UNIT_ONLY_RE.match(text))


def head_texts(rows: list[list[Cell]], n: int = 6) -> list[str]:
    """Texts of the first ``n`` rows, where a table's own title and unit line live."""
    return [c.text for row in rows[:n] for c in row if c.text]


def check_zip(data: bytes, file: str, kind: str) -> None:
    """Refuse a DOCX/XLSX whose ZIP directory promises too many members, too many bytes, or a member with an
    absurd compression ratio — before any XML parser touches it. Declared sizes are what matter: Python's
    zipfile never yields more than a member's declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError) as exc:
        raise IngestError(f"{kind} 文件已损坏（ZIP 容器无法打开）/ broken {kind} container: {exc}", path=file,
                          code="corrupt") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise IngestError(f"{kind} 包含 {len(infos)} 个部件，疑似恶意文件 / too many zip members", path=file,
                          code="zip_bomb")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise IngestError(f"{kind} 解压后达 {total / 1e6:.0f} MB，超过上限 / decompressed size too large",
                          path=file, code="zip_bomb")
    for info in infos:
        if info.file_size >= RATIO_CHECK_MIN_BYTES and info.file_size > MAX_MEMBER_RATIO * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise IngestError(
                f"{kind} 部件 {info.filename} 压缩比异常（{ratio:.0f}:1），疑似压缩炸弹 / "
                f"zip bomb suspected (compression ratio {ratio:.0f}:1)",
                path=file, code="zip_bomb",
            )


NUMERIC_RE = re.compile(r"^[\s\d,，.．%％()（）+\-−]*$")


def title_row(rows: list[list[Cell]], n: int = 3) -> str | None:
    """A title written inside the grid: among the first ``n`` rows, one whose only text is a single
    non-numeric cell that is not a unit line (typically a row merged across the table's width)."""
    for row in rows[:n]:
        texts = [c.text.strip() for c in row if c.text.strip()]
        if len(texts) == 1 and not NUMERIC_RE.match(texts[0]) and not is_unit_line(texts[0]) \
                and len(texts[0]) >= 4 and len(row) > 1:
            return texts[0]
        if len(texts) > 1:
            return None
    return None


def paragraphs_before(blocks: list[Block], lookback: int = 3) -> list[str]:
    """Texts of the paragraphs directly before a table, nearest first, stopping at the previous table: where
    a table's title and 单位：万元 line are written when they are not inside the grid."""
    out: list[str] = []
    for block in reversed(blocks[-lookback:]):
        if not isinstance(block, Paragraph):
            break
        out.append(block.text)
    return out


def is_cjk(ch: str) -> bool:
    """CJK ideographs and full-width punctuation: between two of these a line break is not a space."""
    return bool(ch) and ("\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")


def reraise_fatal(exc: BaseException) -> None:
    """Readers turn a parsing library's own exceptions into IngestError, but a timeout (a caller's alarm) or
    exhausted memory is not a property of the file and must reach the caller unchanged."""
    if isinstance(exc, (TimeoutError, MemoryError)):
        raise exc
