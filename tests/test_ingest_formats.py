"""The structured readers (DOCX, XLSX, HTML) on documents built here with merged cells, several sheets, scripts
and entities: block order, cell positions, merged-cell convention, titles and units. Also the bundled samples:
they load, their gold quotes exist, and the clean sample's tables add up after ingestion."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from detector.ingest import load, read_bytes
from detector.ingest.xlsx import format_number
from detector.model import Paragraph, Table

SAMPLES = Path(__file__).resolve().parents[1] / "corpus" / "samples"


def grid(table: Table) -> list[list[tuple[str, bool]]]:
    return [[(c.text, c.merged) for c in row] for row in table.rows]


# ------------------------------------------------------------------------------------------------------- DOCX


def make_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph("一、收入支出决算总体情况说明")
    d.add_paragraph("2023年度收入总计1,226.42万元。")
    d.add_paragraph("表1 收入支出决算总表")
    d.add_paragraph("单位：万元")
    t = d.add_table(rows=4, cols=4)
    top = t.cell(0, 0).merge(t.cell(0, 3))
    top.text = "收入支出决算总表"
    t.cell(1, 0).text = "项目"
    t.cell(1, 1).merge(t.cell(1, 2)).text = "本年收入"
    t.cell(1, 3).text = "合计"
    side = t.cell(2, 0).merge(t.cell(3, 0))
    side.text = "财政拨款"
    for r in (2, 3):
        t.cell(r, 1).text = f"{r}01"
        t.cell(r, 2).text = f"{r}.50"
        t.cell(r, 3).text = f"{r * 2}.50"
    d.add_paragraph("注：本表反映部门本年度的总收支。")
    d.add_paragraph("")
    t2 = d.add_table(rows=1, cols=2)
    t2.cell(0, 0).text = "单位：元"
    t2.cell(0, 1).text = "100.00"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_blocks_in_body_order() -> None:
    blocks = read_bytes(make_docx(), "a.docx").blocks
    kinds = [b.kind for b in blocks]
    assert kinds == ["paragraph"] * 4 + ["table", "paragraph", "table"]
    assert blocks[1].text == "2023年度收入总计1,226.42万元。"
    assert blocks[5].text == "注：本表反映部门本年度的总收支。"
    assert [b.index for b in blocks] == list(range(len(blocks)))


def test_docx_merged_cells_expanded() -> None:
    table = read_bytes(make_docx(), "a.docx").blocks[4]
    assert isinstance(table, Table)
    assert (table.n_rows, table.n_cols) == (4, 4)
    g = grid(table)
    assert g[0] == [("收入支出决算总表", False), ("", True), ("", True), ("", True)]
    assert g[1] == [("项目", False), ("本年收入", False), ("", True), ("合计", False)]
    assert g[2][0] == ("财政拨款", False) and g[3][0] == ("", True)
    assert g[3][1:] == [("301", False), ("3.50", False), ("6.50", False)]
    assert all(c.row == r and c.col == k for r, row in enumerate(table.rows) for k, c in enumerate(row))


def test_docx_title_and_unit_from_paragraphs_before() -> None:
    blocks = read_bytes(make_docx(), "a.docx").blocks
    assert blocks[4].title == "表1 收入支出决算总表"  # the unit line just before is skipped as a title
    assert blocks[4].unit == "万元"
    assert blocks[6].unit == "元"  # unit written inside the grid wins
    assert blocks[6].title == "注：本表反映部门本年度的总收支。"


def test_docx_vmerge_restart_mid_table_and_grid_before() -> None:
    """A second vertical merge in the same column starts a new span; gridBefore shifts a short row."""
    d = docx.Document()
    t = d.add_table(rows=5, cols=2)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "甲"
    t.cell(2, 0).text = "乙"
    t.cell(3, 0).merge(t.cell(4, 0)).text = "丙"
    tr = t.rows[2]._tr
    trpr = tr.get_or_add_trPr()
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    trpr.append(parse_xml(f'<w:gridBefore {nsdecls("w")} w:val="1"/>'))
    tr.remove(tr.tc_lst[1])  # row 2 now holds one cell, placed in column 1 by gridBefore
    buf = io.BytesIO()
    d.save(buf)
    table = read_bytes(buf.getvalue(), "b.docx").blocks[0]
    col0 = [row[0] for row in table.rows]
    assert [(c.text, c.merged) for c in col0] == [("甲", False), ("", True), ("", False), ("丙", False), ("", True)]
    assert table.rows[2][1].text == "乙"


# ------------------------------------------------------------------------------------------------------- XLSX


def make_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "收支总表"
    ws["A1"] = "2023年部门收支决算总表"
    ws.merge_cells("A1:D1")
    ws["D2"] = "单位：万元"
    ws["A3"], ws["B3"], ws["C3"], ws["D3"] = "项目", "决算数", "占比", "备注"
    ws["A4"] = "财政拨款收入"
    ws["B4"] = 1163.2400000000002
    ws["B4"].number_format = "#,##0.00"
    ws["C4"] = 0.94846
    ws["C4"].number_format = "0.00%"
    ws["D4"] = 1012.86  # General format: no binary digits (Decimal(1012.86) would show 1012.8599…)
    ws["A5"] = "其他收入"
    ws.merge_cells("A5:A6")
    ws["B5"] = 63
    ws["B5"].number_format = "0.00"
    ws2 = wb.create_sheet("三公")
    ws2["B2"] = "公务接待费"
    ws2["C2"] = 7.28
    ws3 = wb.create_sheet("空表")
    ws3["A1"] = None
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_one_table_per_nonempty_sheet() -> None:
    content = read_bytes(make_xlsx(), "a.xlsx")
    assert content.meta["format"] == "xlsx"
    assert content.meta["sheets"] == ["收支总表", "三公", "空表"]
    assert [b.kind for b in content.blocks] == ["table", "table"]
    first, second = content.blocks
    assert first.title == "2023年部门收支决算总表" and first.unit == "万元"
    assert second.title == "三公" and second.unit is None  # no title-like row: the sheet name


def test_xlsx_cells_keep_sheet_positions_and_merges() -> None:
    first, second = read_bytes(make_xlsx(), "a.xlsx").blocks
    g = grid(first)
    assert g[0] == [("2023年部门收支决算总表", False), ("", True), ("", True), ("", True)]
    assert g[3] == [("财政拨款收入", False), ("1,163.24", False), ("94.85%", False), ("1012.86", False)]
    assert g[4][:2] == [("其他收入", False), ("63.00", False)]
    assert g[5][0] == ("", True)  # the merge reaches one row past the last value
    assert second.rows[1][1].text == "公务接待费" and second.rows[1][2].text == "7.28"
    assert second.rows[0][0].text == "" and not second.rows[0][0].merged


@pytest.mark.parametrize(("value", "fmt", "shown"), [
    (107.54, "General", "107.54"),
    (107.0, "General", "107"),
    (1e16, "General", "10000000000000000"),
    (1226.4249, "0.00", "1226.42"),
    (1226.425, "#,##0.00", "1,226.43"),
    (0.9485, "0.00%", "94.85%"),
    (-5.5, "0.0_);[Red](0.0)", "-5.5"),
    (12, '"¥"#,##0.00', "12.00"),
    (3.14159, "0.00E+00", "3.14159"),
])
def test_number_formats_shown_as_excel_shows_them(value: float, fmt: str, shown: str) -> None:
    assert format_number(value, fmt) == shown


# ------------------------------------------------------------------------------------------------------- HTML

HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>不应出现</title>
<style>td { color: red }</style></head><body>
<script>document.write("<table><tr><td>99</td></tr></table>");</script>
<h2>一、部门预算说明</h2>
<p>2024年收入预算486.20万元，其中一般公共
预算拨款收入458.70万元&nbsp;&amp;&nbsp;事业收入27.50万元。</p>
<div>部门收支总表</div><p>单位：万元</p>
<table border="1">
 <thead><tr><th rowspan="2">项目</th><th colspan="2">预算数</th></tr>
 <tr><th>基本支出<th>项目支出</tr></thead>
 <tbody><tr><td>合计</td><td>402.36</td><td>83.84</td></tr>
 <tr><td>群众文化<br>活动</td><td colspan="2" rowspan="9">329.78</td></tr></tbody>
</table>
<ul><li>第一项<ul><li>子项</li></ul></li><li>第二项</li></ul>
<p>结束&lt;完&gt;</p>
</body></html>"""


