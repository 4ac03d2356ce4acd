"""HTML (saved web pages, "Save as web page" from Word/Excel): paragraphs and tables in document order.

The stdlib parser only reports tags, so a forgiving tree is built first (implicit closes of ``p``, ``li``,
``td``/``th``, ``tr``; stray end tags ignored), then walked. Why a tree rather than a streaming pass: many
government pages wrap the whole page in a layout table. A table whose cells hold other tables is layout, and
its content is walked as ordinary flow; only tables without nested tables are data tables. ``<script>``,
``<style>`` and the ``<head>`` are dropped; entities are decoded by the parser.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from html.parser import HTMLParser

import regex as re

from detector.errors import IngestError
from detector.ingest import FileContent
from detector.ingest.grid import (
    Span,
    build_grid,
    find_unit,
    head_texts,
    is_cjk,
    is_unit_line,
    paragraphs_before,
    title_row,
)
from detector.ingest.text import detect_encoding
from detector.model import Block, Paragraph, Table

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
        "wbr"}
DROP = {"script", "style", "noscript", "template", "head", "svg", "math", "object", "iframe", "select"}
BLOCK = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "section",
         "article", "header", "footer", "main", "nav", "aside", "blockquote", "pre", "center", "form",
         "address", "figure", "figcaption", "fieldset", "body", "html", "hr", "caption", "table", "tr", "td", "th"}
ROW_GROUPS = {"thead", "tbody", "tfoot"}
# An implicit close never reaches past these: a nested list's first <li> must not close the outer <li>.
SCOPES = {"li": ("ul", "ol", "table"), "dt": ("dl", "table"), "dd": ("dl", "table"), "p": ("table", "td", "th")}
MAX_COLSPAN = 1000  # the HTML standard's own limit
MAX_DEPTH = 400  # deeper nesting is garbage; flattening it keeps the walk iterative-safe
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
SPACE_RE = re.compile(r"[ \t\r\n\f\xa0]+")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)


def read(data: bytes, file: str) -> FileContent:
    text, encoding = decode(data, file)
    root = parse_tree(text)
    walker = _Walker(file)
    walker.flow(root)
    walker.flush()
    return FileContent(blocks=walker.blocks, meta={"encoding": encoding, "pages": None})


# ------------------------------------------------------------------------------------------------ decoding


def decode(data: bytes, file: str = "") -> tuple[str, str]:
    """Decode by BOM, then the page's declared charset, then detection. A page no encoding reads cleanly is
    read as a browser would, with U+FFFD for the bad bytes, in the declared (else detected, else UTF-8)
    encoding — a few damaged bytes must not lose the page."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [detect_encoding(data)]
    else:
        m = CHARSET_RE.search(data[:4096])
        declared = _normalise_charset(m.group(1).decode("ascii")) if m else None
        try:
            detected = detect_encoding(data)
        except IngestError:  # no encoding reads it without errors
            detected = None
        candidates = [e for e in (declared, detected) if e]
    for enc in candidates:
        try:
            return data.decode(enc).lstrip("\ufeff"), enc
        except (UnicodeDecodeError, LookupError):
            continue
    enc = candidates[0] if candidates else "utf-8"
    return data.decode(enc, errors="replace").lstrip("\ufeff"), enc


def _normalise_charset(name: str) -> str | None:
    name = name.lower()
    if name in ("gb2312", "gbk", "x-gbk", "gb_2312-80", "cp936"):
        return "gb18030"  # a superset: pages labelled gb2312 routinely contain GBK characters
    if name in ("big5", "big5-hkscs", "x-x-big5"):
        return "big5hkscs"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# -------------------------------------------------------------------------------------------- tree building


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack: list[Node] = [self.root]
        self.dropping = 0  # depth inside script/style/head…

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropping:
            if tag in DROP:
                self.dropping += 1
            return
        if tag in DROP:
            self.dropping = 1
            return
        self._implicit_close(tag)
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID and len(self.stack) < MAX_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropping or tag in DROP:
            return
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag in DROP:
                self.dropping -= 1
            return
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
            if self.stack[i].tag == "table" and tag != "table":
                return  # an end tag never closes across a table boundary

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.stack[-1].children.append(data)

    def _implicit_close(self, tag: str) -> None:
        """What browsers do: a new cell closes the open cell, a new row the open row, a block the open ``p``."""
        closes = {"td": ("td", "th"), "th": ("td", "th"), "tr": ("tr", "td", "th"), "li": ("li",),
                  "thead": ("thead", "tbody", "tfoot", "tr", "td", "th"), "dt": ("dt", "dd"), "dd": ("dt", "dd")}
        closes["tbody"] = closes["tfoot"] = closes["thead"]
        targets = closes.get(tag, ("p",) if tag in BLOCK else ())
        scope = SCOPES.get(tag, ("table",))
        cut = None  # the outermost open target inside the scope: a new row closes the open cell *and* row
        for i in range(len(self.stack) - 1, 0, -1):
            node_tag = self.stack[i].tag
            if node_tag in scope:
                break
            if node_tag in targets:
                cut = i
        if cut is not None:
            del self.stack[cut:]


