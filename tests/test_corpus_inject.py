"""Error injection: slips are realistic, the relation oracle is sound, the export reads back, the gold is
usable — and, on the real corpus, the detector's recall on planted errors is measured."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from detector.corpus import slips
from detector.corpus.export import UNTITLED, export_text, roundtrip_problems
from detector.corpus.inject import inject
from detector.corpus.relations import Member, Relation, TextLayout, broken
from detector.evaluate import load_gold, score
from detector.model import Cell, Document, Paragraph, Table

SAMPLES = Path(__file__).resolve().parents[1] / "corpus" / "samples"
WAN = Decimal(10000)


def test_slips_keep_the_way_figures_are_written() -> None:
    assert slips.transpositions("1,226.42") == ["1,262.42", "1,226.24"]
    assert slips.transpositions("100") == []  # 100 → 010 would be no figure anyone writes
    assert slips.decimal_shifts("14.13") == ["1.413", "141.3"]
    assert slips.decimal_shifts("116") == ["11.6"]
    assert slips.decimal_shifts("2,356.80") == ["235.680", "23,568.0"]
    assert slips.format_like(Decimal("1234.5678"), "1,000.00") == "1,234.57"
    assert slips.wrong_denominator("4.89", Decimal("59.98"), Decimal("1000")) == "6.00"
    assert slips.neighbour_row("6.00", "6.00") is None
    assert slips.stale_prior("1,226.42", Decimal("1159.59")) == "1,159.59"
    assert "1,526.42" in slips.mistyped_digits("1,226.42") and "1,296.42" not in slips.mistyped_digits("1,226.42")
    assert "0,226.42" not in slips.mistyped_digits("1,226.42") and "00" not in slips.mistyped_digits("10")
    assert slips.dropped_digits("1,226.42") == ["226.42", "126.42", "122.42"]
    assert slips.dropped_digits("5.02") == [] and slips.dropped_digits("105") == ["15", "10"]


def _m(written: str, unit: str = "万元", start: int | None = None) -> Member:
    scale = Decimal(1) if unit == "%" else WAN
    return Member(written, unit, scale, start, None if start is None else start + len(written))


def test_linear_oracle_needs_more_than_rounding() -> None:
    total, a, b = _m("100.00", start=0), _m("60.00", start=10), _m("40.00", start=20)
    rel = Relation("t.sum", "sum_mismatch", "100 = 60 + 40", [total, a, b])
    assert broken(rel, a, "06.00") or broken(rel, a, "6.00")
    assert broken(rel, a, "66.00")
    assert not broken(rel, a, "60.01")  # a hair: the rounding of three figures absorbs it
    assert not broken(rel, a, "60.02")  # still within twice the rounding slack (planted slips must be clear)


def test_ratio_oracle_does_not_assume_roles() -> None:
    part, whole, pct = _m("59.98", start=0), _m("1226.42", start=10), _m("4.89", "%", start=30)
    rel = Relation("n.share", "share_mismatch", "59.98 / 1226.42 = 4.89%", [pct, whole, part])
    assert broken(rel, pct, "4.98")
    assert broken(rel, part, "95.98")
    assert not broken(rel, pct, "4.89")
    # growth stated against the prior year: 66.83 / (1226.42 − 66.83) = 5.76%
    growth = Relation("n.growth", "growth_mismatch", "", [_m("66.83", start=0), _m("1226.42", start=9),
                                                          _m("5.76", "%", start=20)])
    assert broken(growth, growth.members[2], "6.75")
    assert not broken(growth, growth.members[2], "5.76")
    # a relation whose numbers we cannot see is never used to certify a slip
    blind = Relation("n.share", "share_mismatch", "", [_m("4.89", "%", start=0)])
    assert not broken(blind, blind.members[0], "48.9")


def test_parts_exceed_total_only_breaks_upwards() -> None:
    total, part = _m("100.00", start=0), _m("60.00", start=10)
    rel = Relation("n.parts", "parts_exceed_total", "", [total, part])
    assert broken(rel, part, "160.00")
    assert not broken(rel, part, "6.00")  # a smaller part still fits under the total


def test_export_reads_back_the_same_document() -> None:
    rows = [[Cell(0, 0, "项目"), Cell(0, 1, "金额")], [Cell(1, 0, "合计"), Cell(1, 1, "1,226.42")]]
    doc = Document("d", [
        Paragraph(0, "一、收入支出决算总体情况说明\n（续）"),
        Table(1, rows, title="收入支出决算总表"),
        Table(2, [[Cell(0, 0, "科目"), Cell(0, 1, "")]], title=None),
        Paragraph(3, "本年收入1,226.42万元。"),
    ])
    text = export_text(doc)
    assert roundtrip_problems(doc, text) == []
    assert UNTITLED in text  # two tables in a row stay two tables
    layout = TextLayout.of(text)
    assert [text[s:e] for s, e in layout.cells.values()] == ["项目", "金额", "合计", "1,226.42", "科目", ""]
    assert layout.paragraphs[0][1] == "一、收入支出决算总体情况说明（续）"


def test_inject_on_samples(tmp_path: Path) -> None:
    summary = inject([SAMPLES], tmp_path, per_doc=4, seed=3, gold_paths=[SAMPLES / "gold.jsonl"])
    assert summary["planted"] >= 6 and not summary["skipped"]
    gold = load_gold(tmp_path / "gold-injected.jsonl")
    defects = [g for g in gold if g["label"] == "defect"]
    assert len(defects) == summary["planted"]
    for g in defects:
        text = (tmp_path / f"{g['doc']}.txt").read_text(encoding="utf-8")
        assert text.count(g["quote"]) == 1, g  # the quote is exact and unique in the perturbed text
        assert g["values"][0] in g["quote"]
        original = (SAMPLES / f"{g['doc'].split('~')[0]}.txt").read_text(encoding="utf-8")
        # putting the original figure back gives text of the original document: only the figure changed
        assert g["quote"].replace(g["values"][0], g["original"], 1) in original, g
    # the sources' own labels ride along in gold.jsonl, not in gold-injected.jsonl
    carried = [g for g in load_gold(tmp_path / "gold.jsonl") if "#src" in g["id"]]
    assert carried and all("#src" not in g["id"] for g in gold)
    # deterministic for a seed
    again = tmp_path / "again"
    inject([SAMPLES], again, per_doc=4, seed=3, gold_paths=[SAMPLES / "gold.jsonl"])
    assert (again / "gold.jsonl").read_text(encoding="utf-8") == (tmp_path / "gold.jsonl").read_text(encoding="utf-8")


def _recall(folder: Path) -> tuple[float, dict[str, tuple[int, int]], list[dict]]:
    from detector.pipeline import check_paths

    findings = []
    for path in sorted(folder.glob("*.txt")):
        findings += [f.to_dict() for f in check_paths([path], doc_id=path.stem).findings]
    gold = load_gold(folder / "gold-injected.jsonl")
    s = score(findings, gold)
    return s.recall, {k: tuple(v) for k, v in s.per_kind.items()}, s.misses


@pytest.mark.slow
@pytest.mark.parametrize("name", ["seeds", "jiangsu"])
def test_recall_on_injected_errors(shared_corpus: Path, tmp_path: Path, name: str) -> None:
    src = shared_corpus / name
    summary = inject([src], tmp_path, per_doc=10, seed=1, gold_paths=[src / "gold.jsonl"])
    per_source = Counter(summary["per_source"])
    recall, per_kind, misses = _recall(tmp_path)
    report = {"planted": summary["planted"], "short": summary["short"], "recall": round(recall, 3),
              "per_kind": per_kind, "missed": [(m["id"], m["kind"], m["quote"][:40]) for m in misses]}
    print(json.dumps(report, ensure_ascii=False))
    assert not summary["short"] and min(per_source.values()) >= 10, report  # ten slips in every document
    assert recall >= 0.9, report
