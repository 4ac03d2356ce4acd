"""One PDF page as geometry: glyphs with boxes and ruling segments, in display coordinates.

Why our own extraction instead of pdfplumber: pdfium (via pypdfium2) gives every character with its box in a
few milliseconds per page, against ~100 ms for pdfminer's layout analysis. Everything downstream (lines,
paragraphs, table grids) needs only two things per page — where each character is and where the ruling lines
are — so this module reduces a page to exactly that and hides pdfium's C API from the rest of the reader.

Coordinates are *display* coordinates: the page as a reader sees it after ``/Rotate``, origin at the top-left,
``top`` growing downwards, in PDF points. Landscape tables stored as rotated portrait pages therefore come out
upright.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# Characters that carry no ink: dropped here, spacing is rebuilt from the gaps between glyphs.
_BLANK = {0, 0x09, 0x0A, 0x0D, 0x20, 0xA0, 0x3000, 0xFEFF, 0xFFFE, 0x02}
# A ruling is a line or a filled rectangle thinner than this (points) in one direction.
THIN = 2.5
# Axis-aligned tolerance for a stroked line segment (points of drift allowed along the other axis).
AXIS_TOL = 1.0
MIN_RULING = 3.0


@dataclass(slots=True)
class Glyph:
    """One character and its box (display coordinates, points)."""

    ch: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # height of the loose box (ascent + descent), the line height the glyph needs

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class Ruling:
    """An axis-aligned line segment: ``horizontal`` at ``pos`` (a y) spanning [lo, hi] in x, or vertical at
    ``pos`` (an x) spanning [lo, hi] in y."""

    horizontal: bool
    pos: float
    lo: float
    hi: float


@dataclass
class PageGeometry:
    number: int  # 1-based
    width: float
    height: float
    glyphs: list[Glyph]
    rulings: list[Ruling]
    images: int = 0


class _Transform:
    """Page space (origin bottom-left, unrotated) → display space (origin top-left, after /Rotate)."""

    def __init__(self, width: float, height: float, rotation: int) -> None:
        self.w, self.h, self.rot = width, height, rotation % 360

    @property
    def display_size(self) -> tuple[float, float]:
        return (self.h, self.w) if self.rot in (90, 270) else (self.w, self.h)

    def point(self, x: float, y: float) -> tuple[float, float]:
        if self.rot == 90:
            return y, x
        if self.rot == 180:
            return self.w - x, y
        if self.rot == 270:
            return self.h - y, self.w - x
        return x, self.h - y

    def box(self, left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
        """(x0, top, x1, bottom) in display space of a page-space box."""
        ax, ay = self.point(left, bottom)
        bx, by = self.point(right, top)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def read_page(page: pdfium.PdfPage, number: int) -> PageGeometry:
    """Glyphs and rulings of one page."""
    left, bottom, right, top = page.get_mediabox()
    tf = _Transform(right - left, top - bottom, page.get_rotation())
    # pdfium reports boxes relative to the media box origin; shift so that the page starts at 0.
    width, height = tf.display_size
    # Content placed outside the page is clipped away by every viewer (WPS leaves the next table there).
    glyphs = [g for g in _glyphs(page, tf, left, bottom) if 0 <= g.cx <= width and 0 <= g.cy <= height]
    rulings, images = _rulings(page, tf, left, bottom)
    rulings = [r for r in rulings if r.lo < (width if r.horizontal else height) and r.hi > 0
               and 0 <= r.pos <= (height if r.horizontal else width)]
    return PageGeometry(number=number, width=width, height=height, glyphs=glyphs, rulings=rulings, images=images)


def _glyphs(page: pdfium.PdfPage, tf: _Transform, ox: float, oy: float) -> list[Glyph]:
    textpage = page.get_textpage()
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    out: list[Glyph] = []
    try:
        n = pdfium_c.FPDFText_CountChars(raw)
        for i in range(max(n, 0)):
            code = pdfium_c.FPDFText_GetUnicode(raw, i)
            if code in _BLANK or pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
                continue
            if not pdfium_c.FPDFText_GetLooseCharBox(raw, i, ctypes.byref(rect)):
                continue
            x0, y0, x1, y1 = tf.box(rect.left - ox, rect.bottom - oy, rect.right - ox, rect.top - oy)
            if x1 - x0 <= 0 and y1 - y0 <= 0:
                continue
            try:
                ch = chr(code)
            except (ValueError, OverflowError):
                continue
            # The loose box's height, not FPDFText_GetFontSize: exporters scale text by the text matrix, and
            # the nominal size then reads 1.0 or 319.0 for ordinary 16-point text.
            out.append(Glyph(ch, x0, x1, y0, y1, y1 - y0))
    finally:
        textpage.close()
    return out


def _rulings(page: pdfium.PdfPage, tf: _Transform, ox: float, oy: float) -> tuple[list[Ruling], int]:
    """Axis-aligned segments of the page's top-level path objects. Charts live in form XObjects and are not
    descended into: their axes and bars are not table rulings."""
    out: list[Ruling] = []
    images = 0
    # The raw API, not page.get_objects(): a Word table page has thousands of path objects and the Python
    # wrapper per object costs more than reading its bounds.
    bounds = [ctypes.c_float() for _ in range(4)]
    refs = [ctypes.byref(v) for v in bounds]
    for i in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            images += 1
            continue
        if kind != pdfium_c.FPDF_PAGEOBJ_PATH or not _inked(obj) or not pdfium_c.FPDFPageObj_GetBounds(obj, *refs):
            continue
        left, bottom, right, top = (v.value for v in bounds)
        x0, y0, x1, y1 = tf.box(left - ox, bottom - oy, right - ox, top - oy)
        w, h = x1 - x0, y1 - y0
        if w < THIN and h < THIN:
            continue
        if h < THIN:
            out.append(Ruling(True, (y0 + y1) / 2, x0, x1))
        elif w < THIN:
            out.append(Ruling(False, (x0 + x1) / 2, y0, y1))
        else:
            out.extend(_path_segments(obj, tf, ox, oy))
    return out, images


def _inked(obj: pdfium_c.FPDF_PAGEOBJECT) -> bool:
    """Does the path leave ink? Word paints white rectangles over cell padding; their edges, inset from
    the real borders, would otherwise cut merged cells into pieces."""
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill_mode), ctypes.byref(stroke)):
        return True
    rgba = [ctypes.c_uint() for _ in range(4)]
    refs = [ctypes.byref(v) for v in rgba]
    if stroke.value and pdfium_c.FPDFPageObj_GetStrokeColor(obj, *refs) and not _white(rgba):
        return True
    return bool(fill_mode.value and pdfium_c.FPDFPageObj_GetFillColor(obj, *refs) and not _white(rgba))


def _white(rgba: list[ctypes.c_uint]) -> bool:
    r, g, b, a = (v.value for v in rgba)
    return a == 0 or min(r, g, b) >= 245


def _path_segments(raw: pdfium_c.FPDF_PAGEOBJECT, tf: _Transform, ox: float, oy: float) -> list[Ruling]:
    """The straight axis-aligned pieces of a larger path (cell rectangles, polylines of grid lines)."""
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(raw, ctypes.byref(m)):
        m.a, m.b, m.c, m.d, m.e, m.f = 1, 0, 0, 1, 0, 0
    xs, ys = ctypes.c_float(), ctypes.c_float()
    out: list[Ruling] = []
    cur: tuple[float, float] | None = None
    start: tuple[float, float] | None = None

    def add(p: tuple[float, float], q: tuple[float, float]) -> None:
        (ax, ay), (bx, by) = p, q
        if abs(ay - by) <= AXIS_TOL and abs(ax - bx) >= MIN_RULING:
            out.append(Ruling(True, (ay + by) / 2, min(ax, bx), max(ax, bx)))
        elif abs(ax - bx) <= AXIS_TOL and abs(ay - by) >= MIN_RULING:
            out.append(Ruling(False, (ax + bx) / 2, min(ay, by), max(ay, by)))

    for i in range(pdfium_c.FPDFPath_CountSegments(raw)):
        seg = pdfium_c.FPDFPath_GetPathSegment(raw, i)
        if not seg or not pdfium_c.FPDFPathSegment_GetPoint(seg, ctypes.byref(xs), ctypes.byref(ys)):
            continue
        px, py = xs.value, ys.value
        pt = tf.point(m.a * px + m.c * py + m.e - ox, m.b * px + m.d * py + m.f - oy)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = pt
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO and cur is not None:
            add(cur, pt)
        cur = pt
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
            add(pt, start)
            cur = start
    return out
