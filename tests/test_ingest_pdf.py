"""The PDF reader: paragraphs rebuilt from wrapped lines, ruled tables merged across pages, readable errors.

The small PDFs are drawn here with reportlab (STSong-Light, a CID font every reportlab ships), so each test
states exactly what the page holds: where lines wrap, where the page breaks, which header row repeats.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("reportlab")

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from detector.errors import IngestError  # noqa: E402
from detector.ingest import load, read_bytes  # noqa: E402
from detector.ingest import pdf as pdf_reader  # noqa: E402
from detector.model import Paragraph, Table  # noqa: E402

FONT = "STSong-Light"
SIZE = 12
LEFT, RIGHT = 72.0, 72.0 + 36 * SIZE  # a 36-character text block
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

HEADER = ["科目编码", "科目名称", "金额"]
ROWS = [
    ["201", "一般公共服务支出", "1,012.86"],
    ["20101", "人大事务", "1,012.86"],
    ["2010101", "行政运行", "708.30"],
    ["2010102", "一般行政管理事务", "120.00"],
    ["2010104", "人大会议", "80.00"],
    ["2010105", "人大立法", "35.00"],
    ["2010106", "人大监督", "20.00"],
    ["2010107", "人大代表履职能力提升", "19.56"],
    ["2010108", "代表工作", "30.00"],
    ["208", "社会保障和就业支出", "59.98"],
    ["20805", "行政事业单位养老支出", "59.98"],
    ["2080505", "机关事业单位基本养老保险缴费支出", "59.98"],
    ["221", "住房保障支出", "153.58"],
    ["22102", "住房改革支出", "153.58"],
    ["2210201", "住房公积金", "80.40"],
]
COLS = [72.0, 150.0, 380.0, 480.0]
ROW_H = 20.0


def _canvas(buf: io.BytesIO, **kw) -> canvas.Canvas:
    c = canvas.Canvas(buf, pagesize=A4, **kw)
    c.setFont(FONT, SIZE)
    return c


def _text(c: canvas.Canvas, x: float, y: float, s: str) -> None:
    c.setFont(FONT, SIZE)
    c.drawString(x, y, s)


def _footer(c: canvas.Canvas, n: int) -> None:
    _text(c, A4[0] / 2 - 12, 30, f"- {n} -")


def _table_rows(c: canvas.Canvas, top: float, rows: list[list[str]]) -> float:
    """Draw ruled rows from ``top`` (PDF y, downwards); return the y of the bottom border."""
    y = top
    c.setLineWidth(0.5)
    c.line(COLS[0], y, COLS[-1], y)
    for row in rows:
        wrapped = len(row[1]) > 12  # a label too long for its cell wraps inside it
        h = ROW_H * (2 if wrapped else 1)
        if wrapped:
            _text(c, COLS[1] + 3, y - 14, row[1][:12])
            _text(c, COLS[1] + 3, y - 14 - ROW_H, row[1][12:])
        else:
            _text(c, COLS[1] + 3, y - 14, row[1])
        _text(c, COLS[0] + 3, y - 14, row[0])
        _text(c, COLS[2] + 3, y - 14, row[2])
        for x in COLS:
            c.line(x, y, x, y - h)
        y -= h
        c.line(COLS[0], y, COLS[-1], y)
    return y


def narrative_and_split_table_pdf() -> bytes:
    """Page 1: a heading, a paragraph wrapped over three lines (a keyword and a number cut by the wraps),
    a second indented paragraph, then a table that continues on page 2 with its header row repeated.
    Page 2: the rest of the table and a closing paragraph. Page numbers at the bottom of both pages."""
    buf = io.BytesIO()
    c = _canvas(buf)
    y = A4[1] - 80
    _text(c, LEFT, y, "一、收支预算总体情况说明")
    y -= 24
    lines = [
        "本部门2019年度收入、支出预算总计1226.42万元，其中一般公共预",  # keyword cut: 一般公共预|算
        "算财政拨款支出1,012.86万元，与上年相比增加66.83万元，增长6.1",  # number cut: 6.1|9%
        "9%。主要原因是人员经费增加。",
    ]
    _text(c, LEFT + 2 * SIZE, y, lines[0])
    for s in lines[1:]:
        y -= 20
        _text(c, LEFT, y, s)
    y -= 20
    _text(c, LEFT + 2 * SIZE, y, "二、支出预算情况说明见下表。")
    y -= 40
    _text(c, LEFT + 80, y, "一般公共预算支出预算表")
    y -= 20
    _text(c, COLS[-1] - 70, y, "单位：万元")
    y -= 10
    _table_rows(c, y, [HEADER, *ROWS[:9]])
    _footer(c, 1)
    c.showPage()
    y = A4[1] - 80
    bottom = _table_rows(c, y, [HEADER, *ROWS[9:]])
    _text(c, LEFT + 2 * SIZE, bottom - 40, "三、以上支出均按规定程序安排。")
    _footer(c, 2)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_paragraphs_rejoined_and_page_numbers_dropped() -> None:
    content = read_bytes(narrative_and_split_table_pdf(), "sample.pdf")
    paras = [b for b in content.blocks if isinstance(b, Paragraph)]
    texts = [p.text for p in paras]
    assert texts[0] == "一、收支预算总体情况说明"
    body = texts[1]
    assert "一般公共预算财政拨款支出1,012.86万元" in body
    assert "增加66.83万元，增长6.19%。主要原因是人员经费增加。" in body
    assert texts[2] == "二、支出预算情况说明见下表。"
    assert texts[-1] == "三、以上支出均按规定程序安排。"
    assert not any("- 1 -" in t or "- 2 -" in t for t in texts)
    assert [p.page for p in paras] == [1, 1, 1, 2]
    # offsets address the file's narrative text: paragraphs joined by newlines
    narrative = "\n".join(texts)
    for p in paras:
        assert narrative[p.offset : p.offset + len(p.text)] == p.text
    assert content.meta["pages"] == 2


def test_table_split_over_two_pages_is_one_table() -> None:
    content = read_bytes(narrative_and_split_table_pdf(), "sample.pdf")
    tables = [b for b in content.blocks if isinstance(b, Table)]
    assert len(tables) == 1
    t = tables[0]
    assert t.title == "一般公共预算支出预算表"
    assert t.unit == "万元"
    assert t.page == 1
    assert t.text_rows() == [HEADER, *ROWS]  # header once, every row, wrapped label whole again
    assert [r[0].page for r in t.rows] == [1] * 10 + [2] * 6
    assert all(c.page == r[0].page for r in t.rows for c in r)
    assert all(c.row == i and c.col == j for i, r in enumerate(t.rows) for j, c in enumerate(r))
    # reading order: heading, paragraphs, the table, then the closing paragraph
    kinds = [b.kind for b in content.blocks]
    assert kinds == ["paragraph", "paragraph", "paragraph", "table", "paragraph"]
    assert [b.index for b in content.blocks] == list(range(len(content.blocks)))


def _ruled_rows(c: canvas.Canvas, top: float, rows: list[list[str]], cols: list[float], pad: float = 1) -> float:
    """Ruled one-line rows on columns ``cols``, text ``pad`` points inside each cell; the y of the bottom border."""
    y = top
    c.line(cols[0], y, cols[-1], y)
    for row in rows:
        for k, s in enumerate(row):
            _text(c, cols[k] + pad, y - 14, s)
        for x in cols:
            c.line(x, y, x, y - ROW_H)
        y -= ROW_H
        c.line(cols[0], y, cols[-1], y)
    return y


def test_side_by_side_cells_stay_aligned() -> None:
    """A 收入 | 支出 table: one grid, each amount in the column of its own half."""
    buf = io.BytesIO()
    c = _canvas(buf)
    cols = [60.0, 200.0, 280.0, 440.0, 530.0]
    rows = [["项目", "金额", "项目", "金额"], ["一、一般公共预算", "1,226.42", "一、基本支出", "900.00"],
            ["", "", "二、项目支出", "326.42"], ["收入合计", "1,226.42", "支出合计", "1,226.42"]]
    _text(c, 200, 730, "收支预算总表")
    _ruled_rows(c, 700.0, rows, cols, pad=3)
    c.showPage()
    c.save()
    tables = [b for b in read_bytes(buf.getvalue(), "two.pdf").blocks if isinstance(b, Table)]
    assert len(tables) == 1
    assert tables[0].title == "收支预算总表"
    assert tables[0].text_rows() == rows


def test_cell_wrapped_over_a_page_break_is_one_row() -> None:
    """A label that fills its cell at the foot of page 1 goes on at the head of page 2 in a row of its own
    ("八、社会保障和就" / "业支出"): one row again. A label that stops short of its border does not take the
    next page's first row, nor does a row that starts a new item."""
    cols = [72.0, 72.0 + 2 + 8 * SIZE, 260.0]  # the label column holds exactly eight characters
    buf = io.BytesIO()
    c = _canvas(buf)
    _text(c, 80, 760, "支出预算表")
    _text(c, 200, 740, "单位：万元")
    _ruled_rows(c, 730, [["项目", "金额"], ["七、文化支出", "1.00"], ["八、社会保障和就", "2.00"]], cols)
    c.showPage()
    _ruled_rows(c, 760, [["业支出", ""], ["九、卫生支出", "3.00"], ["十、住房支出", "4.00"]], cols)
    c.showPage()
    _ruled_rows(c, 760, [["上年结转", ""], ["合计", "10.00"]], cols)
    c.showPage()
    c.save()
    tables = [b for b in read_bytes(buf.getvalue(), "wrap.pdf").blocks if isinstance(b, Table)]
    assert len(tables) == 1
    assert tables[0].text_rows() == [
        ["项目", "金额"], ["七、文化支出", "1.00"], ["八、社会保障和就业支出", "2.00"], ["九、卫生支出", "3.00"],
        ["十、住房支出", "4.00"], ["上年结转", ""], ["合计", "10.00"],
    ]
    assert [r[0].row for r in tables[0].rows] == list(range(7))


