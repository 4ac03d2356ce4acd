"""Quantities as written: value, unit, scale and the interval of the written digits."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from detector import numbers
from detector.numbers import parse_number, parse_quantities


def texts(s: str) -> list[tuple[str, str, str]]:
    return [(q.text, str(q.value), q.unit) for q in parse_quantities(s)]


def test_amounts_with_separators_and_spaces_from_pdf_text():
    qs = parse_quantities("收入总计1,226.42万元，增加 865.57 万元，增长 79.05%")
    assert [(str(q.value), q.unit, q.kind) for q in qs] == [
        ("1226.42", "万元", "amount"), ("865.57", "万元", "amount"), ("79.05", "%", "percent")]
    assert qs[0].lo == Decimal("12264150") and qs[0].hi == Decimal("12264250")


def test_rounding_interval_of_a_percentage():
    (q,) = parse_quantities("占82.59%")
    assert (q.lo, q.hi) == (Decimal("82.585"), Decimal("82.595"))


def test_chinese_numerals_keep_their_unit():
    assert texts("安排一千二百万元，完成百分之九十四点八五") == [
        ("一千二百万元", "1200", "万元"), ("百分之九十四点八五", "94.85", "%")]


def test_full_width_digits_keep_offsets():
    text = "支出１２００．５万元"
    (q,) = parse_quantities(text)
    assert q.value == Decimal("1200.5") and text[q.start : q.end] == "１２００．５万元"


def test_counts_and_what_is_not_an_amount():
    found = texts("二级项目9个，车辆2辆，接待7人次，1批次；2023年12月31日，科目2013701，株办〔2019〕8号，电话0891-8822334，第1次")
    assert found == [("9个", "9", "个"), ("2辆", "2", "辆"), ("7人次", "7", "人次"), ("1批次", "1", "批次")]


def test_a_share_written_without_its_percent_sign_is_a_percentage_but_a_bare_cell_number_is_no_share():
    (q,) = parse_quantities("基本支出934.37万元，占76.23；")[1:]
    assert q.kind == "percent" and q.value == Decimal("76.23") and q.text == "76.23" and q.lo == Decimal("76.225")
    assert [x.kind for x in parse_quantities("占本年支出的 82.59，")] == ["percent"]
    assert [x.kind for x in parse_quantities("占地120亩，占用3个车位")] == ["count"]
    assert parse_number("76.23").value == Decimal("76.23")
    assert parse_number("－") is None and parse_number("") is None


def test_yi_and_yuan_scales():
    a, b = parse_quantities("1.2亿元与35,000元")
    assert a.base == Decimal("120000000") and b.base == Decimal("35000")


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_any_written_amount_round_trips_with_its_interval(value: Decimal):
    text = f"支出{value:,.2f}万元"
    (q,) = parse_quantities(text)
    assert q.value == value.quantize(Decimal("0.01"))
    assert q.lo <= q.base <= q.hi and q.hi - q.lo == Decimal("100")


def test_quantity_scan_reads_as_the_regex_module_would() -> None:
    """QUANTITY_RE runs on the standard library's ``re`` for speed; on generated strings of figures, units,
    separators and exotic spaces (\\x1c–\\x1f, NBSP, ideographic space, U+2003 …) it finds exactly what the same
    pattern finds under ``regex``."""
    import random

    import regex

    reference = regex.compile(numbers.QUANTITY_PATTERN)
    pieces = list("0123456789.,-%‰ 　\t\n\x1c\x1d\x1e\x1f\x85\u180e\u200b\u2028\ufeff\u00a0\u2003\x0b万元亿千个辆人次第A/占٣")
    pieces += ["万元", "亿元", "人次", "批次", "12.5", "1,226.42"]
    rnd = random.Random(7)
    for _ in range(20_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 25)))
        got = [(m.span(), m.group("num", "money", "percent", "count")) for m in numbers.QUANTITY_RE.finditer(text)]
        want = [(m.span(), m.group("num", "money", "percent", "count")) for m in reference.finditer(text)]
        assert got == want, text
