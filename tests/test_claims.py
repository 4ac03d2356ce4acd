"""Claim frames on real sentences from the seeds and on sentences written for the hard cases."""

from detector.claims import extract
from detector.ingest import from_text
from detector.model import AmountClaim, Cell, ChangeClaim, Enumeration, RateClaim, ShareClaim, Table
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


def test_an_unlinked_referent_is_cut_to_its_head_with_jieba():
    """js-rd-2018: the figure in the reason clause is the 预留机动经费 of last year, not 「主要原因是上年度列入此项的…」."""
    cs = claims("主要原因是上年度列入此项的预留机动经费128.43万元本年度调入行政运行项。", heading="一、收支预算总体情况说明")
    (a,) = of(cs, AmountClaim)
    assert a.referent == "预留机动经费" and a.period == "prior"


def test_a_head_found_by_jieba_names_a_concept_but_only_weakly():
    cs = claims("江苏省人大常委会办公厅2019年度一般公共预算拨款安排的会议费预算支出1469.73万元。")
    (a,) = of(cs, AmountClaim)
    assert a.referent == "会议费预算支出" and a.concept == "meeting" and a.link_confidence < 0.8


def test_subject_names_with_their_levels_are_placed_in_the_documents_code_list():
    text = ("2019年度部门预算\n（一）一般公共服务（类）\n"
            "3. 人大事务（款）人大会议（项）支出1469.73万元，与上年相比增加164.48万元。\n")
    doc = from_text(text)
    cells = [Cell(0, c, t) for c, t in enumerate(["2010104", "人大会议", "1469.73"])]
    doc.blocks.append(Table(index=len(doc.blocks), rows=[cells]))
    (a,) = of(extract(doc, load_rules()), AmountClaim)
    assert a.concept == "subject:2010104" and a.link_confidence == 0.8


def test_a_subject_is_not_placed_under_a_branch_listed_with_another_name():
    """Seed 000: 人大事务（款）行政运行（项） is not 2013701 行政运行, whose 款 20137 is 网信事务."""
    text = ("2023年度部门决算\n1.一般公共服务（类）人大事务（款）行政运行（项）。\n年初预算为1012.86万元。\n"
            "20137     网信事务               771.28万元\n2013701   行政运行               771.28万元\n")
    (a, *_) = of(extract(from_text(text), RULES), AmountClaim)
    assert a.concept is None and a.within == "201"


def test_a_users_rules_folder_extends_the_concepts_claims_link_to(tmp_path):
    (tmp_path / "concepts.yaml").write_text("aid_fund:\n  name: 援藏资金\n  aliases: [对口支援资金]\n  side: expense\n",
                                            encoding="utf-8")
    doc = from_text("2023年度部门决算\n三、支出决算情况说明\n对口支援资金63.18万元。\n")
    (shipped,) = of(extract(doc, RULES), AmountClaim)
    (extended,) = of(extract(doc, load_rules(str(tmp_path))), AmountClaim)
    assert shipped.concept is None and (extended.concept, extended.link_confidence) == ("aid_fund", 1.0)