def _chinese_font_installed() -> bool:
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True) if shutil.which("fc-list") else None
    return bool(out and out.stdout.strip())


@pytest.mark.skipif(not _chinese_font_installed(), reason="no Chinese system font (make test installs fonts-wqy-zenhei): "
                    "pdfium then drops a text object holding one glyph of a non-embedded Chinese font, here the 元")
def test_unit_wrapped_in_a_narrow_box() -> None:
    """"单位：万" with "元" on the line below, beside the issuing unit's line: the unit is 万元."""
    buf = io.BytesIO()
    c = _canvas(buf)
    _text(c, 150, 760, "三公经费支出预算表")
    _text(c, 400, 735, "单位：万")
    _text(c, 400 + 3 * SIZE, 720, "元")
    _text(c, 72, 720, "部门名称：某某单位")
    _ruled_rows(c, 712, [["合计", "小计"], ["10.00", "10.00"]], [72.0, 200.0, 300.0])
    c.showPage()
    c.save()
    tables = [b for b in read_bytes(buf.getvalue(), "unit.pdf").blocks if isinstance(b, Table)]
    assert len(tables) == 1 and tables[0].title == "三公经费支出预算表" and tables[0].unit == "万元"


# ---------------------------------------------------------------------------------------------------- errors


def _simple_pdf(**kw) -> bytes:
    buf = io.BytesIO()
    c = _canvas(buf, **kw)
    _text(c, 72, 700, "部门预算公开：一般公共预算财政拨款支出1012.86万元。")
    c.showPage()
    c.save()
    return buf.getvalue()


