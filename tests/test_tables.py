"""Table understanding and table checks: small tables written here, the seed tables, the Jiangsu PDFs."""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.checks import tables as table_checks
from detector.ingest import from_text, load
from detector.rules import load_rules
from detector.tables import standard_tables, understand

RULES = load_rules()


def grid(title: str, rows: list[list[str]], unit: str = "万元") -> str:
    """A cell-per-line export: title line, a tab before every cell, a blank line after every row."""
    lines = [title, f"\t单位：{unit}", ""]
    for r in rows:
        lines += [f"\t{c}" for c in r] + [""]
    return "\n".join(lines) + "\n"


HEAD = [["科目编码", "科目名称", "合计", "基本支出", "项目支出"]]


def expense_table(class_201: str, rows_extra: list[list[str]] | None = None) -> str:
    rows = HEAD + [
        ["", "合计", "1012.86", "805.51", "207.35"],
        ["201", "一般公共服务支出", class_201, "598.16", "207.35"],
        ["20132", "组织事务", "34.23", "34.23", ""],
        ["20137", "网信事务", "771.28", "563.93", "207.35"],
        ["208", "社会保障和就业支出", "207.35", "207.35", ""],
        ["20805", "行政事业单位养老支出", "207.35", "207.35", ""],
    ]
    return grid("部门预算一般公共预算财政拨款支出表", rows + (rows_extra or []))


def outcomes(text: str):
    return table_checks.run(from_text(text, "t"), RULES)


def test_understands_header_codes_and_roles():
    doc = from_text(expense_table("805.51"), "t")
    ut = understand(doc.tables[0], RULES)
    assert ut.identity == "gpb_expense" and ut.unit == "万元" and ut.scale == 10000
    half = ut.halves[0]
    assert [c.role for c in half.columns] == ["total", "basic", "project"]
    assert [(r.code, r.level) for r in half.rows if r.code] == [
        ("201", 1), ("20132", 2), ("20137", 2), ("208", 1), ("20805", 2)
    ]
    assert half.rows[0].is_total


def test_wrong_class_sum_fails_with_exact_formula():
    fails = [o for o in outcomes(expense_table("774.7")) if o.status == "fail"]
    hier = [o for o in fails if o.rule == "table.hierarchy"]
    assert len(hier) == 1
    o = hier[0]
    assert o.formula.endswith("201 = 20132 + 20137: 34.23 + 771.28 = 805.51")
    assert (o.stated, o.expected, o.kind, o.severity) == ("774.7", "805.51", "table_sum_mismatch", "error")
    assert o.evidence[0].text == "201 一般公共服务支出 774.7"
    assert [e.cell for e in o.evidence] == [(3, 2), (4, 2), (5, 2)]
    # the 合计 row and the 201 row's columns fail too (774.7 ≠ 598.16 + 207.35), nothing else
    assert {o.rule for o in fails} == {"table.hierarchy", "table.total", "table.columns"}


def test_off_by_rounding_passes():
    # 805.50 vs 805.51: 0.01 apart, within the three figures' half-units (0.015)
    result = outcomes(expense_table("805.50").replace("\t1012.86", "\t1012.85"))
    hier = [o for o in result if o.rule == "table.hierarchy" and o.evidence[0].text.startswith("201")]
    assert hier and all(o.status == "pass" for o in hier)
    # but a two-cent gap fails
    assert any(o.status == "fail" for o in outcomes(expense_table("805.48")) if o.rule == "table.hierarchy")


def test_side_by_side_halves_and_balance():
    rows = [
        ["收入", "支出"],
        ["项目", "预算数", "项目", "预算数"],
        ["一、一般公共预算拨款收入", "107.54", "一、一般公共服务支出", "91.04"],
        ["二、政府性基金预算拨款收入", "", "二、社会保障和就业支出", "16.50"],
        ["本年收入合计", "107.54", "本年支出合计", "107.54"],
        ["上年结转结余", "", "年终结转结余", ""],
        ["收入总计", "107.54", "支出总计", "107.57"],
    ]
    doc = from_text(grid("部门预算收支总表", rows), "t")
    ut = understand(doc.tables[0], RULES)
    assert [(h.name, h.side, h.label_col) for h in ut.halves] == [("收入", "income", 0), ("支出", "expense", 2)]
    res = table_checks.run(doc, RULES)
    bal = [o for o in res if o.rule == "table.balance"]
    assert len(bal) == 1 and bal[0].status == "fail" and bal[0].kind == "table_balance"
    totals = [o for o in res if o.rule == "table.total"]
    assert {o.status for o in totals if o.evidence[0].text.startswith("本年")} == {"pass"}
    # 支出总计 107.57 = 本年支出合计 107.54 + 年终结转结余 (empty = 0) fails beside the balance
    assert [o.evidence[0].text for o in totals if o.status == "fail"] == ["支出总计 107.57"]


