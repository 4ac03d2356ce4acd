"""Claim frames on real sentences from the seeds and on sentences written for the hard cases."""

from detector.claims import extract
from detector.ingest import from_text
from detector.model import AmountClaim, ChangeClaim, Enumeration, RateClaim, ShareClaim
from detector.rules import load_rules

RULES = load_rules()


def claims(text: str, heading: str = "三、支出决算情况说明"):
    return extract(from_text(f"2023年度部门决算\n{heading}\n{text}\n"), RULES)


def of(cs, cls):
    return [c for c in cs if isinstance(c, cls)]


def test_amount_referent_concept_year_and_measure():
    (a,) = of(claims("2023年度一般公共预算财政拨款支出1012.86万元。"), AmountClaim)
    assert (a.referent, a.concept, a.period, a.measure, a.year) == (
        "一般公共预算财政拨款支出", "gpb_expense", "current", "actual", 2023)


def test_exhaustive_enumeration_from_seed_001():
    text = "2023年预算收入107.54万元，其中：一般公共预算收入95.54万元，基金预算收入18万元，财政专户核拨收入0万元，其他来源收入0万元。"
    (e,) = of(claims(text), Enumeration)
    assert e.exhaustive and [p.quantity.text for p in e.parts] == ["95.54万元", "18万元", "0万元", "0万元"]


def test_nested_listing_is_not_summed_into_the_outer_one():
    text = "2023年部门支出预算为107.54万元，其中基本支出77.54万元，包括人员经费72.8万元和公用经费4.74万元；项目支出30万元。"
    outer, inner = of(claims(text), Enumeration)
    assert [p.quantity.text for p in outer.parts] == ["77.54万元", "30万元"]
    assert [p.quantity.text for p in inner.parts] == ["72.8万元", "4.74万元"]


def test_partial_listing_is_marked_partial():
    text = "公用经费205.99万元，主要包括：办公费9.86万元、印刷费1.66万元。"
    (e,) = of(claims(text), Enumeration)
    assert not e.exhaustive


def test_share_takes_the_sentence_total_as_whole():
    text = "本年收入1,226.42万元，其中：财政拨款收入1,163.24万元，占94.85%；其他收入63.19万元，占5.15%。"
    shares = of(claims(text), ShareClaim)
    assert [(s.part.quantity.text, s.whole.quantity.text, s.percent.text) for s in shares] == [
        ("1,163.24万元", "1,226.42万元", "94.85%"), ("63.19万元", "1,226.42万元", "5.15%")]


def test_change_refers_back_to_the_current_figure_across_sentences():
    text = "2023年度财政拨款收入1226.42万元，支出1226.42万元。与2022年度相比，财政拨款收入增加66.83万元，增长6.19%。"
    (c,) = of(claims(text), ChangeClaim)
    assert (c.direction, c.amount.text, c.rate.text, c.subject.quantity.text) == (1, "66.83万元", "6.19%", "1226.42万元")


def test_template_leftover_has_no_direction():
    text = "公务接待费支出0.10万元。与2022年度相比，公务接待费支出增加（减少）0.14万元，下降59.56%。"
    (c,) = of(claims(text), ChangeClaim)
    assert c.direction == 0 and c.rate_direction == -1


def test_keywords_broken_by_a_line_break_are_rejoined_by_the_reader_not_split_here():
    (a,) = of(claims("一般公共预算财政拨款支出\u3000 1012.86 万元。"), AmountClaim)
    assert a.concept == "gpb_expense"


def test_completion_rate_frame():
    text = "2023年度一般公共预算财政拨款支出年初预算为1012.86万元，支出决算为1012.86万元，完成年初预算的100%。"
    (r,) = of(claims(text), RateClaim)
    assert (r.budget.quantity.text, r.actual.quantity.text) == ("1012.86万元", "1012.86万元")


def test_years_are_not_amounts():
    assert of(claims("2023年度本部门无政府采购，2022年12月31日止。"), AmountClaim) == []
