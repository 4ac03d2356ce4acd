"""Every narrative check on written sentences: what must fail fails with its arithmetic, what holds passes."""

from detector.ingest import from_text
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
