"""Every narrative check on written sentences: what must fail fails with its arithmetic, what holds passes."""

from detector.ingest import from_text
from detector.model import Cell, Table
from detector.pipeline import check_document


def outcomes(text: str, rule: str):
    result = check_document(from_text(f"2023年度部门决算\n三、支出决算情况说明\n{text}\n"))
    return [o for o in result.outcomes if o.rule == rule], result


def test_share_fails_with_formula_and_passes_within_rounding():
    (o,), _ = outcomes("本年支出1226.42万元，其中：卫生健康支出59.98万元，占5.02%。", "narrative.share")
    assert o.status == "fail" and o.expected == "4.89%" and "59.98万元 ÷ 1226.42万元" in o.formula
    (ok,), _ = outcomes("本年支出1,226.42万元，其中：基本支出1,012.86万元，占82.59%。", "narrative.share")
    assert ok.status == "pass"


def test_growth_rate_against_change_and_current():
    (o,), _ = outcomes("财政拨款收入1226.42万元，与上年相比增加66.83万元，增长6.19%。", "narrative.growth")
    assert o.status == "fail" and o.expected == "5.76%"


def test_growth_within_rounding_intervals_is_not_flagged():
    (o,), _ = outcomes("公务接待费支出0.10万元，与上年相比减少0.14万元，下降59.56%。", "narrative.growth")
    assert o.status == "pass"


def test_growth_100_percent_from_zero_base_is_unverifiable():
    (o,), _ = outcomes("援藏资金增加63.18万元，较上年增长100%。", "narrative.growth")
    assert o.status == "unverifiable"


def test_rounding_slip_is_info_not_error():
    (o,), r = outcomes("公务用车购置及运行维护费支出9.68万元，与上年相比减少33.92万元，下降77.7%。", "narrative.growth")
    assert o.status == "fail" and o.severity == "info"
    assert all(f.severity == "info" for f in r.findings)


def test_exhaustive_sum_and_partial_listing():
    (o,), _ = outcomes("预算收入107.54万元，其中：一般公共预算收入95.54万元，基金预算收入18万元。", "narrative.sum")
    assert o.status == "fail" and o.kind == "sum_mismatch"
    (p,), _ = outcomes("公用经费20万元，主要包括：办公费9.86万元、印刷费1.66万元。", "narrative.parts_exceed")
    assert p.status == "pass"  # a partial listing that does not add up is not an error


def test_parts_exceeding_a_partial_total():
    (o,), _ = outcomes("日常公用经费14.13万元。日常公用经费中三公经费支出5.49万元，培训费25.5万元，会议费8.8万元。",
                       "narrative.parts_exceed")
    assert o.status == "fail" and o.kind == "parts_exceed_total"


def test_same_referent_two_values_and_adjacent_roundings():
    os_, _ = outcomes("一般公共预算财政拨款支出1012.86万元。一般公共预算财政拨款支出1226.42万元。", "narrative.value")
    assert [o.status for o in os_] == ["fail"]
    os_, _ = outcomes("公务用车运行维护费9.69万元。公务用车运行维护费9.68万元。", "narrative.value")
    assert [o.status for o in os_] == ["pass"]


def test_completion_rate():
    (o,), _ = outcomes("项目年初预算为100万元，支出决算为90万元，完成年初预算的95%。", "narrative.completion")
    assert o.status == "fail" and o.expected == "90.00%"


def test_identity_across_sentences():
    (o,), _ = outcomes("财政拨款基本支出1,012.86万元，其中：人员经费939.79万元。公用经费205.99万元。", "narrative.identity")
    assert o.status == "fail" and "1145.78" in o.expected


def test_listed_count_against_stated_count():
    (o,), _ = outcomes("本部门共有车辆3辆，其中，领导用车0辆、执法执勤用车1辆、其他用车1辆。", "narrative.count")
    assert o.status == "fail" and o.expected == "2辆"


def test_yuan_and_wanyuan_in_one_document_compare_in_base_units():
    os_, _ = outcomes("本年支出合计12,264,200元。本年支出合计1226.42万元。", "narrative.value")
    assert [o.status for o in os_] == ["pass"]