def test_cross_table_mismatch_and_yuan_table():
    gpb = expense_table("805.51")
    total = grid(
        "部门预算收支总表",
        [["收入", "支出"], ["项目", "预算数", "项目", "预算数"],
         ["一、一般公共预算拨款收入", "1012.86", "一、一般公共服务支出", "805.51"],
         ["", "", "二、社会保障和就业支出", "207.35"],
         ["本年收入合计", "1012.86", "本年支出合计", "1012.86"]],
    )
    fiscal = grid(
        "部门预算财政拨款收支总表",
        [["收入", "支出"], ["项目", "金额", "项目", "合计", "一般公共预算财政拨款"],
         ["一、一般公共预算拨款", "10128600.00", "一、一般公共服务支出", "8055100.00", "8055100.00"],
         ["", "", "二、社会保障和就业支出", "2073500.00", "2073600.00"]],
        unit="元",
    )
    res = outcomes(total + gpb + fiscal)
    cross = [o for o in res if o.rule == "table.cross"]
    assert cross and {o.kind for o in cross} == {"cross_table_mismatch"}
    bad = [o for o in cross if o.status == "fail"]
    # 208 in the 元 table (2073600.00) against 207.35万元: 100 元 apart → one mismatch; 201 agrees across units
    assert len(bad) == 1 and "208" in bad[0].formula
    assert any(o.status == "pass" and "201" in o.formula and "元" in (o.evidence[0].table or "") + "元" for o in cross)


def test_empty_cells_follow_the_table_convention():
    rows = HEAD + [["", "合计", "10.00", "", "10.00"], ["201", "一般公共服务支出", "10.00", "", "10.00"]]
    res = outcomes(grid("部门预算支出总表", rows))
    assert res and all(o.status == "pass" for o in res)
    # a table that is not a standard one is not checked at all
    assert outcomes(grid("某某情况表", rows)) == []


def test_three_public_row_holds_one_concept_per_column():
    """The one unlabelled row of a 三公 table: each column is its own concept, cited by its header path."""
    rows = [["合计", "“三公”经费", "会议费"],
            ["", "小计", "因公出国（境）费", "公务用车购置及运行维护费", "公务接待费", ""],
            ["1000.00", "833.60", "222.50", "183.60", "427.50", "166.40"]]
    ut = understand(from_text(grid("“三公”经费、会议费支出预算表", rows), "t").tables[0], RULES)
    index = table_checks.facts([ut], RULES)
    held = {k[2]: [table_checks.cell_evidence(f.ut, f.term).text for f in fs] for k, fs in index.items()}
    assert held == {"three_public": ["“三公”经费/小计 833.60"], "abroad": ["“三公”经费/因公出国（境）费 222.50"],
                    "vehicle": ["“三公”经费/公务用车购置及运行维护费 183.60"],
                    "reception": ["“三公”经费/公务接待费 427.50"], "meeting": ["会议费 166.40"]}


def test_generic_total_of_one_source_is_that_sources_concept():
    """支出合计 of a 财政拨款收支总表 is 财政拨款支出 (rules/tables.yaml scoped_concepts)."""
    rows = [["收入", "支出"], ["项目", "金额", "项目", "金额"],
            ["一、一般公共预算", "900.00", "一、基本支出", "600.00"], ["", "", "二、项目支出", "300.00"],
            ["收入合计", "900.00", "支出合计", "900.00"]]
    ut = understand(from_text(grid("财政拨款收支预算总表", rows), "t").tables[0], RULES)
    subjects = {k[2] for k in table_checks.facts([ut], RULES)}
    assert {"fiscal_income", "fiscal_expense", "fiscal_basic_expense"} <= subjects
    assert not subjects & {"income_total", "expense_total", "basic_expense"}


@pytest.mark.slow
def test_seed_tables_are_consistent(seeds: Path):
    counts = {"pass": 0, "fail": 0, "unverifiable": 0}
    for f in sorted(seeds.glob("*.txt")):
        res = table_checks.run(load(f), RULES)
        assert [o.formula for o in res if o.status == "fail"] == [], f.name
        for k, v in table_checks.outcome_counts(res).items():
            counts[k] += v
    assert counts["pass"] >= 150


