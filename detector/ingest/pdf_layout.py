"""Glyphs → lines → paragraphs: the narrative of a PDF as a reader would retype it.

Why this matters for gouji: a PDF has no paragraphs, only positioned characters. Word and WPS break lines
anywhere between two Chinese characters and keep numbers whole, so "与\\n上年相比增加 865.57 万元" and
"预算17123.19\\n万元" are everyday. Checks can only read a sentence whose keywords and numbers are whole again,
so wrapped lines are rejoined into paragraphs, and running heads, page numbers and page breaks are removed
from between them.

The decisions use geometry first (first-line indent, lines that stop short of the right margin, vertical gaps),
and the text only where geometry cannot tell (numbered headings, sentence-final punctuation).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

import regex as re

from detector.ingest.pdf_page import Glyph

# A new numbered item or heading: 一、 （一） (1) 1、 1. 1． 第一部分 附件 表一.
HEADING_RE = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+[、．.]|[（(]\s*[一二三四五六七八九十\d]+\s*[)）]|\d{1,2}\s*[、．.](?!\d)"
    r"|第[一二三四五六七八九十\d]+[部分章节条]|附件|附表|表[一二三四五六七八九十\d]+(?:\s|$)"
    r"|[①②③④⑤⑥⑦⑧⑨⑩])"
)
# Sentence-final punctuation: a line ending in one of these may end its paragraph.
TERMINAL = set("。；;！!？?：:")
# Page numbers and running heads: "- 3 -", "─ 1 ─", "第 3 页", "第3页 共20页", "3/20", "— 12 —".
PAGE_NO_RE = re.compile(
    r"^[\s\-—─－–·•]*(?:第\s*\d+\s*页(?:\s*[,，/／]?\s*共\s*\d+\s*页)?|\d+\s*[/／]\s*\d+|\d{1,4}|[ivxlcIVXLC]{1,6})"
    r"[\s\-—─－–·•]*$"
)
MARGIN_SHARE = 0.1  # the top and bottom 10 % of a page hold running heads and page numbers


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@dataclass
class Line:
    """Glyphs sharing a baseline, left to right, with their text (spaces rebuilt from gaps)."""

    glyphs: list[Glyph]
    text: str = ""
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    page: int = 0

    def finish(self) -> Line:
        g = self.glyphs
        g.sort(key=lambda q: q.x0)
        self.x0 = min(q.x0 for q in g)
        self.x1 = max(q.x1 for q in g)
        self.top = min(q.top for q in g)
        self.bottom = max(q.bottom for q in g)
        self.size = statistics.median(q.size for q in g)
        self.text = glyph_text(g)
        return self


def glyph_text(glyphs: list[Glyph]) -> str:
    """Text of glyphs in reading order, a space where the gap is wider than a third of the font size (two
    Chinese characters are never split by a space: justified lines spread them without meaning a break)."""
    parts: list[str] = []
    prev: Glyph | None = None
    for g in glyphs:
        if prev is not None:
            gap = g.x0 - prev.x1
            if gap > 0.33 * max(prev.size, g.size, 1.0) and not (is_cjk(prev.ch) and is_cjk(g.ch)):
                parts.append(" ")
        parts.append(g.ch)
        prev = g
    return "".join(parts)


def group_lines(glyphs: list[Glyph], page: int = 0) -> list[Line]:
    """Cluster glyphs into lines by their vertical centres, top to bottom.

    Sorting by centre keeps the pass linear; a glyph joins the current line while its centre stays within
    0.45 of a glyph height of the line's first centre, which tolerates mixed fonts (Latin digits in a
    different font than the Chinese around them) but not the next line."""
    if not glyphs:
        return []
    ordered = sorted(glyphs, key=lambda g: (g.cy, g.x0))
    lines: list[Line] = []
    cur: list[Glyph] = [ordered[0]]
    cy, height = ordered[0].cy, ordered[0].bottom - ordered[0].top
    for g in ordered[1:]:
        if g.cy - cy <= 0.45 * max(height, g.bottom - g.top, 1.0):
            cur.append(g)
        else:
            lines.append(Line(cur, page=page).finish())
            cur = [g]
            cy, height = g.cy, g.bottom - g.top
    lines.append(Line(cur, page=page).finish())
    return lines


# ------------------------------------------------------------------------------------------ running heads


def strip_running_heads(pages: list[tuple[float, list[Line]]]) -> list[list[Line]]:
    """Remove page numbers and running heads from each page's lines.

    ``pages`` is (page height, lines). A line is a running head when it sits in the top or bottom margin band
    and is a page number, or when its text (digits masked) recurs in the margin band of at least three pages
    (or of half the pages of a short file)."""
    masked: Counter[str] = Counter()
    for height, lines in pages:
        seen = {_mask(ln.text) for ln in lines if _in_margin(ln, height)}
        masked.update(seen)
    threshold = max(3, (len(pages) + 1) // 2) if len(pages) < 6 else 3
    out: list[list[Line]] = []
    for height, lines in pages:
        first = min(lines, key=lambda q: q.top) if lines else None
        last = max(lines, key=lambda q: q.bottom) if lines else None
        kept = []
        for ln in lines:
            edge = _in_margin(ln, height) or ln is first or ln is last
            if edge and PAGE_NO_RE.match(ln.text):
                continue
            if _in_margin(ln, height) and masked[_mask(ln.text)] >= threshold:
                continue
            kept.append(ln)
        out.append(kept)
    return out


def _in_margin(line: Line, height: float) -> bool:
    cy = (line.top + line.bottom) / 2
    return cy <= height * MARGIN_SHARE or cy >= height * (1 - MARGIN_SHARE)


def _mask(text: str) -> str:
    return re.sub(r"\d+", "#", "".join(text.split()))


# ------------------------------------------------------------------------------------------------ paragraphs


@dataclass
class Para:
    """A paragraph being rebuilt: its lines, and the page and position where it starts."""

    lines: list[Line] = field(default_factory=list)

    @property
    def page(self) -> int:
        return self.lines[0].page

    @property
    def top(self) -> float:
        return self.lines[0].top

    @property
    def text(self) -> str:
        return join_lines([ln.text for ln in self.lines])


def join_lines(texts: list[str]) -> str:
    """Join wrapped lines: nothing between them, except a space between two Latin letters (a word wrapped at
    a space). Digits are joined without a space so a number cut by the line break is whole again."""
    out = ""
    for t in texts:
        t = t.strip()
        if out and t and out[-1].isascii() and out[-1].isalpha() and t[0].isascii() and t[0].isalpha():
            out += " "
        out += t
    return out


@dataclass
class Margins:
    left: float
    right: float
    size: float
    gap: float  # usual distance between the tops of consecutive lines


def body_margins(lines: list[Line]) -> Margins | None:
    """The body text block's left and right edges and usual line pitch, learned from the file itself."""
    body = [ln for ln in lines if len(ln.text) >= 8]
    if not body:
        return None
    # The width of a Chinese character is the em of the body font: indents are counted in it.
    widths = [g.x1 - g.x0 for ln in body[:400] for g in ln.glyphs if is_cjk(g.ch)]
    size = statistics.median(widths) if widths else statistics.median(ln.size for ln in body) or 10.0
    lefts = Counter(round(ln.x0) for ln in body)
    top_count = lefts.most_common(1)[0][1]
    left = float(min(v for v, n in lefts.items() if n >= min(top_count, max(2, top_count // 4))))
    rights = sorted(ln.x1 for ln in body)
    right = rights[int(0.9 * (len(rights) - 1))]
    pitches = [b.top - a.top for a, b in zip(body, body[1:], strict=False)
               if a.page == b.page and 0 < b.top - a.top < 4 * size]
    gap = statistics.median(pitches) if pitches else 1.5 * size
    return Margins(left=left, right=right, size=size, gap=gap)


def starts_paragraph(prev: Line, line: Line, m: Margins) -> bool:
    """Does ``line`` start a new paragraph after ``prev``?

    New when: it is a numbered heading; it is indented (first-line indent of Chinese typesetting); the
    previous line stops short of the right margin after sentence-final punctuation, or far short of it (a
    heading or the last line of a paragraph); or a blank line's worth of space separates them on a page.
    Otherwise it is a wrapped continuation, also across a page break."""
    text = line.text.lstrip()
    if HEADING_RE.match(text):
        return True
    if line.x0 > m.left + 1.5 * m.size:
        return True
    short = prev.x1 < m.right - 1.5 * m.size
    prev_text = prev.text.rstrip()
    if short and prev_text and prev_text[-1] in TERMINAL:
        return True
    if prev.x1 < m.right - 8 * m.size and not _ends_mid_number(prev_text):
        return True
    if prev.page == line.page and line.top - prev.top > 1.8 * m.gap:
        return True
    return abs(line.size - prev.size) > 0.25 * max(line.size, prev.size)


def _ends_mid_number(text: str) -> bool:
    return bool(text) and (text[-1].isdigit() or text[-1] in ",，.")


def build_paragraphs(lines: list[Line], margins: Margins | None) -> list[Para]:
    """Group consecutive narrative lines (already in reading order, across pages) into paragraphs."""
    paras: list[Para] = []
    for ln in lines:
        if not ln.text.strip():
            continue
        if not paras or margins is None or starts_paragraph(paras[-1].lines[-1], ln, margins):
            paras.append(Para([ln]))
        else:
            paras[-1].lines.append(ln)
    return paras
