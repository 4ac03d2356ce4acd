"""Metadata (unit, year, kind) read from real disclosure texts and from the title shapes the templates use."""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.ingest import from_text, load
from detector.metadata import extract_metadata
from detector.model import Document, Paragraph


def _doc(*lines: str, files: list[str] | None = None) -> Document:
    return Document(id="t", blocks=[Paragraph(index=i, text=t) for i, t in enumerate(lines)], files=files or ["t.txt"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stem", "unit", "year", "kind"),
    [
        ("000_", "那曲市委网信办", 2023, "决算"),
        ("001_", "中共平乡县委网络安全和信息化委员会办公室", 2023, "预算"),
        ("002_", "中共宁乡市委网络安全和信息化委员会办公室", 2021, "绩效自评"),
        ("003_", None, 2023, "预算"),  # the text never names its unit in full: no guess is better than a wrong one
        ("004_", "中共廊坊市广阳区委网络安全和信息化委员会办公室", 2021, "预算"),
    ],
)
def test_seed_documents(seeds: Path, stem: str, unit: str | None, year: int, kind: str) -> None:
    path = next(seeds.glob(f"{stem}*.txt"))
    assert extract_metadata(load(path)) == {"unit": unit, "year": year, "kind": kind}


def test_title_split_over_lines_and_spaced_like_pdf_text() -> None:
    meta = extract_metadata(_doc("1", "江苏省高级人民法院", "2019 年度部门预算公开", "目 录"))
    assert meta == {"unit": "江苏省高级人民法院", "year": 2019, "kind": "预算"}


def test_year_first_title_and_section_numbering_are_not_part_of_the_name() -> None:
    meta = extract_metadata(_doc("2017 年度江苏省高级人民法院部门预算公开", "第二部分 江苏省高级人民法院 2017 年度部门预算表"))
    assert meta["unit"] == "江苏省高级人民法院"
    assert meta["year"] == 2017


def test_table_header_label_with_spaced_characters() -> None:
    meta = extract_metadata(_doc("公开01表", "部 门:江苏省政协办公厅 单位：万元", "功能科目名称 金额"))
    assert meta["unit"] == "江苏省政协办公厅"


def test_final_accounts_are_told_from_budget_by_what_names_the_document() -> None:
    # 年初预算 appears in every 决算; it must not make the document a 预算.
    text = "某某县财政局2022年度部门决算公开\n年初预算为100万元，支出决算为98万元，完成年初预算的98%。\n"
    assert extract_metadata(from_text(text)) == {"unit": "某某县财政局", "year": 2022, "kind": "决算"}


def test_file_name_is_the_fallback_for_year_and_kind() -> None:
    meta = extract_metadata(_doc("目 录", "第一部分 部门概况", files=["省法院2018年度部门预算公开.pdf"]))
    assert meta == {"unit": None, "year": 2018, "kind": "预算"}


def test_nothing_known_gives_nones() -> None:
    assert extract_metadata(_doc("一、主要职能", "负责本单位日常工作。")) == {"unit": None, "year": None, "kind": None}