def test_html_blocks_in_document_order_without_script_or_head() -> None:
    blocks = read_bytes(HTML.encode("utf-8"), "a.html").blocks
    texts = [b.text if isinstance(b, Paragraph) else "<table>" for b in blocks]
    assert texts == [
        "一、部门预算说明",
        "2024年收入预算486.20万元，其中一般公共预算拨款收入458.70万元 & 事业收入27.50万元。",
        "部门收支总表",
        "单位：万元",
        "<table>",
        "第一项",
        "子项",
        "第二项",
        "结束<完>",
    ]


def test_html_rowspan_colspan_expanded() -> None:
    table = [b for b in read_bytes(HTML.encode("utf-8"), "a.html").blocks if isinstance(b, Table)][0]
    assert table.title == "部门收支总表" and table.unit == "万元"
    g = grid(table)
    assert (table.n_rows, table.n_cols) == (4, 3)  # rowspan="9" is cut at the table's last row
    assert g[0] == [("项目", False), ("预算数", False), ("", True)]
    assert g[1] == [("", True), ("基本支出", False), ("项目支出", False)]
    assert g[2] == [("合计", False), ("402.36", False), ("83.84", False)]
    # <br> between two CJK characters does not split the label
    assert g[3] == [("群众文化活动", False), ("329.78", False), ("", True)]