@pytest.mark.slow
def test_seed_001_standard_tables(seeds: Path):
    found = {t["identity"]: t["rows"] for t in standard_tables(load(seeds / "001_cfc5e1461f5cd4c8.txt"), RULES)}
    assert found["income_expense_total"] == 46
    assert found["gpb_basic_expense"] == 16 and found["expense_total"] == 14


# What the reader finds in each Jiangsu budget: every standard table (rules/tables.yaml identity) with its number
# of data rows, in identity order. The annotators' logs (notes/jiangsu/*.summary.txt) check these tables: 收支总表,
# 收入总表, 支出总表, 财政拨款收支总表, 财政拨款支出表, 财政拨款基本支出表, 一般公共预算支出表, 一般公共预算基本
# 支出表, 机关运行经费表, 三公表, 采购表 (the 政府性基金 table is empty in all of them; the 支出总表 and the 三公
# table are one row of figures). A change here is a change in what checks can see: a table gone or rows lost
# fails the test, and a reading that gets better updates the listing on purpose.
JIANGSU_TABLES = {
    "js-fy-2017-budget": "expense_total 1, fiscal_basic_expense 33, fiscal_expense 16, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 33, gpb_expense 16, income_expense_total 36, income_total 11, office_operation 18, procurement 53, three_public 1",
    "js-fy-2018-budget": "expense_total 1, fiscal_basic_expense 34, fiscal_expense 18, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 34, gpb_expense 18, income_expense_total 36, income_total 15, office_operation 17, procurement 54, three_public 1",
    "js-fy-2019-budget": "expense_total 1, fiscal_basic_expense 34, fiscal_expense 18, fiscal_income_expense_total 7, fund_expense 1, gpb_basic_expense 34, gpb_expense 18, income_expense_total 37, income_total 15, office_operation 17, procurement 61, three_public 1",
    "js-jcy-2017-budget": "expense_total 1, fiscal_basic_expense 28, fiscal_expense 16, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 28, gpb_expense 16, income_expense_total 36, income_total 15, office_operation 16, procurement 46, three_public 1",
    "js-jcy-2018-budget": "expense_total 1, fiscal_basic_expense 30, fiscal_expense 15, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 30, gpb_expense 15, income_expense_total 37, income_total 15, office_operation 16, procurement 52, three_public 1",
    "js-jcy-2019-budget": "expense_total 1, fiscal_basic_expense 31, fiscal_expense 17, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 31, gpb_expense 17, income_expense_total 37, income_total 14, office_operation 17, procurement 41, three_public 1",
    "js-rd-2017-budget": "expense_total 1, fiscal_basic_expense 24, fiscal_expense 19, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 24, gpb_expense 19, income_expense_total 36, income_total 10, office_operation 16, procurement 26, three_public 1",
    "js-rd-2018-budget": "expense_total 1, fiscal_basic_expense 24, fiscal_expense 21, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 24, gpb_expense 21, income_expense_total 36, income_total 15, office_operation 11, procurement 24, three_public 1",
    "js-rd-2019-budget": "expense_total 1, fiscal_basic_expense 25, fiscal_expense 21, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 25, gpb_expense 21, income_expense_total 37, income_total 14, office_operation 12, procurement 26, three_public 1",
    "js-swbgt-2017-budget": "expense_total 1, fiscal_basic_expense 31, fiscal_expense 12, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 31, gpb_expense 12, income_expense_total 36, income_total 15, office_operation 18, procurement 47, three_public 1",
    "js-swbgt-2018-budget": "expense_total 1, fiscal_basic_expense 31, fiscal_expense 14, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 31, gpb_expense 14, income_expense_total 36, income_total 15, office_operation 16, procurement 39, three_public 1",
    "js-swbgt-2019-budget": "expense_total 1, fiscal_basic_expense 32, fiscal_expense 14, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 32, gpb_expense 14, income_expense_total 37, income_total 14, office_operation 17, procurement 39, three_public 1",
    "js-zx-2017-budget": "expense_total 1, fiscal_basic_expense 27, fiscal_expense 15, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 27, gpb_expense 15, income_expense_total 36, income_total 15, office_operation 15, procurement 40, three_public 1",
    "js-zx-2018-budget": "expense_total 1, fiscal_basic_expense 28, fiscal_expense 17, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 28, gpb_expense 17, income_expense_total 36, income_total 15, office_operation 15, procurement 29, three_public 1",
    "js-zx-2019-budget": "expense_total 1, fiscal_basic_expense 26, fiscal_expense 17, fiscal_income_expense_total 7, fund_expense 0, gpb_basic_expense 26, gpb_expense 17, income_expense_total 36, income_total 12, office_operation 12, procurement 20, three_public 1",
}


