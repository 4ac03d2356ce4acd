"""Bad input: whatever bytes a user points gouji at, ``load`` returns a Document or raises an IngestError whose
message says what is wrong — never another exception, never a hang. And a document re-encoded (GBK, GB18030,
UTF-16 with or without BOM) reads exactly as its UTF-8 original."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

import detector.ingest
from detector.errors import IngestError
from detector.fuzz import time_limit
from detector.ingest import load
from detector.ingest.sniff import OLE_MAGIC
from detector.model import Document, Paragraph

SAMPLES = Path(__file__).resolve().parents[1] / "corpus" / "samples"
SAMPLE = SAMPLES / "juesuan_2023_planted.txt"


def outcome(path: Path, seconds: float = 30) -> Document | IngestError:
    """``load(path)`` as a value: the Document, or the IngestError. Any other exception propagates and fails."""
    with time_limit(seconds):  # a hang fails the test instead of stalling it
        try:
            return load(path)
        except IngestError as exc:
            return exc


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def shape(doc: Document) -> list:
    """What reading produced, independent of offsets: paragraph texts and table grids in order."""
    return [b.text if isinstance(b, Paragraph) else (b.title, b.unit, b.text_rows()) for b in doc.blocks]


def error(result: Document | IngestError) -> IngestError:
    assert isinstance(result, IngestError), f"expected an IngestError, got a document of {len(result.blocks)} blocks"
    return result


def docx_bytes() -> bytes:
    d = docx.Document()
    d.add_paragraph("2023年度收入总计1,226.42万元。")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text, t.cell(1, 0).text, t.cell(1, 1).text = "项目", "金额", "合计", "1226.42"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["B1"] = "合计", 1226.42
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_member(container: bytes, name: str, data: bytes | None, compress: bool = True) -> bytes:
    """``container`` with member ``name`` replaced by ``data`` (removed when None, added when absent)."""
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(io.BytesIO(container)) as src, zipfile.ZipFile(out, "w", method) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info.filename))
        if data is not None:
            dst.writestr(name, data)
    return out.getvalue()


# ---------------------------------------------------------------------------------------- not a document


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t  "])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    exc = error(outcome(write(tmp_path, "empty.txt", data)))
    assert exc.code == "empty" and "空文件" in exc.message and "empty file" in exc.message
    assert "empty.txt" in str(exc)


@pytest.mark.parametrize("seed", range(5))
def test_binary_garbage(tmp_path: Path, seed: int) -> None:
    data = random.Random(seed).randbytes(8192)
    exc = error(outcome(write(tmp_path, "garbage.txt", data)))
    assert "二进制" in exc.message or "编码" in exc.message


def test_unreadable_path(tmp_path: Path) -> None:
    exc = error(outcome(tmp_path))  # a directory
    assert exc.code == "unreadable" and "无法读取" in exc.message


def test_oversized_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detector.ingest, "MAX_FILE_BYTES", 1000)
    exc = error(outcome(write(tmp_path, "big.txt", "收入".encode() * 1000)))
    assert exc.code == "too_large" and "文件过大" in exc.message


# --------------------------------------------------------------------------------------- wrong extension


def test_docx_named_pdf_is_read_as_docx(tmp_path: Path) -> None:
    doc = outcome(write(tmp_path, "report.pdf", docx_bytes()))
    assert isinstance(doc, Document) and doc.meta["format"] == "docx"
    assert doc.paragraphs[0].text == "2023年度收入总计1,226.42万元。"
    assert doc.tables[0].text_rows() == [["项目", "金额"], ["合计", "1226.42"]]


def test_text_named_xlsx_is_read_as_text(tmp_path: Path) -> None:
    doc = outcome(write(tmp_path, "table.xlsx", "本年收入合计1,226.42万元。\n".encode()))
    assert isinstance(doc, Document) and doc.meta["format"] == "text"
    assert doc.paragraphs[0].text == "本年收入合计1,226.42万元。"


def test_zip_that_is_not_office(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    exc = error(outcome(write(tmp_path, "a.docx", buf.getvalue())))
    assert exc.code == "unsupported" and "不是 DOCX 或 XLSX" in exc.message


# ------------------------------------------------------------------------------------- broken containers


@pytest.mark.parametrize("make", [docx_bytes, xlsx_bytes], ids=["docx", "xlsx"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_container(tmp_path: Path, make, keep: float) -> None:
    data = make()
    exc = error(outcome(write(tmp_path, "cut.bin", data[: int(len(data) * keep)])))
    assert exc.code == "corrupt" and ("损坏" in exc.message or "broken" in exc.message)


@pytest.mark.parametrize("make", [docx_bytes, xlsx_bytes], ids=["docx", "xlsx"])
def test_zip_directory_asking_for_a_newer_zip_version(tmp_path: Path, make) -> None:
    """Found by the fuzzer: zipfile raises NotImplementedError (not BadZipFile) for "zip file version 8.4"."""
    data = bytearray(make())
    at = data.find(b"PK\x01\x02")  # first central-directory record; bytes 6–7: version needed to extract
    data[at + 6] = 84
    exc = error(outcome(write(tmp_path, "future.docx", bytes(data))))
    assert exc.code == "corrupt" and "损坏" in exc.message


@pytest.mark.parametrize(("make", "member"), [
    (docx_bytes, "word/document.xml"), (docx_bytes, "[Content_Types].xml"), (docx_bytes, "_rels/.rels"),
    (xlsx_bytes, "xl/workbook.xml"), (xlsx_bytes, "xl/worksheets/sheet1.xml"), (xlsx_bytes, "[Content_Types].xml"),
])
@pytest.mark.parametrize("content", [None, b"<not xml", b"<?xml version='1.0'?><root/>"], ids=["missing", "junk", "alien"])
def test_damaged_part(tmp_path: Path, make, member: str, content: bytes | None) -> None:
    """A missing or damaged part is an IngestError, or (a part the reader can do without) a document."""
    result = outcome(write(tmp_path, "damaged.bin", with_member(make(), member, content)))
    if isinstance(result, IngestError):
        assert result.code in ("corrupt", "unsupported") and ("损坏" in result.message or "ZIP" in result.message)


def test_docx_without_body_part_is_an_error(tmp_path: Path) -> None:
    exc = error(outcome(write(tmp_path, "a.docx", with_member(docx_bytes(), "word/document.xml", b"<not xml"))))
    assert "DOCX" in exc.message and "损坏" in exc.message


@pytest.mark.parametrize(("make", "kind"), [(docx_bytes, "DOCX"), (xlsx_bytes, "XLSX")])
def test_zip_bomb_refused_before_parsing(tmp_path: Path, make, kind: str) -> None:
    bomb = with_member(make(), "docProps/padding.xml", b" " * (12 * 1024 * 1024))  # ~1000:1
    exc = error(outcome(write(tmp_path, f"bomb.{kind.lower()}", bomb), seconds=10))
    assert exc.code == "zip_bomb" and "压缩炸弹" in exc.message and kind in exc.message


def test_large_but_incompressible_member_is_fine(tmp_path: Path) -> None:
    noise = random.Random(1).randbytes(11 * 1024 * 1024)
    doc = outcome(write(tmp_path, "photo.docx", with_member(docx_bytes(), "word/media/image1.bin", noise, False)))
    assert isinstance(doc, Document) and doc.tables


def test_sheet_with_a_stray_far_cell_reads_its_table(tmp_path: Path) -> None:
    """One value in XFD1048576 (and one at the sheet's last row) beside a small table: the table is read as it
    stands and the strays are named in the table's notes, without allocating the 17-billion-cell grid."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = "项目", "金额", "合计", 1226.42
    ws["XFD1048576"], ws["C1048576"] = "x", 7
    buf = io.BytesIO()
    wb.save(buf)
    doc = outcome(write(tmp_path, "far.xlsx", buf.getvalue()), seconds=20)
    assert isinstance(doc, Document) and len(doc.tables) == 1
    assert doc.tables[0].text_rows() == [["项目", "金额"], ["合计", "1226.42"]]
    assert any("零散单元格已忽略" in n and "XFD1048576" in n and "C1048576" in n for n in doc.tables[0].notes)


def test_sheet_dense_beyond_the_grid_limit_is_refused_clearly(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a gap to cut at, a sheet larger than the grid limit is an error that says so."""
    import detector.ingest.grid
    import detector.ingest.xlsx

    for module in (detector.ingest.grid, detector.ingest.xlsx):
        monkeypatch.setattr(module, "MAX_GRID_CELLS", 100)
    wb = openpyxl.Workbook()
    for r in range(1, 21):
        wb.active.append([f"{r}.{c}" for c in range(1, 21)])
    buf = io.BytesIO()
    wb.save(buf)
    exc = error(outcome(write(tmp_path, "dense.xlsx", buf.getvalue())))
    assert exc.code == "too_large" and "表格过大" in exc.message and "20 行 × 20 列" in exc.message


def test_real_xls_written_by_xlwt(tmp_path: Path) -> None:
    """A genuine BIFF8 .xls (xlwt): title, unit, merged header, number formats and a date read as Excel shows
    them, and the same table as the .xlsx of the same sheet."""
    xlwt = pytest.importorskip("xlwt", reason="xlwt (dev extra) writes real .xls files")
    rows = [["2023年度部门收支决算总表", ""], ["单位：万元", ""], ["项目", "决算数"],
            ["本年收入合计", 1226.42], ["其中：财政拨款收入", 1163.24], ["填报日期", "2024-03-01"]]
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("收支决算总表")
    money = xlwt.easyxf(num_format_str="#,##0.00")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    ws.write_merge(0, 0, 0, 1, rows[0][0])
    for r, (label, value) in enumerate(rows[1:], 1):
        ws.write(r, 0, label)
        if r == 5:
            import datetime as dt

            ws.write(r, 1, dt.datetime(2024, 3, 1), date)
        elif value != "":
            ws.write(r, 1, value, money if isinstance(value, float) else xlwt.Style.default_style)
    buf = io.BytesIO()
    book.save(buf)
    xls = outcome(write(tmp_path, "收支总表.xls", buf.getvalue()))
    assert isinstance(xls, Document) and xls.meta["format"] == "xls"
    (table,) = xls.tables
    assert table.title == "2023年度部门收支决算总表" and table.unit == "万元"
    assert table.text_rows() == [["2023年度部门收支决算总表", ""], ["单位：万元", ""], ["项目", "决算数"],
                                 ["本年收入合计", "1,226.42"], ["其中：财政拨款收入", "1,163.24"],
                                 ["填报日期", "2024-03-01"]]
    assert table.rows[0][1].merged and not table.rows[0][0].merged

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "收支决算总表"
    for r, (label, value) in enumerate(rows, 1):
        sheet.cell(r, 1, label)
        if value != "":
            cell = sheet.cell(r, 2, value)
            cell.number_format = "#,##0.00"
    sheet.merge_cells("A1:B1")
    xlsx = outcome(write(tmp_path, "收支总表.xlsx", _saved(wb)))
    assert shape(xlsx) == shape(xls)
    named_wrong = outcome(write(tmp_path, "收支总表.txt", buf.getvalue()))  # sniffed from the bytes
    assert isinstance(named_wrong, Document) and shape(named_wrong) == shape(xls)


def _saved(wb: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "stream", "phrase"), [
    ("secret.xlsx", "EncryptedPackage", "密码"),
    ("secret.docx", "EncryptedPackage", "密码"),
    ("old.doc", "WordDocument", "不受支持"),
    ("old.bin", "WordDocument", "不受支持"),
    ("broken.xls", "Workbook", "XLS 文件已损坏"),
])
def test_ole_files(tmp_path: Path, name: str, stream: str, phrase: str) -> None:
    """Password-protected OOXML is an OLE container holding an EncryptedPackage stream; .doc holds
    WordDocument; an OLE file xlrd cannot parse is a broken XLS."""
    data = OLE_MAGIC + bytes(504) + stream.encode("utf-16-le") + random.Random(2).randbytes(4000)
    exc = error(outcome(write(tmp_path, name, data)))
    assert phrase in exc.message


# ------------------------------------------------------------------------------------------------ HTML


def test_html_pathologies(tmp_path: Path) -> None:
    deep = "<div>" * 20000 + "深层文本" + "</div>" * 10
    unclosed = "<html><body><table><tr><td>甲<td>1<tr><td>乙<td>2</table><p>未闭合<p>第二段"
    spans = "<table>" + "<tr>" + '<td colspan="1000" rowspan="65534">x</td>' * 50 + "</tr></table>"
    for name, page in [("deep.html", deep), ("unclosed.html", unclosed), ("spans.html", spans)]:
        result = outcome(write(tmp_path, name, page.encode("utf-8")), seconds=20)
        assert isinstance(result, Document | IngestError)
        if isinstance(result, IngestError):
            assert result.code == "too_large" and "表格过大" in result.message
    doc = outcome(write(tmp_path, "unclosed.html", unclosed.encode("utf-8")))
    assert [b.kind for b in doc.blocks] == ["table", "paragraph", "paragraph"]
    assert doc.tables[0].text_rows() == [["甲", "1"], ["乙", "2"]]
    assert "深层文本" in outcome(write(tmp_path, "deep.html", deep.encode("utf-8"))).text()


# -------------------------------------------------------------------------------------- text pathologies


def test_nul_bytes_in_text(tmp_path: Path) -> None:
    text = SAMPLE.read_bytes()
    doc = outcome(write(tmp_path, "nul.txt", text.replace("。".encode(), "。".encode() + b"\x00", 5)))
    assert isinstance(doc, Document)
    assert all("\x00" not in p.text for p in doc.paragraphs)
    assert len(doc.paragraphs) == len(load(SAMPLE).paragraphs)


def test_mixed_line_endings(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    endings = ["\r\n", "\n", "\r"]  # never "\r" then an empty line's "\n": that would read as one "\r\n"
    mixed = "".join(line + endings[i % 3] for i, line in enumerate(lines[:-1])) + lines[-1]
    doc = outcome(write(tmp_path, "mixed.txt", mixed.encode("utf-8")))
    assert shape(doc) == shape(load(SAMPLE))


def test_two_million_character_line(tmp_path: Path) -> None:
    sentence = "一般公共预算财政拨款支出1,012.86万元，占82.59%。"
    line = sentence * (2_000_000 // len(sentence) + 1)
    doc = outcome(write(tmp_path, "long.txt", line.encode("utf-8")), seconds=30)
    assert isinstance(doc, Document) and len(doc.paragraphs) == 1 and len(doc.paragraphs[0].text) >= 2_000_000
    html = outcome(write(tmp_path, "long.html", f"<html><p>{line}</p></html>".encode()), seconds=30)
    assert isinstance(html, Document) and len(html.paragraphs[0].text) == len(line)


@pytest.mark.slow
def test_two_million_character_line_is_checked_not_only_read(tmp_path: Path) -> None:
    """The whole pipeline on a 2-million-character line of sentences: findings, within a time limit."""
    from detector.pipeline import check_paths

    sentence = "本年支出合计1,226.42万元，其中：基本支出1,012.86万元，占82.59%；项目支出213.56万元，占17.41%。"
    path = write(tmp_path, "long.txt", (sentence * (2_000_000 // len(sentence) + 1)).encode("utf-8"))
    with time_limit(240):
        result = check_paths([path])
    assert sum(o.rule == "narrative.sum" and o.status == "pass" for o in result.outcomes) > 20_000
    assert not [o for o in result.outcomes if o.status == "fail"]


@pytest.mark.slow
def test_two_million_character_line_without_a_full_stop_is_checked_in_bounded_time(tmp_path: Path) -> None:
    from detector.pipeline import check_paths

    clause = "本年支出合计1,226.42万元，其中：基本支出1,012.86万元，占82.59%，项目支出213.56万元，"
    path = write(tmp_path, "long.txt", (clause * (2_000_000 // len(clause) + 1)).encode("utf-8"))
    with time_limit(300):  # a hang guard, not a speed test: the quadratic version ran for hours
        result = check_paths([path])
    assert not [o for o in result.outcomes if o.status == "fail"]  # a cut listing is not summed
    assert sum(o.rule == "narrative.share" and o.status == "pass" for o in result.outcomes) > 20_000


# ------------------------------------------------------------------------------------------------ encodings

ENCODINGS = {
    "gbk": lambda t: t.encode("gbk"),
    "gb18030": lambda t: t.encode("gb18030"),
    "utf-8-bom": lambda t: "\ufeff".encode() + t.encode("utf-8"),
    "utf-16-le-bom": lambda t: t.encode("utf-16"),  # CPython writes little-endian with a BOM
    "utf-16-be-bom": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    "utf-16-le": lambda t: t.encode("utf-16-le"),
    "utf-16-be": lambda t: t.encode("utf-16-be"),
}


def assert_same_as_utf8(path: Path, tmp_path: Path, encodings: dict = ENCODINGS) -> None:
    text = path.read_text(encoding="utf-8")
    reference = shape(load(path))
    for name, encode in encodings.items():
        try:
            data = encode(text)
        except UnicodeEncodeError:
            continue  # a character GBK lacks: GB18030 covers that case
        doc = outcome(write(tmp_path, f"{path.stem}.{name}.txt", data))
        assert isinstance(doc, Document), (name, doc)
        assert shape(doc) == reference, f"{path.name} in {name} reads differently"


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.txt")))
def test_samples_reencoded_give_the_same_findings(tmp_path: Path, sample: str) -> None:
    """Not only the same text: the same findings, fingerprints included, from every encoding."""
    from detector.pipeline import check_paths

    def findings(path: Path) -> list[tuple]:
        return sorted((f.rule, f.fingerprint, f.message) for f in check_paths([path], doc_id=sample).findings)

    source = SAMPLES / sample
    reference = findings(source)
    text = source.read_text(encoding="utf-8")
    for name in ("gb18030", "utf-16-le", "utf-16-be-bom"):
        assert findings(write(tmp_path, f"{name}.txt", ENCODINGS[name](text))) == reference, name


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.txt")))
def test_samples_reencoded_read_the_same(tmp_path: Path, sample: str) -> None:
    assert_same_as_utf8(SAMPLES / sample, tmp_path)


def test_big5_traditional_text(tmp_path: Path) -> None:
    text = "二、收入決算情況說明\n本年收入1,226.42萬元，其中：財政撥款收入1,163.24萬元，佔94.85%。\n"
    doc = outcome(write(tmp_path, "big5.txt", text.encode("big5")))
    assert doc.meta["encoding"] == "big5" and doc.text() == text.strip()


def test_damaged_byte_does_not_change_the_encoding(tmp_path: Path) -> None:
    """One corrupt byte in a UTF-8 file becomes U+FFFD; the rest is not re-read as GB18030 mojibake."""
    data = bytearray(SAMPLE.read_bytes())
    data[len(data) // 2] = 0xFF
    doc = outcome(write(tmp_path, "flipped.txt", bytes(data)))
    assert doc.meta["encoding"] == "utf-8"
    assert doc.paragraphs[0].text == load(SAMPLE).paragraphs[0].text


def test_utf16_cut_at_odd_length(tmp_path: Path) -> None:
    data = SAMPLE.read_text(encoding="utf-8").encode("utf-16")[:-1]
    doc = outcome(write(tmp_path, "odd.txt", data))
    assert isinstance(doc, Document) and doc.paragraphs[0].text == load(SAMPLE).paragraphs[0].text


@pytest.mark.slow
def test_seeds_reencoded_read_the_same(seeds: Path, tmp_path: Path) -> None:
    files = sorted(seeds.glob("*.txt"))
    assert files, f"no seed texts in {seeds}"
    for path in files:
        assert_same_as_utf8(path, tmp_path)


# ------------------------------------------------------------------------------------------ atomic writes


def test_atomic_write_failing_midway_keeps_the_previous_file(tmp_path: Path) -> None:
    from detector.io import atomic_path, write_text_atomic

    target = tmp_path / "out" / "findings.jsonl"
    write_text_atomic(target, "前一次的结果\n")
    with pytest.raises(OSError), atomic_path(target) as tmp:
        tmp.write_text("半截", encoding="utf-8")
        raise OSError(28, "No space left on device")
    assert target.read_text(encoding="utf-8") == "前一次的结果\n"
    assert [p.name for p in target.parent.iterdir()] == ["findings.jsonl"]  # the temporary file is gone


def test_atomic_write_killed_midway_keeps_the_previous_file(tmp_path: Path) -> None:
    """SIGKILL between the first and the last byte: the target still holds the previous complete result."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "report.html"
    target.write_text("<html>完整的旧报告</html>", encoding="utf-8")
    script = ("import os, signal, sys\nfrom detector.io import atomic_path\n"
              "with atomic_path(sys.argv[1]) as tmp:\n"
              "    fh = tmp.open('w', encoding='utf-8'); fh.write('<html>半截'); fh.flush()\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(target)], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode(errors="replace")
    assert target.read_text(encoding="utf-8") == "<html>完整的旧报告</html>"
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(n.startswith(".report.html.") and n.endswith(".tmp") for n in leftovers)  # hidden, never the target


@pytest.fixture(scope="module")
def sample_results(tmp_path_factory: pytest.TempPathFactory):
    """Results of the planted sample (findings serialised as ``gouji check --format jsonl`` does)."""
    import json

    from detector.pipeline import check_paths
    from detector.report.results import load_results

    root = tmp_path_factory.mktemp("results")
    findings = check_paths([SAMPLE]).findings
    assert findings
    jsonl = root / "findings.jsonl"
    jsonl.write_text("".join(json.dumps(f.to_dict(), ensure_ascii=False) + "\n" for f in findings), encoding="utf-8")
    return load_results(jsonl, SAMPLES)


@pytest.mark.parametrize("kind", ["html", "xlsx"])
def test_report_crashing_while_written_leaves_the_previous_report(sample_results, tmp_path: Path, kind: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills up while the report is being written: the previous report stays whole and readable."""
    from openpyxl.workbook.workbook import Workbook

    from detector.report.html import write_html
    from detector.report.xlsx import write_xlsx

    write = {"html": write_html, "xlsx": write_xlsx}[kind]
    out = tmp_path / f"report.{kind}"
    write(sample_results, out)
    before = out.read_bytes()

    def half_then_full_disk(self, path, *args, **kwargs):
        Path(path).write_bytes(before[: len(before) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: half_then_full_disk(self, self))
    monkeypatch.setattr(Workbook, "save", half_then_full_disk)
    with pytest.raises(OSError):
        write(sample_results, out)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [out.name]
    if kind == "xlsx":
        assert openpyxl.load_workbook(out).sheetnames  # still a whole workbook


# ---------------------------------------------------------------------------------- archives of archives


def test_nested_zips_depth_ratio_and_size_limits(tmp_path: Path) -> None:
    """A zip in a zip is read; one level deeper is refused by name; a bomb inside a nested zip and an archive
    that would expand past the budget are errors of their own documents; nothing else is lost."""
    from test_scan import _zip as _zip_of

    from detector.batch.walk import ZipLimits, discover

    text = "2023年度支出总计80万元。".encode()
    deep = _zip_of({"deep.txt": text})
    bomb = b"0" * (12 * 1024 * 1024)
    mid = _zip_of({"ok.txt": text, "inner.zip": deep, "bomb.txt": bomb})
    (tmp_path / "outer.zip").write_bytes(_zip_of({"mid.zip": mid, "top.txt": text}))
    docs = {d.id: d for d in discover([tmp_path])}
    assert docs["outer.zip/top.txt"].error is None and docs["outer.zip/top.txt"].files[0].read() == text
    assert docs["outer.zip/mid.zip/ok.txt"].error is None and docs["outer.zip/mid.zip/ok.txt"].files[0].read() == text
    assert docs["outer.zip/mid.zip/inner.zip"].error[0] == "zip_limit"
    assert "嵌套过深" in docs["outer.zip/mid.zip/inner.zip"].error[1]
    assert "outer.zip/mid.zip/inner.zip/deep.txt" not in docs
    code, message = docs["outer.zip/mid.zip/bomb.txt"].error
    assert code == "zip_limit" and "压缩" in message
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "huge.zip").write_bytes(_zip_of({f"{i}.txt": text * 20_000 for i in range(4)}))
    (huge,) = discover([tmp_path / "big"], limits=ZipLimits(max_total_bytes=1_000_000))
    assert huge.id == "huge.zip" and huge.error[0] == "zip_limit" and "解压后过大" in huge.error[1]


# ----------------------------------------------------------------------------------- the real command line


def test_gouji_check_over_a_folder_of_broken_files_reports_each_and_goes_on(tmp_path: Path) -> None:
    """The real ``gouji check``: every broken file gets one line naming it and what is wrong (never a
    traceback), the readable document is still checked; only when nothing could be read is the status 2."""
    import json
    import subprocess
    import sys

    docs = tmp_path / "docs"
    docs.mkdir()
    broken = {"a_empty.txt": b"", "b_garbage.pdf": random.Random(5).randbytes(5000),
              "c_cut.docx": docx_bytes()[:700], "d_bomb.xlsx": with_member(xlsx_bytes(), "docProps/x.xml", b" " * (12 << 20)),
              "e_fake.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 20}
    for name, data in broken.items():
        write(docs, name, data)
    write(docs, "z_planted.txt", SAMPLE.read_bytes())
    root = Path(__file__).resolve().parents[1]

    def gouji(*paths: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "detector.cli", "check", *map(str, paths), "--format", "jsonl"],
                              capture_output=True, text=True, cwd=root, timeout=600)

    proc = gouji(docs)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert sorted(line.split(":")[1].strip() for line in lines) == sorted(broken), lines
    assert all("/" in line and any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in lines)  # 中文 / English
    assert {json.loads(x)["doc"] for x in proc.stdout.splitlines()} == {"z_planted.txt"}
    only_broken = gouji(*(docs / n for n in broken))
    assert only_broken.returncode == 2 and "no document could be read (5 failed)" in only_broken.stderr