def parse_tree(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# ------------------------------------------------------------------------------------------------- walking


def normalise_space(text: str) -> str:
    """Collapse whitespace as a browser does, but drop a line break between two CJK characters (source
    wrapping inside 一般公共预算 must not split the word)."""

    def repl(m: re.Match) -> str:
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if "\n" in m.group(0) and is_cjk(before) and is_cjk(after):
            return ""
        return " "

    return SPACE_RE.sub(repl, text).strip()


def inline_text(node: Node) -> str:
    """All text under ``node`` (a table cell), ``<br>`` and blocks as line breaks, then normalised."""
    parts: list[str] = []
    stack: list[Node | str] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        if item.tag == "br" or (item.tag in BLOCK and item is not node):
            parts.append("\n")
        stack.extend(reversed(item.children))
    return normalise_space("".join(parts))


def _has_table(node: Node) -> bool:
    stack = list(node.children)
    while stack:
        item = stack.pop()
        if isinstance(item, Node):
            if item.tag == "table":
                return True
            stack.extend(item.children)
    return False


def _int_attr(node: Node, name: str, limit: int) -> int:
    try:
        return min(max(int(re.match(r"\s*(\d+)", node.attrs.get(name, "1")).group(1)), 1), limit)
    except (AttributeError, ValueError):
        return 1


def table_rows(table: Node) -> list[Node]:
    """The table's own rows, in document order, looking through thead/tbody/tfoot but not nested tables."""
    rows: list[Node] = []
    stack: list[Node | str] = list(reversed(table.children))
    while stack:
        item = stack.pop()
        if isinstance(item, str) or item.tag == "table":
            continue
        if item.tag == "tr":
            rows.append(item)
        elif item.tag in ROW_GROUPS or item.tag not in ("td", "th"):
            stack.extend(reversed(item.children))
    return rows


def table_spans(table: Node) -> tuple[list[Span], int]:
    """Place each cell at the first free column of its row, skipping positions taken by rowspans above."""
    rows = table_rows(table)
    taken: set[tuple[int, int]] = set()
    spans: list[Span] = []
    for r, tr in enumerate(rows):
        col = 0
        for td in (c for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")):
            while (r, col) in taken:
                col += 1
            rowspan = _int_attr(td, "rowspan", len(rows) - r)
            colspan = _int_attr(td, "colspan", MAX_COLSPAN)
            spans.append(Span(row=r, col=col, text=inline_text(td), rowspan=rowspan, colspan=colspan))
            taken.update((rr, cc) for rr in range(r, r + rowspan) for cc in range(col, col + colspan))
            col += colspan
    return spans, len(rows)


class _Walker:
    """Emit paragraphs and data tables in document order."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.blocks: list[Block] = []
        self.buffer: list[str] = []

    def flush(self) -> None:
        text = normalise_space("".join(self.buffer))
        self.buffer = []
        if text:
            self.blocks.append(Paragraph(index=len(self.blocks), text=text, file=self.file))

    def flow(self, root: Node) -> None:
        stack: list[Node | str | None] = [root]  # None marks the end of a block element
        while stack:
            item = stack.pop()
            if item is None:
                self.flush()
            elif isinstance(item, str):
                self.buffer.append(item)
            elif item.tag == "br":
                self.flush()
            elif item.tag == "table" and not _has_table(item):
                self.flush()
                self._table(item)
            else:
                if item.tag in BLOCK:
                    self.flush()
                    stack.append(None)
                stack.extend(reversed(item.children))

    def _table(self, node: Node) -> None:
        spans, n_rows = table_spans(node)
        if not any(s.text for s in spans):
            return
        rows = build_grid(spans, n_rows, file=self.file)
        caption = next((inline_text(c) for c in node.children if isinstance(c, Node) and c.tag == "caption"), "")
        before = paragraphs_before(self.blocks)
        title = caption or next((p for p in before if not is_unit_line(p)), None) or title_row(rows)
        unit = find_unit(*head_texts(rows), caption, *before)
        self.blocks.append(Table(index=len(self.blocks), rows=rows, title=title or None, file=self.file, unit=unit))