def _listing(text: str) -> list[tuple[str, int]]:
    return [(name, int(rows)) for name, rows in (item.rsplit(" ", 1) for item in text.split(", "))]


@pytest.mark.slow
def test_jiangsu_standard_tables(jiangsu: Path):
    """Per document, the standard tables found and their row counts, exactly as listed above."""
    changed = {}
    for folder in sorted(p for p in jiangsu.iterdir() if p.is_dir()):
        doc = load(sorted(folder.glob("*.pdf")), doc_id=folder.name)
        found = sorted((t["identity"], t["rows"]) for t in standard_tables(doc, RULES))
        print(folder.name, found)
        expected = _listing(JIANGSU_TABLES[folder.name])
        if found != expected:
            changed[folder.name] = {"missing": sorted(set(expected) - set(found)), "new": sorted(set(found) - set(expected))}
    assert sorted(JIANGSU_TABLES) == sorted(p.name for p in jiangsu.iterdir() if p.is_dir())
    assert changed == {}


def test_role_of_is_the_longest_contained_word_first_in_rule_order():
    """role_of reads each header character's candidate words only; what it picks must be what trying every role
    word in the rules' order picks: an exact match, else the longest word the header contains, the first of
    equals in the rules' order."""
    from itertools import product

    from detector.tables.vocab import norm, vocab

    v = vocab(RULES)

    def by_every_word(header: str):
        h, best = norm(header), None
        for spec in v.roles:
            for w in (norm(w) for w in spec.words):
                if h == w:
                    return spec
                if w in h and (best is None or len(w) > best[0]):
                    best = (len(w), spec)
        return best[1] if best else None

    words = sorted({w for spec in v.roles for w in spec.words}) + ["合计", "其中", "本年", " ", ""]
    headers = set(words) | {a + b for a, b in product(words, repeat=2)}
    assert all(v.role_of(h) is by_every_word(h) for h in headers if norm(h)) and v.role_of(" ") is None


def test_word_lists_in_one_call_as_word_by_word():
    """contains_any and ending answer what a word-by-word ``in`` / ``endswith`` answers."""
    from detector.tables.vocab import vocab

    v = vocab(RULES)
    texts = ["", "合计", "本年支出合计", "科目编码", "功能分类科目名称", "其中：上年", "占比%", "项目（万元）", "基本"]
    for key in ("code_words", "label_words", "non_additive_words", "total_row_words"):
        words = v.words(key)
        for t in texts:
            assert v.contains_any(key, t) == any(w in t for w in words)
            assert t.endswith(v.ending(key)) == any(t == w or t.endswith(w) for w in words)


def test_a_table_that_is_no_standard_table_is_read_when_asked():
    """A table without identity is read on first use of its layout, and is then what reading it at once gives;
    it pickles and copies with every field read."""
    import copy
    import pickle

    from detector.tables import _understand
    from detector.tables.vocab import vocab

    text = grid("项目绩效目标表", [["项目", "金额"], ["合计", "12.50"], ["其中：培训", "3.00"]])
    table = from_text(text, "t").tables[0]
    ut = understand(table, RULES)
    assert ut.identity is None and "_pending" in ut.__dict__ and "halves" not in ut.__dict__
    eager = _understand(table, vocab(RULES), None)
    assert ut.halves == eager.halves and ut == eager and "_pending" not in ut.__dict__
    again = understand(table, RULES)
    assert pickle.loads(pickle.dumps(again)) == eager and copy.deepcopy(understand(table, RULES)) == eager
    with pytest.raises(AttributeError):
        _ = ut.no_such_field


def test_a_half_is_named_by_its_first_side_word_whatever_the_hash_seed():
    """A half whose top headers hold both 收入 and 支出 takes the first in column order, in every process (string
    hashes, and so set order, change from one interpreter to the next)."""
    import json
    import os
    import subprocess
    import sys

    rows = [["项目", "收入", "支出", "项目", "金额"], ["一般公共服务", "1.00", "2.00", "教育", "3.00"],
            ["合计", "1.00", "2.00", "合计", "3.00"]]
    probe = (
        "import json, sys\n"
        "from detector.ingest import from_text\nfrom detector.rules import load_rules\n"
        "from detector.tables import understand\n"
        "doc = from_text(sys.stdin.read(), 't')\n"
        "print(json.dumps([h.name for h in understand(doc.tables[0], load_rules()).halves]))\n"
    )
    names = set()
    for seed in range(6):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        out = subprocess.run([sys.executable, "-c", probe], input=grid("收支表", rows), env=env,
                             capture_output=True, text=True, check=True)
        names.add(tuple(json.loads(out.stdout)))
    assert names == {("收入", "")}
