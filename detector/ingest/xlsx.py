"""XLSX (openpyxl, read-only) and legacy XLS (xlrd): one Table per non-empty sheet.

Cell positions are the sheet's own (row 0 = Excel row 1, col 0 = column A), so an auditor can find any cell a
finding cites. Numbers are kept as text as Excel shows them: the number format's decimals, thousands separator
and percent sign are applied, so 107.54 stored as 107.5400000001 with format 0.00 reads "107.54" — the digits
written are what the rounding intervals of the checks are derived from. Formulas give their cached values.

Why read-only mode: it streams rows, so a workbook with a huge styled-but-empty sheet does not load every
cell object. Read-only worksheets do not expose merged ranges, so those are read from the sheet XML directly.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import warnings
import zipfile
import zlib
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import regex as re
from lxml import etree

from detector.errors import IngestError
from detector.ingest import FileContent
from detector.ingest.grid import (
    MAX_GRID_CELLS,
    Span,
    build_grid,
    check_zip,
    find_unit,
    head_texts,
    reraise_fatal,
    title_row,
)
from detector.ingest.sniff import OLE_MAGIC
from detector.model import Block, Table

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
WORD_STREAM = "WordDocument".encode("utf-16-le")
FORMAT_NOISE_RE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
Cells = dict[tuple[int, int], str]
Merge = tuple[int, int, int, int]  # first row, first col, last row, last col (0-based, inclusive)


def read(data: bytes, file: str) -> FileContent:
    if data[:8] == OLE_MAGIC:
        sheets = _read_xls(data, file)
        fmt = "xls"
    else:
        check_zip(data, file, "XLSX")
        sheets = _read_xlsx(data, file)
        fmt = "xlsx"
    blocks: list[Block] = []
    for name, cells, merges in sheets:
        table = _table(name, cells, merges, file, len(blocks))
        if table is not None:
            blocks.append(table)
    return FileContent(blocks=blocks, meta={"format": fmt, "sheets": [s[0] for s in sheets], "pages": None})


def _table(name: str, cells: Cells, merges: list[Merge], file: str, index: int) -> Table | None:
    if not any(t.strip() for t in cells.values()):
        return None
    cells, strays = _without_strays(cells)
    n_rows = max(r for r, _ in cells) + 1
    n_cols = max(c for _, c in cells) + 1
    # A merge anchored on a written cell may reach past the last written cell (a label merged down two rows
    # at the bottom of the table): the grid extends to it, unless that would be absurdly large (whole-column
    # merges), in which case merges are cut at the data's edge.
    reach = [(r1 + 1, c1 + 1) for r0, c0, r1, c1 in merges if (r0, c0) in cells]
    wide_rows = max([n_rows, *(r for r, _ in reach)])
    wide_cols = max([n_cols, *(c for _, c in reach)])
    if wide_rows * wide_cols <= MAX_GRID_CELLS:
        n_rows, n_cols = wide_rows, wide_cols
    merges = [(r0, c0, min(r1, n_rows - 1), min(c1, n_cols - 1)) for r0, c0, r1, c1 in merges
              if r0 < n_rows and c0 < n_cols]
    spans = {(r, c): Span(row=r, col=c, text=t) for (r, c), t in cells.items()}
    for r0, c0, r1, c1 in merges:
        anchor = spans.setdefault((r0, c0), Span(row=r0, col=c0, text=""))
        anchor.rowspan, anchor.colspan = r1 - r0 + 1, c1 - c0 + 1
    # Values hidden under a merge are not shown by Excel; anchors come first so build_grid drops them.
    ordered = sorted(spans.values(), key=lambda s: (s.rowspan * s.colspan == 1, s.row, s.col))
    rows = build_grid(ordered, n_rows, file=file)
    title = title_row(rows, n=5) or name
    notes = [f"工作表 / sheet: {name}"]
    if strays:
        from openpyxl.utils.cell import get_column_letter

        shown = "、".join(f"{get_column_letter(c + 1)}{r + 1}" for r, c in strays[:5])
        notes.append(f"远离表格的零散单元格已忽略 / stray cells far from the table ignored: {shown}"
                     + (f" 等 {len(strays)} 个" if len(strays) > 5 else ""))
    return Table(index=index, rows=rows, title=title, file=file, unit=find_unit(*head_texts(rows)), notes=notes)


def _without_strays(cells: Cells) -> tuple[Cells, list[tuple[int, int]]]:
    """A sheet whose written cells span more positions than a grid may hold (a stray value in XFD1048576
    beside a 20-row table) keeps the cells before the widest empty gap of rows or columns, repeatedly, until
    the rest fits; the cells beyond are returned as strays. A sheet that is large without such a gap is left
    whole (and refused as too large by the grid)."""
    strays: list[tuple[int, int]] = []
    while (max(r for r, _ in cells) + 1) * (max(c for _, c in cells) + 1) > MAX_GRID_CELLS:
        gaps = []
        for axis in (0, 1):
            used = sorted({pos[axis] for pos in cells})
            gaps += [(b - a, axis, a) for a, b in zip(used, used[1:], strict=False)]
        width, axis, edge = max(gaps, default=(0, 0, 0))
        if width < 2:
            break
        strays += sorted(pos for pos in cells if pos[axis] > edge)
        cells = {pos: t for pos, t in cells.items() if pos[axis] <= edge}
    return cells, strays


# ------------------------------------------------------------------------------------------------- values


def format_number(value: float | int, number_format: str | None) -> str:
    """A number as Excel displays it under ``number_format`` (decimals, thousands separator, percent); under
    General, the shortest decimal that round-trips the float (no spurious binary digits)."""
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return str(value)
    if not d.is_finite():
        return str(value)
    section = FORMAT_NOISE_RE.sub("", (number_format or "General").split(";")[0])
    if not re.search(r"[0#?]", section) or "E" in section.upper():
        text = format(d, "f")
        return text[:-2] if text.endswith(".0") else text
    percent = "%" in section
    if percent:
        d *= 100
    integer, _, fraction = section.partition(".")
    decimals = len(re.match(r"[0#?]*", fraction).group(0)) if fraction else 0
    try:
        q = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context allows: show it unrounded
        q = d
    text = format(q, ",f" if "," in integer else "f")
    return text + ("%" if percent else "")


def format_value(value: object, number_format: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(value, number_format)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    return str(value).strip()


# -------------------------------------------------------------------------------------------------- .xlsx


def _read_xlsx(data: bytes, file: str) -> list[tuple[str, Cells, list[Merge]]]:
    import openpyxl

    try:
        with warnings.catch_warnings():  # openpyxl warns about features it drops (validations, bad names):
            warnings.simplefilter("ignore")  # noise for a user, irrelevant to the figures
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError/ValueError/lxml errors for broken workbooks
        reraise_fatal(exc)
        raise IngestError(f"XLSX 文件已损坏或格式不符 / broken XLSX ({type(exc).__name__}: {exc})", path=file,
                          code="corrupt") from exc
    merges = _merged_ranges(data)
    sheets: list[tuple[str, Cells, list[Merge]]] = []
    try:
        for ws in wb.worksheets:
            # The stored dimension (A1:XFD1048576 after whole-column formatting) would make openpyxl pad every
            # row to it; without it, only the cells present in the XML are produced.
            ws.reset_dimensions()
            cells: Cells = {}
            for row in ws.iter_rows():
                for cell in row:
                    if getattr(cell, "value", None) is None:
                        continue
                    text = format_value(cell.value, cell.number_format)
                    if text:
                        cells[(cell.row - 1, cell.column - 1)] = text
            sheets.append((ws.title, cells, merges.get(ws.title, [])))
    except IngestError:
        raise
    except Exception as exc:
        reraise_fatal(exc)
        raise IngestError(f"XLSX 工作表无法读取 / unreadable XLSX sheet ({type(exc).__name__}: {exc})", path=file,
                          code="corrupt") from exc
    finally:
        wb.close()
    return sheets


def _merged_ranges(data: bytes) -> dict[str, list[Merge]]:
    """Sheet name → merged ranges, from ``xl/workbook.xml``, its relationships and each sheet's
    ``<mergeCell ref="A1:C1"/>``. Best effort: a workbook openpyxl could open but whose merges cannot be read
    still yields its cells."""
    from openpyxl.utils.cell import range_boundaries

    out: dict[str, list[Merge]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            book = etree.fromstring(zf.read("xl/workbook.xml"), parser)
            rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"), parser)
            targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{PKG_REL}Relationship")}
            for sheet in book.iter(f"{MAIN}sheet"):
                target = targets.get(sheet.get(f"{REL}id"), "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                if path not in zf.namelist():
                    continue
                ranges: list[Merge] = []
                with zf.open(path) as fh:
                    for _, el in etree.iterparse(fh, tag=f"{MAIN}mergeCell", resolve_entities=False):
                        c0, r0, c1, r1 = range_boundaries(el.get("ref", ""))
                        if None not in (c0, r0, c1, r1):
                            ranges.append((r0 - 1, c0 - 1, r1 - 1, c1 - 1))
                        el.clear()
                out[sheet.get("name", "")] = ranges
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError,
            EOFError, OSError, etree.LxmlError):
        return out
    return out


# --------------------------------------------------------------------------------------------------- .xls


def _read_xls(data: bytes, file: str) -> list[tuple[str, Cells, list[Merge]]]:
    if ENCRYPTED_STREAM in data:
        raise IngestError("文件受密码保护，请先取消密码 / password-protected Office file", path=file,
                          code="encrypted")
    if WORD_STREAM in data:
        raise IngestError("旧版 Word（.doc）不受支持，请另存为 .docx / legacy .doc is not supported", path=file,
                          code="unsupported")
    import xlrd

    try:
        try:
            book = xlrd.open_workbook(file_contents=data, formatting_info=True, logfile=io.StringIO())
        except NotImplementedError:  # some BIFF versions have no formatting records xlrd can read
            book = xlrd.open_workbook(file_contents=data, logfile=io.StringIO())
        return [_xls_sheet(book, sheet) for sheet in book.sheets()]
    except IngestError:
        raise
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct.error, IndexError on broken files
        reraise_fatal(exc)
        if "encrypted" in str(exc).lower():
            raise IngestError("文件受密码保护，请先取消密码 / password-protected workbook", path=file,
                              code="encrypted") from exc
        raise IngestError(f"XLS 文件已损坏或无法识别 / broken XLS ({type(exc).__name__}: {exc})", path=file,
                          code="corrupt") from exc


def _xls_sheet(book, sheet) -> tuple[str, Cells, list[Merge]]:
    import xlrd

    cells: Cells = {}
    for r in range(sheet.nrows):
        for c in range(sheet.ncols):
            ctype = sheet.cell_type(r, c)
            value = sheet.cell_value(r, c)
            if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                continue
            if ctype == xlrd.XL_CELL_NUMBER:
                text = format_number(value, _xls_format(book, sheet, r, c))
            elif ctype == xlrd.XL_CELL_DATE:
                try:
                    text = format_value(xlrd.xldate.xldate_as_datetime(value, book.datemode), None)
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    text = format_number(value, None)
            elif ctype == xlrd.XL_CELL_BOOLEAN:
                text = "TRUE" if value else "FALSE"
            elif ctype == xlrd.XL_CELL_ERROR:
                text = xlrd.error_text_from_code.get(value, "#ERR")
            else:
                text = str(value).strip()
            if text:
                cells[(r, c)] = text
    merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in getattr(sheet, "merged_cells", [])]
    return sheet.name, cells, merges


def _xls_format(book, sheet, r: int, c: int) -> str | None:
    try:
        xf = book.xf_list[sheet.cell_xf_index(r, c)]
        return book.format_map[xf.format_key].format_str
    except (IndexError, KeyError, AttributeError, NotImplementedError):
        return None
