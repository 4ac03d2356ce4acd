"""``gouji report RESULTS --xlsx out.xlsx``: the findings as a worksheet auditors fill in, and reading it back.

Why a spreadsheet: many audit offices review in Excel/WPS, pass files around and return them days later. The
sheet carries each finding's fingerprint and (in a hidden column) the finding itself, so ``gouji verdicts
import`` can attach the verdicts to the right findings even in a fresh review database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from detector.errors import GoujiError
from detector.io import atomic_path
from detector.report.results import OUTCOMES, SEVERITIES, Results, difference, finding_page, severity_counts
from detector.review.db import LABEL_TO_VERDICT, VERDICT_LABELS

FINDINGS_SHEET = "发现 findings"
SUMMARY_SHEET = "汇总 summary"
META_SHEET = "meta"
# (key, header, width): the key is what import looks for, so headers may be re-labelled freely.
COLUMNS = [
    ("document", "文档 document", 28),
    ("page", "页码 page", 8),
    ("rule", "规则 rule", 22),
    ("severity", "严重程度 severity", 10),
    ("sentence", "句子 sentence", 60),
    ("stated", "文中 stated", 14),
    ("expected", "计算 expected", 14),
    ("difference", "差额 difference", 12),
    ("message", "说明 message", 50),
    ("fingerprint", "指纹 fingerprint", 22),
    ("verdict", "结论 verdict", 10),
    ("comment", "备注 comment", 40),
    ("finding", "finding (json)", 10),
]
KEY_COLUMN = {key: i + 1 for i, (key, _, _) in enumerate(COLUMNS)}
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
VERDICT_FILL = PatternFill("solid", fgColor="FFF4C2")


@dataclass
class SheetVerdict:
    """One filled-in row: the verdict code (confirmed/dismissed/unsure), the comment, the finding if present."""

    fingerprint: str
    verdict: str | None
    comment: str
    finding: dict | None


def _row(f: dict, prior: dict[str, tuple[str, str]]) -> list[object]:
    evidence = f.get("evidence") or []
    sentence = "\n".join(str(e.get("text", "")) for e in evidence if isinstance(e, dict))
    fp = str(f.get("fingerprint", ""))
    verdict, comment = prior.get(fp, ("", ""))
    stated, expected = str(f.get("stated", "")), str(f.get("expected", ""))
    values = {
        "document": f.get("doc", ""), "page": finding_page(f), "rule": f.get("rule", ""),
        "severity": f.get("severity", ""), "sentence": sentence, "stated": stated, "expected": expected,
        "difference": difference(stated, expected), "message": f.get("message", ""), "fingerprint": fp,
        "verdict": VERDICT_LABELS.get(verdict, ""), "comment": comment,
        "finding": json.dumps(f, ensure_ascii=False),
    }
    return [values[key] for key, _, _ in COLUMNS]


def build_workbook(results: Results, prior: dict[str, tuple[str, str]] | None = None) -> Workbook:
    """The workbook; ``prior`` (fingerprint → (verdict, comment)) pre-fills verdicts already given."""
    prior = prior or {}
    wb = Workbook()
    ws = wb.active
    ws.title = FINDINGS_SHEET
    ws.append([header for _, header, _ in COLUMNS])
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for f in results.findings:
        ws.append(_row(f, prior))
    last = max(ws.max_row, 2)
    for key, _, width in COLUMNS:
        ws.column_dimensions[get_column_letter(KEY_COLUMN[key])].width = width
    for key in ("sentence", "message", "comment"):
        col = get_column_letter(KEY_COLUMN[key])
        for cell in ws[col][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions[get_column_letter(KEY_COLUMN["finding"])].hidden = True
    verdict_col = get_column_letter(KEY_COLUMN["verdict"])
    dv = DataValidation(type="list", formula1='"' + ",".join(VERDICT_LABELS.values()) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle="结论 verdict", error="请选择 确认 / 误报 / 待定")
    dv.add(f"{verdict_col}2:{verdict_col}{max(last, 1000)}")
    ws.add_data_validation(dv)
    for cell in ws[verdict_col][1:]:
        cell.fill = VERDICT_FILL
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS) - 1)}{last}"
    ws.freeze_panes = "A2"
    _summary_sheet(wb.create_sheet(SUMMARY_SHEET), results)
    meta = wb.create_sheet(META_SHEET)
    meta.append(["results", results.key])
    meta.sheet_state = "hidden"
    return wb


def _summary_sheet(ws, results: Results) -> None:
    by_doc = results.by_document()
    head = ["文档 document", "状态 status", *SEVERITIES, "合计 total"]
    if results.has_checks:
        head += [f"核验 {o}" for o in OUTCOMES]
    ws.append(head)
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for doc, info in results.documents.items():
        counts = severity_counts(by_doc.get(doc, []))
        row = [doc, info.status, *[counts.get(s, 0) for s in SEVERITIES], sum(counts.values())]
        if results.has_checks:
            row += [info.checks.get(o, 0) for o in OUTCOMES]
        ws.append(row)
    ws.column_dimensions["A"].width = 36
    ws.freeze_panes = "A2"


def write_xlsx(results: Results, out: str | Path, prior: dict[str, tuple[str, str]] | None = None) -> Path:
    wb = build_workbook(results, prior)
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return Path(out)


def read_verdicts(path: str | Path) -> tuple[list[SheetVerdict], str | None]:
    """Rows of a returned workbook that carry a verdict or a comment, and the results key it was made from.

    Columns are found by their key words (指纹/fingerprint, 结论/verdict, 备注/comment), so an auditor who
    re-orders or re-labels columns does not break the import. An unknown verdict word is an error naming the
    row: guessing what an auditor meant is worse than asking."""
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-workbook
        raise GoujiError(f"无法读取工作簿 / cannot read workbook {path}: {exc}") from exc
    ws = wb[FINDINGS_SHEET] if FINDINGS_SHEET in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h or "") for h in next(rows, [])]
    cols = {key: _find_column(header, key, label) for key, label, _ in COLUMNS}
    if cols["fingerprint"] is None or cols["verdict"] is None:
        raise GoujiError(f"{path}: 缺少 指纹/结论 列 / no fingerprint or verdict column")
    out: list[SheetVerdict] = []
    for n, row in enumerate(rows, 2):
        def get(key: str, row: tuple = row) -> str:
            i = cols[key]
            return "" if i is None or i >= len(row) or row[i] is None else str(row[i]).strip()

        fp, label, comment = get("fingerprint"), get("verdict"), get("comment")
        if not fp or not (label or comment):
            continue
        if label and label not in LABEL_TO_VERDICT:
            raise GoujiError(f"{path}: 第 {n} 行结论「{label}」不是 确认/误报/待定 / unknown verdict in row {n}")
        finding = None
        if get("finding"):
            try:
                finding = json.loads(get("finding"))
            except json.JSONDecodeError:
                finding = None
        out.append(SheetVerdict(fp, LABEL_TO_VERDICT.get(label), comment, finding))
    key = None
    if META_SHEET in wb.sheetnames:
        for row in wb[META_SHEET].iter_rows(values_only=True):
            if row and row[0] == "results":
                key = str(row[1])
    wb.close()
    return out, key


def _find_column(header: list[str], key: str, label: str) -> int | None:
    words = {key, *label.split()}
    for i, h in enumerate(header):
        if h == label or any(w and w in h.split() for w in words):
            return i
    return None
