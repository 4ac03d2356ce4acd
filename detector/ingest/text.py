"""Plain text, including the "one cell per line" exports of word-processor tables.

In those exports a table cell is a line that starts with a tab, and a blank line ends a row; everything else
is narrative. The encoding is detected (BOM, UTF-16 without BOM, UTF-8, GB18030, Big5), never assumed.
Offsets of paragraphs refer to the decoded text after line endings are normalised to ``\\n``.
"""

from __future__ import annotations

import codecs
import contextlib

import regex as re

from detector.errors import IngestError
from detector.ingest import SURROGATE, FileContent
from detector.ingest.sniff import utf16_without_bom
from detector.model import Block, Cell, Paragraph, Table

UNIT_RE = re.compile(r"单位[:：]\s*(万元|千元|亿元|元)")
BOOKMARK_RE = re.compile(r"\[bookmark:[^\]]*\]")


def read(data: bytes, file: str) -> FileContent:
    text, encoding = decode(data, file)
    blocks = parse_text(text, file)
    return FileContent(blocks=blocks, meta={"encoding": encoding, "chars": len(text)},
                       no_surrogates=SURROGATE.search(text) is None)


# ------------------------------------------------------------------------------------------------ decoding


def decode(data: bytes, file: str = "") -> tuple[str, str]:
    """Decode bytes to text, returning (text, encoding name). NULs become spaces; line endings become \n.

    A file that is almost all valid in its encoding (one damaged byte, a UTF-16 file cut at an odd length)
    is read with the bad bytes as U+FFFD rather than refused, or worse, re-guessed as another encoding."""
    text: str | None = None
    utf = _byte_order(data)
    if utf is None:  # most files: UTF-8 decoded once, not once to detect the encoding and once to read
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("utf-8")
    if text is not None:
        encoding = "utf-8"
    else:
        try:
            encoding = utf or detect_encoding(data)
        except IngestError as exc:
            exc.path = exc.path or file
            raise
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            text = data.decode(encoding, errors="replace")
            if not _few_errors(text, len(data)):
                raise IngestError(f"无法识别文本编码 / cannot decode text ({exc})", path=file, code="encoding") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", " ")
    return text, encoding


def _few_errors(text: str, n_bytes: int) -> bool:
    """At most a handful of undecodable sequences: damage, not a wrong encoding (which fails everywhere)."""
    return text.count("\ufffd") <= max(4, n_bytes // 2000)


def _byte_order(data: bytes) -> str | None:
    """The UTF encoding a byte-order mark or the UTF-16 byte pattern tells, before any decoding is tried."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    return utf16_without_bom(data[:65536])


def detect_encoding(data: bytes) -> str:
    utf = _byte_order(data)
    if utf:
        return utf
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _few_errors(data.decode("utf-8", errors="replace"), len(data)):
        return "utf-8"
    return _gb_or_big5(data)


def _gb_or_big5(data: bytes) -> str:
    """GB18030 decodes almost any byte string, so choose by how common the decoded characters are in each
    standard's first level (GB2312 level 1 / Big5 level 1 hold the everyday characters)."""
    scores = {}
    for enc in ("gb18030", "big5"):
        text = data.decode(enc, errors="replace")
        if _few_errors(text, len(data)):
            scores[enc] = _common_share(text, enc)
    if not scores:
        raise IngestError("无法识别文本编码（非 UTF-8/GB18030/Big5）/ unknown text encoding", code="encoding")
    return max(scores, key=lambda k: (scores[k], k == "gb18030"))


def _common_share(text: str, enc: str) -> float:
    cjk = [ch for ch in text[:20000] if "\u4e00" <= ch <= "\u9fff"]
    if not cjk:
        return 0.0
    common = 0
    for ch in cjk:
        try:
            b = ch.encode("gb2312" if enc == "gb18030" else "big5")
        except UnicodeEncodeError:
            continue
        if (enc == "gb18030" and 0xB0 <= b[0] <= 0xD7) or (enc == "big5" and 0xA4 <= b[0] <= 0xC6):
            common += 1
    return common / len(cjk)


# ------------------------------------------------------------------------------------------------- parsing


# a run of consecutive cell lines (each opens with a tab): one table row, found in C rather than line by line
ROW_RE = re.compile(r"^\t[^\n]*(?:\n\t[^\n]*)*", re.M)


def parse_text(text: str, file: str = "") -> list[Block]:
    """Split text into paragraphs and cell-per-line tables, keeping each paragraph's offset.

    Why rows are found by one pattern: most lines of a table export are cells, and a Python loop over every
    line cost more than the rest of reading the file; only the lines between rows (narrative, blank lines that
    end a row) are walked one by one."""
    blocks: list[Block] = []
    rows: list[list[str]] = []
    title: str | None = None  # the paragraph before the table rows, as written (bookmarks removed when used)

    def between(start: int, end: int) -> None:
        """The lines of text[start:end] (no cell line among them): blank lines, or paragraphs that end a table."""
        nonlocal rows, title
        offset = start
        for line in text[start:end].split("\n"):
            line_start = offset
            offset += len(line) + 1
            if not line.strip():
                continue
            if rows:
                blocks.append(_make_table(rows, title, file, len(blocks)))
                rows = []
            blocks.append(Paragraph(index=len(blocks), text=line, file=file, offset=line_start))
            title = line

    pos = 0
    for m in ROW_RE.finditer(text):
        start, end = m.span()
        if start > pos:
            between(pos, start - 1)  # up to the line break before the row
        rows.append([line[1:].strip() for line in m.group().split("\n")])
        pos = end + 1  # past the line break after the row
    if pos <= len(text):
        between(pos, len(text))
    if rows:
        blocks.append(_make_table(rows, title, file, len(blocks)))
    return blocks


def _make_table(rows: list[list[str]], title: str | None, file: str, index: int) -> Table:
    grid = [[Cell(r, c, t) for c, t in enumerate(cells)] for r, cells in enumerate(rows)]
    unit = None
    for cells in rows[:6]:
        for t in cells:
            m = UNIT_RE.search(t) if "单位" in t else None  # the pattern opens with 单位: most cells lack it
            if m:
                unit = m.group(1)
                break
        if unit:
            break
    if title is not None:
        title = BOOKMARK_RE.sub("", title).strip()
    return Table(index=index, rows=grid, title=title, file=file, unit=unit)