def test_html_layout_table_is_walked_as_flow() -> None:
    page = ("<table><tr><td><p>前言</p><table><caption>表一</caption><tr><td>甲</td><td>1</td></tr></table>"
            "<p>后记</p></td></tr></table>")
    blocks = read_bytes(page.encode("utf-8"), "b.html").blocks
    assert [b.kind for b in blocks] == ["paragraph", "table", "paragraph"]
    assert blocks[1].title == "表一" and grid(blocks[1]) == [[("甲", False), ("1", False)]]


def test_html_declared_gbk_charset() -> None:
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>' \
           "<body><p>财政拨款收入1,163.24万元</p></body></html>"
    blocks = read_bytes(page.encode("gb18030"), "c.htm").blocks
    assert blocks[0].text == "财政拨款收入1,163.24万元"


# ---------------------------------------------------------------------------------------------------- samples


def test_samples_load_and_gold_quotes_exist() -> None:
    gold = [json.loads(line) for line in (SAMPLES / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = {g["doc"] for g in gold if g["label"] == "document"}
    assert docs == {p.stem for p in SAMPLES.glob("*.txt")}
    for g in gold:
        text = (SAMPLES / f"{g['doc']}.txt").read_text(encoding="utf-8")
        assert g["quote"] in text and g["other_quote"] in text, g["id"]
    assert sum(g["label"] == "defect" for g in gold) == 4


def test_clean_sample_tables_add_up_after_ingestion() -> None:
    doc = load(SAMPLES / "yusuan_2024_clean.txt")
    balance, *coded = doc.tables
    assert balance.unit == "万元" and [t.title for t in coded] == ["部门支出预算总表", "一般公共预算拨款支出预算表"]
    rows = balance.text_rows()
    total = next(r for r in rows if r[0] == "本年收入合计")
    income = sum(Decimal(r[1]) for r in rows[2:-1] if r[1])
    spending = sum(Decimal(r[3]) for r in rows[2:-1] if r[3])
    assert income == Decimal(total[1]) == spending == Decimal(total[3])
    for table in coded:
        rows = [r for r in table.text_rows() if len(r) == 5]
        total = next(r for r in rows if r[1] == "合计")
        data = [r for r in rows if r[0].isdigit()]
        for col in (2, 3, 4):
            classes = sum(Decimal(r[col] or 0) for r in data if len(r[0]) == 3)
            items = sum(Decimal(r[col] or 0) for r in data if len(r[0]) == 7)
            assert classes == items == Decimal(total[col] or 0), (table.title, col)
        for r in [total, *data]:
            assert Decimal(r[2]) == Decimal(r[3] or 0) + Decimal(r[4] or 0), r


# -------------------------------------------------------------------------------------------------- plain text


def _parse_by_lines(text: str) -> list[tuple]:
    """The cell-per-line convention read line by line (a cell line opens with a tab, a blank line ends a row,
    any other line is a paragraph and ends a table): the reference parse_text must agree with."""
    out: list[tuple] = []
    rows: list[list[str]] = []
    row: list[str] = []
    title = None
    offset = 0
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        if line[:1] == "\t":
            row.append(line[1:].strip())
            continue
        if row:
            rows, row = [*rows, row], []
        if not line.strip():
            continue
        if rows:
            out.append(("table", title, rows))
            rows = []
        out.append(("paragraph", line, start))
        title = line.strip()  # a table's title is its paragraph stripped (these texts hold no bookmark)
    rows = [*rows, row] if row else rows
    if rows:
        out.append(("table", title, rows))
    return out


@pytest.mark.parametrize("text", [
    "", "\n", "a", "\tx", "\tx\n", "a\n\tx\n\ty\n\n\tz\n b \n\tw", "a\n\t 1 \n \n\u3000\n\t2\nb\n\n\tc\n\t",
    "\n\n\tx\n\t\ty\n\u2028\n\tz\r\nq", "标题\n\t单位：万元\n\n\t项目\n\t金额\n\n\t合计\n\t1.00\n说明\n\t\n",
])
def test_text_rows_found_as_line_by_line(text: str) -> None:
    from detector.ingest.text import parse_text

    got = []
    for b in parse_text(text):
        if isinstance(b, Table):
            got.append(("table", b.title, [[c.text for c in r] for r in b.rows]))
        else:
            got.append(("paragraph", b.text, b.offset))
    assert got == _parse_by_lines(text)