def budget_outcomes(text: str, rule: str, year: int = 2019):
    result = check_document(from_text(f"{year}年度部门预算\n一、收支预算总体情况说明\n{text}\n"))
    return [o for o in result.outcomes if o.rule == rule], result


def test_a_reason_sentence_is_part_of_the_evidence():
    """js-swbgt-2017: the change and its explanation are one statement for the auditor."""
    (o,), _ = budget_outcomes("1．党委办公厅（室）及相关机构事务（款）行政运行（项）支出 6106.99 万元，与上年相比增加 101.48 万元，"
                              "增长1.66%。主要原因是政策性调资。", "narrative.growth")
    assert o.status == "fail" and o.expected == "1.69%"
    assert o.evidence[0].text.endswith("主要原因是政策性调资。")


def test_a_subjectless_change_sentence_continues_the_figure_before_it():
    """js-rd-2018: 1557.29 ÷ 128.43 = 1212.56%, written 1312.56%."""
    (o,), _ = budget_outcomes("单位预留机动经费预算数为 1685.72 万元。与上年相比增加1557.29万元，增长1312.56%。",
                              "narrative.growth")
    assert o.status == "fail" and o.expected == "1212.56%"


def test_a_rate_with_a_subject_of_its_own_is_not_the_change_rate():
    """js-rd-2019: 压减10% is about 会议费, not the 164.48万元 change."""
    text = "会议费预算支出1469.73万元，比上年预算增加164.48万元，主要原因按规定运转类专项经费统一压减10%。"
    _, result = budget_outcomes(text, "narrative.growth")
    assert not [o for o in result.outcomes if o.status == "fail"]


def test_a_parenthesised_prior_figure_is_the_base_of_the_change():
    """js-zx-2017: 498.72 ÷ 8,648.07 = 5.77%: holds; the 2016 figure is not this year's total."""
    (o,), _ = budget_outcomes("2017年度部门支出预算安排与2016年度相比（2016年度部门支出预算安排为8,648.07万元），增加498.72万元，"
                              "增长5.77%。", "narrative.growth", year=2017)
    assert o.status == "pass"


def test_both_totals_moving_together_and_the_rate_written_with_a_space():
    """js-jcy-2018: 3958.67 ÷ (21955.35 − 3958.67) = 22.00%, written 21.95%."""
    (o,), _ = budget_outcomes("江苏省人民检察院 2018 年度收入、支出预算总计21,955.35 万元，与上年相比收、支预算总计各增加3,958.67 万元，"
                              "增长 21.95 %。", "narrative.growth", year=2018)
    assert o.status == "fail" and o.expected == "22.00%"


def test_a_verb_first_change_is_not_a_level():
    os_, result = budget_outcomes("基本支出7666.68万元。主要原因是政策性增资等原因，增加基本支出844.15万元。", "narrative.value")
    assert not [o for o in os_ if o.status == "fail"]


def test_a_figure_under_a_subject_heading_cannot_exceed_its_class():
    """Seed 000 #16: 行政运行（项） under 一般公共服务（类） given 1012.86 while 201 is 986.76 / 774.7."""
    text = ("2023年度部门决算\n三、支出决算情况说明\n"
            "一般公共预算财政拨款支出1226.42万元，主要用于以下方面：一般公共服务（类）支出986.76万元。\n"
            "1.一般公共服务（类）人大事务（款）行政运行（项）。\n"
            "年初预算为1012.86万元，支出决算为1012.86万元，完成年初预算的100%。\n"
            "2.201       一般公共服务支出       774.7万元\n")
    result = check_document(from_text(text))
    (o,) = [o for o in result.outcomes if o.rule == "narrative.within" and o.status == "fail"]
    assert o.kind == "parts_exceed_total" and "986.76" in o.formula and "774.7" in o.formula
    assert o.evidence[0].text == "1.一般公共服务（类）人大事务（款）行政运行（项）。"
    fine = text.replace("1012.86", "700.12")
    assert not [o for o in check_document(from_text(fine)).outcomes if o.rule == "narrative.within" and o.status == "fail"]


