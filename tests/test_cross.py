"""Narrative amounts against table figures (detector.checks.cross)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.checks import cross
from detector.claims import extract
from detector.ingest import from_text, load
from detector.rules import load_rules

RULES = load_rules()


def doc_with(sentence: str, unit: str, income: str) -> str:
    rows = [["收入", "支出"], ["项目", "预算数", "项目", "预算数"],
            ["一、一般公共预算拨款收入", income, "一、一般公共服务支出", income],
            ["本年收入合计", income, "本年支出合计", income]]
    lines = [sentence, "部门预算收支总表", f"\t单位：{unit}", ""]
    for r in rows:
        lines += [f"\t{c}" for c in r] + [""]
    return "\n".join(lines) + "\n"


def run(text: str):
    doc = from_text(text, "t")
    return cross.run(doc, extract(doc, RULES), RULES)


def test_yuan_table_against_wan_narrative_is_converted_not_flagged():
    res = run(doc_with("2023年一般公共预算收入107.54万元。", "元", "1075400.00"))
    linked = [o for o in res if "一般公共预算" in o.evidence[0].text]
    assert linked and all(o.status == "pass" for o in linked)


def test_conflict_names_both_sides():
    res = run(doc_with("2023年一般公共预算收入95.54万元。", "万元", "107.54"))
    bad = [o for o in res if o.status == "fail"]
    assert len(bad) == 1
    o = bad[0]
    assert (o.rule, o.kind, o.stated, o.expected) == ("narrative.table_value", "value_conflict", "95.54万元", "107.54万元")
    assert o.evidence[0].text == "2023年一般公共预算收入95.54万元。"
    assert o.evidence[1].text == "一、一般公共预算拨款收入 107.54" and o.evidence[1].cell == (3, 1)


def test_rounded_narrative_passes():
    res = run(doc_with("2023年一般公共预算收入107.5万元。", "万元", "107.54"))
    assert res and all(o.status == "pass" for o in res)


def grid(title: str, rows: list[list[str]], unit: str = "万元") -> str:
    """A cell-per-line export: title line, unit line, a tab before every cell, a blank line after every row."""
    lines = [title, f"\t单位：{unit}", ""]
    for r in rows:
        lines += [f"\t{c}" for c in r] + [""]
    return "\n".join(lines) + "\n"


THREE_PUBLIC = grid(
    "一般公共预算“三公”经费支出预算表",
    [["合计", "“三公”经费", "会议费"],
     ["", "小计", "因公出国（境）费", "公务用车购置及运行维护费", "公务接待费", ""],
     ["1000.00", "833.60", "222.50", "183.60", "427.50", "166.40"]],
)


def test_share_of_a_whole_only_the_table_states():
    """占“三公”经费的 8.75%: the narrative never states the 三公 total, the 三公 table's 小计 does (833.60)."""
    text = ("2024年“三公”经费预算支出中，因公出国（境）费支出222.50万元，占“三公”经费的8.75%；"
            "公务接待费支出427.50万元，占“三公”经费的51.28%。\n") + THREE_PUBLIC
    shares = [o for o in run(text) if o.rule == "narrative.table_share"]
    assert [o.status for o in shares] == ["fail", "pass"]
    o = shares[0]
    assert (o.kind, o.stated, o.expected, o.severity) == ("share_mismatch", "8.75%", "26.69%", "error")
    assert o.evidence[0].text.startswith("2024年“三公”经费预算支出中")
    cell = o.evidence[1]
    assert (cell.text, cell.table, cell.cell) == ("“三公”经费/小计 833.60", "一般公共预算“三公”经费支出预算表", (3, 1))


def test_change_amount_is_not_a_level():
    text = "基本支出1000.00万元，主要原因是政策性增资，增加基本支出844.15万元。基本支出增加养老保险缴费等844.15万元。\n" + grid(
        "部门支出预算总表", [["科目编码", "科目名称", "合计", "基本支出", "项目支出"], ["", "合计", "1500.00", "1000.00", "500.00"]])
    linked = [o for o in run(text) if o.rule == "narrative.table_value"]
    assert linked and all(o.status == "pass" and "844.15" not in o.formula for o in linked)


FISCAL_TOTAL = grid(
    "财政拨款收支预算总表",
    [["收入", "支出"], ["项目", "金额", "项目", "金额"],
     ["一、一般公共预算", "900.00", "一、基本支出", "600.00"],
     ["", "", "二、项目支出", "300.00"],
     ["收入合计", "900.00", "支出合计", "900.00"]],
)


def test_generic_total_is_not_read_from_one_source_of_funds():
    """The 支出合计 of a 财政拨款收支总表 is 财政拨款支出: the department's 本年支出合计 (all funds) is not
    compared with it, the 财政拨款支出 is."""
    res = run("2024年本年支出合计950.00万元。财政拨款支出合计900.00万元。\n" + FISCAL_TOTAL)
    assert [(o.stated, o.status) for o in res if o.rule == "narrative.table_value"] == [("900.00万元", "pass")]