def _error(data: bytes) -> IngestError:
    with pytest.raises(IngestError) as info:
        read_bytes(data, "bad.pdf")
    assert info.value.path == "bad.pdf"
    return info.value


def test_corrupt_pdf() -> None:
    err = _error(b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    assert err.code == "corrupt"
    assert "损坏的 PDF" in err.message


def test_truncated_pdf() -> None:
    data = _simple_pdf()
    err = _error(data[: len(data) // 2])
    assert err.code == "corrupt"
    assert "损坏的 PDF" in err.message and "truncated" in err.message


def test_encrypted_pdf() -> None:
    err = _error(_simple_pdf(encrypt="secret"))
    assert err.code == "encrypted"
    assert "加密的 PDF" in err.message and "encrypted PDF" in err.message


def test_image_only_pdf_needs_ocr() -> None:
    from PIL import Image

    img = Image.new("RGB", (200, 80), "white")
    for x in range(20, 180):
        img.putpixel((x, 40), (0, 0, 0))  # something drawn, but no text
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(img), 72, 600, width=400, height=160)
    c.showPage()
    c.save()
    err = _error(buf.getvalue())
    assert err.code == "no_text"
    assert "no text layer: OCR needed" in err.message


def test_too_many_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_reader, "MAX_PAGES", 2)
    buf = io.BytesIO()
    c = _canvas(buf)
    for i in range(3):
        _text(c, 72, 700, f"第{i + 1}页的正文内容足够长。")
        c.showPage()
    c.save()
    err = _error(buf.getvalue())
    assert err.code == "too_many_pages"


def test_text_pdf_reads_without_error() -> None:
    content = read_bytes(_simple_pdf(), "ok.pdf")
    assert [b.text for b in content.blocks] == ["部门预算公开：一般公共预算财政拨款支出1012.86万元。"]
    assert content.meta["format"] == "pdf" and content.meta["pages"] == 1


# -------------------------------------------------------------------------------------------- real corpus

STRIP = str.maketrans("", "", ",，|:：;；、")


def _norm(text: str) -> str:
    return "".join(text.split()).translate(STRIP)


@pytest.mark.slow
def test_jiangsu_gold_quotes_in_paragraphs_and_tables_found(jiangsu: Path) -> None:
    from detector.rules import load_rules
    from detector.tables import standard_tables

    gold = [json.loads(line) for line in (jiangsu / "gold.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rules = load_rules()
    missing: list[str] = []
    no_tables: list[str] = []
    checked = 0
    for folder in sorted(p for p in jiangsu.iterdir() if p.is_dir()):
        pdfs = sorted(folder.glob("*.pdf"))
        if not pdfs:
            continue
        doc = load(pdfs, doc_id=folder.name)
        paras = [_norm(p.text) for p in doc.paragraphs]
        for item in gold:
            if item["doc"] != folder.name or item["label"] != "defect" or not item["quote"]:
                continue
            checked += 1
            quote = _norm(item["quote"])
            if not any(quote in p for p in paras):
                missing.append(f"{folder.name} p{item.get('page')}: {item['quote']}")
        found = standard_tables(doc, rules)
        print(f"{folder.name}: {len(doc.tables)} tables, {len(found)} standard")
        for t in found:
            print(f"    p{t['page']:<3} {t['identity']:<28} rows={t['rows']:<3} {t['title']}")
        if not doc.tables:
            no_tables.append(folder.name)
    print(f"gold defect quotes found in paragraphs: {checked - len(missing)}/{checked}")
    assert checked > 0
    assert not missing, "\n".join(missing)
    assert not no_tables, f"documents without tables: {no_tables}"


def test_regrid_keeps_a_merge_across_a_column_empty_on_its_page() -> None:
    """Page 2 of a table has no text in its 金额 column, so its grid leaves that column out; the 当年支出小计
    cell merged across 名称 | 金额 | 用途 must still cover it once the page joins the full grid."""
    from detector.ingest.pdf_tables import Draft, regrid
    from detector.model import Cell

    row = [Cell(0, 0, "当年支出小计"), Cell(0, 1, "", merged=True), Cell(0, 2, "9.00")]
    draft = Draft(page=2, top=0.0, bottom=20.0, rows=[row], col_edges=[(0.0, 100.0), (200.0, 300.0), (300.0, 400.0)])
    regrid(draft, [(0.0, 100.0), (100.0, 200.0), (200.0, 300.0), (300.0, 400.0)])
    assert [(c.text, c.merged) for c in draft.rows[0]] == [
        ("当年支出小计", False), ("", True), ("", True), ("9.00", False)
    ]