def test_a_label_before_the_colon_scopes_a_generic_total():
    """js-jcy-2018: 检察（款）:预算支出合计 is 20404's total, not the department's."""
    from detector import claims as claims_mod
    from detector.model import AmountClaim
    from detector.rules import load_rules

    doc = from_text("2018年部门预算\n（一）公共安全支出（类）\n检察（款）:2018年预算支出合计16,444.36万元。\n")
    doc_claims = claims_mod.extract(doc, load_rules())
    (a,) = [c for c in doc_claims if isinstance(c, AmountClaim)]
    assert a.concept is None and a.within == "204" and a.referent.startswith("公共安全支出（类）检察（款）")


def test_a_share_without_its_percent_sign_is_still_checked():
    o, ok = outcomes("本年支出1,226.42万元，其中：基本支出1,012.86万元，占76.23；项目支出213.56万元，占17.41。", "narrative.share")[0]
    assert (o.status, o.expected, ok.status) == ("fail", "82.59%", "pass")


def test_a_subject_cannot_rise_by_more_than_its_listed_items_changes():
    """js-fy-2018: the six 项 of 公共安全（类） add up to its 26200.88, their changes to 2677.77, not 2687.77.
    一般行政事务管理 is the document's own swap of 一般行政管理事务; 与上年一致 is a change of 0."""
    codes = [("204", "公共安全支出"), ("20405", "法院"), ("2040501", "行政运行"), ("2040502", "一般行政管理事务"),
             ("2040503", "机关服务")]
    text = ("2018年度部门预算\n一、收支预算总体情况说明\n"
            "1．公共安全（类）支出 26200.88 万元，主要用于人员支出。与上年相比增加{d}万元，增长11.43%。\n"
            "（一）公共安全（类）\n"
            "1．法院（款）行政运行（项）支出 14857.61 万元，与上年相比增加3070.69万元，增长26.05%。\n"
            "2．法院（款）一般行政事务管理（项）支出9743.27万元，与上年相比减少392.92万元。\n"
            "3．法院（款）机关服务（项）支出1600万元，与上年一致。\n")
    for decimal_figure, status in (("2687.77", "fail"), ("2677.77", "pass")):
        doc = from_text(text.replace("{d}", decimal_figure))
        rows = [[Cell(r, 0, code), Cell(r, 1, name)] for r, (code, name) in enumerate(codes)]
        doc.blocks.append(Table(index=len(doc.blocks), rows=rows))
        (o,) = [o for o in check_document(doc).outcomes if o.rule == "narrative.change_sum"]
        assert o.status == status, o.formula
    assert "2677.77万元" in o.formula


def test_last_years_figures_implied_by_the_changes_must_satisfy_the_identities():
    """js-jcy-2018: last year's parts (21,940.96 − 3,958.98) + (14.39 + 0.61) exceed last year's total
    (21,955.35 − 3,958.67) by 0.30万元; with the fiscal change written 3,959.28 they fit exactly."""
    text = ("江苏省人民检察院 2018 年度收入、支出预算总计21,955.35 万元，与上年相比收、支预算总计各增加3,958.67 万元，"
            "增长 21.95 %。\n1．财政拨款收入预算总计 21,940.96 万元。\n2．其他资金收入预算总计 14.39 万元。与上年相比减少0.61 万元。\n"
            "四、财政拨款收支预算总体情况说明\n省检察院2018年度财政拨款收、支总预算 21,940.96万元。"
            "与上年相比，财政拨款收、支总计各增加 {d}万元。\n")
    for written, status in (("3,958.98", "fail"), ("3,959.28", "pass")):
        os_, _ = budget_outcomes(text.replace("{d}", written), "narrative.prior_identity", year=2018)
        assert [o.status for o in os_] == [status]
    assert "17996.98" in os_[0].expected or "17996.68" in os_[0].formula


def test_a_fund_named_before_a_total_word_is_that_funds_total():
    from detector import referents

    assert referents.resolve("其他资金收入预算总计").concept == "other_funds"
    assert referents.resolve("财政拨款收入预算总计").concept == "fiscal_grand_total"
    assert referents.resolve("收入预算总计").concept == "income_grand_total"