def test_total_scoped_by_a_subject_mark_is_unverifiable():
    """"检察（款）：预算支出合计…" is the 款's total, not the department's."""
    text = "2024年本年支出合计900.00万元。检察（款）:2024年预算支出合计300.00万元。\n" + grid(
        "部门支出预算总表", [["科目编码", "科目名称", "合计", "基本支出", "项目支出"], ["", "合计", "900.00", "600.00", "300.00"]])
    res = [o for o in run(text) if o.rule == "narrative.table_value"]
    assert [(o.stated, o.status) for o in res] == [("900.00万元", "pass")]


def test_subject_path_links_a_xiang_named_with_its_kuan():
    """人大事务行政运行（项）: the 项 2010101 行政运行 under the 款 20101 人大事务."""
    text = "1. 人大事务行政运行（项）支出10528.33万元，与上年相比减少17.89万元。\n" + grid(
        "财政拨款支出预算表",
        [["科目编码", "科目名称", "金额"], ["", "合计", "10528.33"], ["201", "一般公共服务支出", "10528.33"],
         ["20101", "人大事务", "10528.33"], ["2010101", "行政运行", "4545.94"], ["2010102", "一般行政管理事务", "5982.39"]])
    res = [o for o in run(text) if o.rule == "narrative.table_value"]
    assert [(o.status, o.evidence[1].text) for o in res] == [("fail", "2010101 行政运行 4545.94")]


def test_part_of_one_sources_total_is_not_read_from_all_funds():
    """"一般公共预算拨款支出…其中：X" lists 一般公共预算 parts; the 收支总表 gives all funds of 207."""
    text = ("2024年一般公共预算拨款支出预算458.70万元，其中：文化旅游体育与传媒支出386.12万元，"
            "社会保障和就业支出72.58万元。\n") + grid(
        "部门收支预算总表",
        [["收入", "支出"], ["项目", "预算数", "项目", "预算数"],
         ["一、一般公共预算拨款收入", "458.70", "一、文化旅游体育与传媒支出", "413.62"],
         ["二、事业收入", "27.50", "二、社会保障和就业支出", "72.58"],
         ["本年收入合计", "486.20", "本年支出合计", "486.20"]])
    assert not [o for o in run(text) if o.status == "fail"]


@pytest.mark.slow
def test_seed_001_conflicts_found_and_nothing_else(seeds: Path):
    doc = load(seeds / "001_cfc5e1461f5cd4c8.txt")
    res = cross.run(doc, extract(doc, RULES), RULES)
    bad = [o for o in res if o.status == "fail"]
    quotes = ["一般公共预算收入95.54万元", "基金预算收入18万元"]
    assert len(bad) == 2
    for q, o in zip(quotes, bad, strict=True):
        assert q in o.evidence[0].text
    assert sum(o.status == "pass" for o in res) >= 6


@pytest.mark.slow
def test_no_false_alarm_on_other_seeds(seeds: Path):
    for f in sorted(seeds.glob("*.txt")):
        if f.name.startswith("001_"):
            continue
        doc = load(f)
        assert [o.reason for o in cross.run(doc, extract(doc, RULES), RULES) if o.status == "fail"] == [], f.name


def test_subject_marked_figure_is_not_read_from_a_column_of_concepts():
    """会议费（款） is the economic 款 30215 of the basic expenses; the 三公 table's 会议费 column counts project
    spending too: a conflict between them is no finding."""
    res = run("（7）会议费（款）支出66.72万元。\n" + THREE_PUBLIC)
    linked = [o for o in res if o.rule == "narrative.table_value"]
    assert linked and [o.status for o in linked] == ["unverifiable"]
    assert "科目" in linked[0].reason


def test_label_similarities_are_scikit_learns_to_the_bit():
    """The TF-IDF fallback computes scikit-learn's figures itself (scikit-learn cost ~8 ms per document):
    the same floats, bit for bit, so every link, confidence and reason stays as scikit-learn made it."""
    pytest.importorskip("sklearn")
    import random

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from detector.tables import understand_document
    from detector.tables.rows import strip_marker

    samples = sorted((Path(__file__).resolve().parents[1] / "corpus" / "samples").glob("*.txt"))
    real = sorted({strip_marker(r.label) for f in samples for ut in understand_document(load(f), RULES)
                   for h in ut.halves for r in h.rows} - {""})
    rng = random.Random(7)
    alphabet = "一般公共预算财政拨款收入支出合计其中基本项目经费AbC  x"
    for _ in range(30):
        made = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))).strip() or "支出" for _ in range(40)]
        labels = rng.sample(real, min(len(real), 60)) + made + rng.choices(made, k=20)  # repeated, as 合计 is
        texts = rng.sample(labels, 10) + made[:5] + ["", "公共预算支出", "ZZZ"]
        ours = cross.Tfidf(labels)
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
        matrix = vectorizer.fit_transform(labels)
        theirs = cosine_similarity(vectorizer.transform(texts), matrix)
        for text, row in zip(texts, theirs, strict=True):
            assert ours.similarities(text) == row.tolist(), text
