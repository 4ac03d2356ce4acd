"""The XLSX review sheet: export real findings, fill verdicts in with openpyxl as an auditor would in Excel,
import them back, and export them as gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _report_helpers import check_samples
from openpyxl import load_workbook

from detector.cli import main
from detector.report.results import load_results
from detector.report.xlsx import COLUMNS, FINDINGS_SHEET, KEY_COLUMN, SUMMARY_SHEET, write_xlsx
from detector.review.db import ReviewDB


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict]]:
    return check_samples(tmp_path_factory.mktemp("xlsx"))


def _col(key: str) -> int:
    return KEY_COLUMN[key]


def test_sheet_layout(checked: tuple[Path, Path, list[dict]], tmp_path: Path) -> None:
    jsonl, src, findings = checked
    out = write_xlsx(load_results(jsonl, src), tmp_path / "f.xlsx")
    wb = load_workbook(out)
    ws = wb[FINDINGS_SHEET]
    assert [c.value for c in ws[1]] == [h for _, h, _ in COLUMNS]
    assert ws.max_row == len(findings) + 1
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    rows = {ws.cell(r, _col("fingerprint")).value: r for r in range(2, ws.max_row + 1)}
    for f in findings:
        r = rows[f["fingerprint"]]
        assert ws.cell(r, _col("document")).value == f["doc"]
        assert ws.cell(r, _col("rule")).value == f["rule"]
        assert ws.cell(r, _col("stated")).value == f["stated"]
        assert f["evidence"][0]["text"] in ws.cell(r, _col("sentence")).value
    validations = ws.data_validations.dataValidation
    assert len(validations) == 1 and validations[0].formula1 == '"确认,误报,待定"'
    verdict_letter = ws.cell(1, _col("verdict")).column_letter
    assert str(validations[0].sqref).startswith(f"{verdict_letter}2:")
    summary = wb[SUMMARY_SHEET]
    docs = {summary.cell(r, 1).value: summary.cell(r, 6).value for r in range(2, summary.max_row + 1)}
    assert sum(docs.values()) == len(findings)


def test_round_trip_into_the_review_db_and_out_as_gold(checked: tuple[Path, Path, list[dict]], tmp_path: Path) -> None:
    jsonl, src, findings = checked
    sheet = tmp_path / "review.xlsx"
    assert main(["report", str(jsonl), "--source", str(src), "--xlsx", str(sheet)]) == 0
    wb = load_workbook(sheet)
    ws = wb[FINDINGS_SHEET]
    confirmed = ws.cell(2, _col("fingerprint")).value
    dismissed = ws.cell(3, _col("fingerprint")).value
    ws.cell(2, _col("verdict")).value = "确认"
    ws.cell(3, _col("verdict")).value = "误报"
    ws.cell(3, _col("comment")).value = "口径不同，不是错误"
    wb.save(sheet)

    db_path = tmp_path / "review.sqlite"  # a fresh database: the sheet alone carries the findings
    assert main(["verdicts", "import", str(sheet), "--db", str(db_path)]) == 0
    verdicts = ReviewDB(db_path).verdicts()
    assert verdicts == {confirmed: ("confirmed", ""), dismissed: ("dismissed", "口径不同，不是错误")}

    gold = tmp_path / "gold.jsonl"
    assert main(["verdicts", "export", "--gold", str(gold), "--db", str(db_path)]) == 0
    lines = [json.loads(x) for x in gold.read_text(encoding="utf-8").splitlines()]
    by_fp = {f["fingerprint"]: f for f in findings}
    items = {x["fingerprint"]: x for x in lines if x["label"] != "document"}
    assert items[confirmed]["label"] == "defect" and items[dismissed]["label"] == "acceptable"
    for fp, item in items.items():
        f = by_fp[fp]
        assert item["quote"] == f["evidence"][0]["text"]
        assert item["kind"] == f["kind"]
        assert item["values"]
        assert item["doc"] == Path(f["doc"]).stem
        assert item["id"].startswith(item["doc"] + "#")
    docs = {x["doc"] for x in lines if x["label"] == "document"}
    assert docs == {x["doc"] for x in items.values()}
    assert items[dismissed]["explanation"] == "口径不同，不是错误"

    # a second import of an edited sheet changes the verdict, and the log keeps both
    wb = load_workbook(sheet)
    wb[FINDINGS_SHEET].cell(2, _col("verdict")).value = "待定"
    wb.save(sheet)
    assert main(["verdicts", "import", str(sheet), "--db", str(db_path)]) == 0
    db = ReviewDB(db_path)
    assert db.verdicts()[confirmed][0] == "unsure"
    assert [h["verdict"] for h in db.history(confirmed)] == ["confirmed", "unsure"]


def test_unknown_verdict_word_is_refused_with_its_row(checked: tuple[Path, Path, list[dict]], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    jsonl, src, _ = checked
    sheet = write_xlsx(load_results(jsonl, src), tmp_path / "bad.xlsx")
    wb = load_workbook(sheet)
    wb[FINDINGS_SHEET].cell(2, _col("verdict")).value = "可能"
    wb.save(sheet)
    assert main(["verdicts", "import", str(sheet), "--db", str(tmp_path / "db.sqlite")]) == 2
    assert "第 2 行" in capsys.readouterr().err
    assert ReviewDB(tmp_path / "db.sqlite").verdicts() == {}


def test_prior_verdicts_prefill_the_sheet(checked: tuple[Path, Path, list[dict]], tmp_path: Path) -> None:
    jsonl, src, findings = checked
    db = ReviewDB(tmp_path / "db.sqlite")
    results = load_results(jsonl, src)
    db.sync(results.key, results.findings)
    db.set_verdict(findings[0]["fingerprint"], "dismissed", "重复")
    sheet = tmp_path / "pre.xlsx"
    assert main(["report", str(jsonl), "--xlsx", str(sheet), "--db", str(db.path)]) == 0
    ws = load_workbook(sheet)[FINDINGS_SHEET]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, _col("fingerprint")).value == findings[0]["fingerprint"])
    assert (ws.cell(row, _col("verdict")).value, ws.cell(row, _col("comment")).value) == ("误报", "重复")
