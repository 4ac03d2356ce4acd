"""Numbers as written → :class:`~detector.model.Quantity`.

Only numbers that carry a unit are quantities: 1,226.42万元, 1.2亿元, 一千二百万元, 82.59%, 百分之九十四点八五,
9个, 2辆, 7人次. Years (2023年), dates, subject codes (2013701), document numbers (〔2019〕8号), phone numbers
and list markers (1. 2、) carry no such unit and are therefore never amounts. Every quantity keeps the
interval its written digits stand for: 82.59% means [82.585, 82.595].
"""

from __future__ import annotations

import re as std_re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import regex as re

from detector.model import Quantity

# Full-width digits and punctuation map one-to-one onto ASCII, so offsets are preserved.
# The Chinese comma "，" is itself full-width and stays: it separates clauses, not thousands.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
# str.translate looks every character up in a dict (slow on long Chinese text); most text has no full-width
# figure at all, and one regex scan for one is ten times cheaper than the translation.
_HAS_FULLWIDTH = re.compile("[０-９．％]")

MONEY_SCALE = {"亿元": Decimal(100_000_000), "万元": Decimal(10_000), "千元": Decimal(1000), "元": Decimal(1)}
COUNT_UNITS = ("人次", "批次", "个", "辆", "人", "次", "台", "套", "项", "名", "家", "户", "篇", "条", "场", "期", "所", "架", "艘", "处")
CN_DIGITS = "零〇一二两三四五六七八九十百千万亿点"

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_MONEY_UNIT = r"(?:亿元|万元|千元|元)"
_COUNT_UNIT = "|".join(COUNT_UNITS)

# A digit run must not continue a longer token (code, date, version) on its left.
_LEFT = r"(?<![\d.,A-Za-z\-/])"

# Amounts, percentages and counts in one scan: a figure (a sign only for a percentage, decimals not for a count)
# and the unit that says which it is. Amounts and counts that break those two conditions are dropped after the
# match (see :func:`_arabic`), which is what three separate patterns would have found.
#
# This one pattern runs over every number-bearing sentence, so it is compiled with the standard library's ``re``:
# with the lookahead in front (a figure opens with a digit or a sign) it scans ~25 % faster than ``regex`` does.
# ``re``'s \s also takes the separators \x1c–\x1f, which ``regex``'s does not: they are excluded, so both read
# the same (tests/test_numbers.py compares the two on generated strings).
QUANTITY_PATTERN = (
    rf"{_LEFT}(?P<num>-?{_NUM})\s*(?:(?P<money>{_MONEY_UNIT})|(?P<percent>%|‰)|(?P<count>{_COUNT_UNIT})(?![\d万元]))"
)
QUANTITY_RE = std_re.compile(r"(?=[-\d])" + QUANTITY_PATTERN.replace(r"\s*", r"[^\S\x1c-\x1f]*"))
CN_AMOUNT_RE = re.compile(rf"(?P<num>[{CN_DIGITS}]{{2,}})(?P<unit>{_MONEY_UNIT})")
CN_PERCENT_RE = re.compile(rf"百分之(?P<num>[{CN_DIGITS}]+)")
# 「占76.23」 with the % sign left out: after 占 (…的 / 比重为) a bare figure up to 100 is a share.
UNSIGNED_SHARE_RE = re.compile(
    r"占[^，,；;。%\d]{0,20}?(?:的|为)?\s*(?P<num>\d{1,3}(?:\.\d+)?)(?![\d.,%‰]|\s*(?:[%‰万亿千元]|" + _COUNT_UNIT + "))"
)
BARE_NUMBER_RE = re.compile(rf"{_LEFT}(?P<num>-?{_NUM})(?![\d.])")
# Cheap pre-scans: a pattern family whose needed characters are absent cannot match, so it is not run.
_HAS_DIGIT = re.compile(r"\d")
_HAS_CN_AMOUNT = re.compile(rf"[{CN_DIGITS}]元")


def normalize(text: str) -> str:
    """Full-width digits, point, percent and comma to ASCII; same length, so offsets hold."""
    return text.translate(_FULLWIDTH) if not text.isascii() and _HAS_FULLWIDTH.search(text) else text


def half_ulp(num: str) -> Decimal:
    """Half a unit of the last written digit: '1226.42' → 0.005, '18' → 0.5."""
    if "." in num:
        return _half_ulp(len(num.split(".", 1)[1]))
    return _HALF


_HALF = Decimal("0.5")


@lru_cache(maxsize=64)
def _half_ulp(decimals: int) -> Decimal:
    """Cached by decimals: Decimal power and division cost more than the rest of parsing a figure."""
    return Decimal(5) / (Decimal(10) ** (decimals + 1))


def to_decimal(num: str) -> Decimal | None:
    try:
        return Decimal(num.replace(",", ""))
    except InvalidOperation:
        return None


def parse_quantities(text: str) -> list[Quantity]:
    """Every amount, percentage and count in ``text``, in order of position, without overlaps."""
    norm = normalize(text)
    found: list[Quantity] = []
    if _HAS_DIGIT.search(norm):
        _arabic(norm, text, found)
    if "元" in norm and _HAS_CN_AMOUNT.search(norm):
        for m in CN_AMOUNT_RE.finditer(norm):
            q = _make_cn(m, text, "amount", MONEY_SCALE[m.group("unit")])
            if q:
                found.append(q)
    if "百分之" in norm:
        for m in CN_PERCENT_RE.finditer(norm):
            q = _make_cn(m, text, "percent", Decimal(1), unit="%")
            if q:
                found.append(q)
    return _without_overlaps(found) if len(found) > 1 else found


def _arabic(norm: str, text: str, found: list[Quantity]) -> None:
    """The amounts, percentages and counts written in Arabic digits, appended to ``found``."""
    for m in QUANTITY_RE.finditer(norm):
        num, money, percent, count = m.group("num", "money", "percent", "count")  # one call: groups cost
        start, end = m.span()
        if percent:
            found.append(_make(num, text, start, end, "percent", _PER_MILLE if percent == "‰" else _ONE, "%"))
        elif num[0] == "-":
            continue  # 「-5万元」: a sign belongs to a percentage only
        elif money:
            found.append(_make(num, text, start, end, "amount", MONEY_SCALE[money], money))
        elif "." not in num and (start == 0 or norm[start - 1] != "第"):  # 「1.5个」「第3项」: no counts
            found.append(_make(num, text, start, end, "count", _ONE, count))
    if "占" in norm:
        for m in UNSIGNED_SHARE_RE.finditer(norm):
            num = m.group("num")
            if Decimal(num) <= 100:
                found.append(_make(num, text, *m.span("num"), "percent", _ONE, "%"))


_ONE, _PER_MILLE = Decimal(1), Decimal("0.1")


@lru_cache(maxsize=1 << 16)
def parse_number(text: str) -> Quantity | None:
    """A table cell or bare figure: '1,226.42', '－', '12.5%'. Empty and dash cells are None.

    Cached: table checks read the same cells again and again (each relation, each layout guess), and a
    Quantity is frozen, so one parse per distinct text serves them all."""
    norm = normalize(text).strip()
    if not norm or norm in {"-", "—", "－", "/", "…"}:
        return None
    # A bare figure (most table cells) holds no unit, %, count word or Chinese numeral, so no quantity pattern
    # can match in it: it goes straight to the bare-number reading below.
    m = BARE_NUMBER_RE.fullmatch(norm)
    if m is None:
        qs = parse_quantities(norm)
        if len(qs) == 1 and qs[0].start == 0 and qs[0].end == len(norm):
            return qs[0]
    if not m:
        return None
    value = to_decimal(m.group("num"))
    if value is None:
        return None
    return Quantity(value=value, unit="", kind="amount", scale=Decimal(1), text=text.strip(), start=0,
                    end=len(norm), half_ulp=half_ulp(m.group("num")))


def _make(num: str, text: str, start: int, end: int, kind: str, scale: Decimal, unit: str) -> Quantity:
    """The quantity written with the digits ``num`` at ``text[start:end]``."""
    return _quantity(text, start, end, kind, scale, unit, Decimal(num.replace(",", "")), half_ulp(num))


def _quantity(text: str, start: int, end: int, kind: str, scale: Decimal, unit: str, value: Decimal,
              half: Decimal) -> Quantity:
    return Quantity(value=value, unit=unit, kind=kind, scale=scale,  # type: ignore[arg-type]
                    text=text[start:end], start=start, end=end, half_ulp=half)


def _make_cn(m: re.Match, text: str, kind: str, scale: Decimal, unit: str | None = None) -> Quantity | None:
    num = m.group("num")
    if kind == "amount" and unit is None and m.group("unit") == "元" and num[-1] in "万亿" and len(num) > 1:
        unit = num[-1] + "元"  # 一千二百万元 is 1200 万元, not 12000000 元 with a looser interval
        scale = MONEY_SCALE[unit]
        num = num[:-1]
    high = Decimal(0)
    if unit == "万元" and "亿" in num:  # 一亿二千万元 is 1亿 and 2000万: 12000 万元, not (1亿 + 2000) 万元
        head, _, num = num.rpartition("亿")
        high = (cn_to_decimal(head)[0] or Decimal("NaN")) * 10_000
    value, decimals = cn_to_decimal(num)
    if value is None or high.is_nan():
        return None
    return _quantity(text, *m.span(), kind, scale, unit or m.group("unit"), value + high,
                     Decimal(5) / (Decimal(10) ** (decimals + 1)))


def cn_to_decimal(cn: str) -> tuple[Decimal | None, int]:
    """Chinese numerals to Decimal: 一千二百 → 1200, 九十四点八五 → 94.85, 三点五 → 3.5.

    cn2an handles most forms; it fails on some (e.g. 两千零五 in some versions, stray 〇), so a small own
    reader is the fallback. Returns (value, decimals written)."""
    integer, _, frac = cn.partition("点")
    decimals = len(frac)
    try:
        import cn2an

        value = Decimal(str(cn2an.cn2an(cn.replace("〇", "零"), "smart")))
        if decimals:
            value = value.quantize(Decimal(1).scaleb(-decimals))
        return value, decimals
    except Exception:  # cn2an raises plain ValueError/KeyError on forms it does not know
        pass
    int_value = _cn_integer(integer)
    if int_value is None:
        return None, 0
    frac_digits = "".join(str(_CN_DIGIT[c]) for c in frac if c in _CN_DIGIT)
    if len(frac_digits) != len(frac):
        return None, 0
    return Decimal(f"{int_value}.{frac_digits}" if frac_digits else int_value), decimals


_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}


def _cn_integer(cn: str) -> int | None:
    if not cn:
        return 0
    if all(c in _CN_DIGIT for c in cn):  # digit-by-digit form: 二〇二三
        return int("".join(str(_CN_DIGIT[c]) for c in cn))
    total, section, digit = 0, 0, None
    for c in cn:
        if c in _CN_DIGIT:
            digit = _CN_DIGIT[c]
        elif c in _CN_UNIT:
            section += (1 if digit is None else digit) * _CN_UNIT[c]
            digit = None
        elif c in _CN_BIG:
            section += digit or 0
            total = (total + section) * _CN_BIG[c]
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _without_overlaps(found: list[Quantity]) -> list[Quantity]:
    found.sort(key=lambda q: (q.start, -(q.end - q.start)))
    out: list[Quantity] = []
    for q in found:
        if out and q.start < out[-1].end:
            continue
        out.append(q)
    return out


def fmt(value: Decimal, places: int = 2) -> str:
    """A Decimal for people: fixed places, no exponent (a computed figure with as many decimals as its operands:
    34.23 + 771.28 → 805.51)."""
    return f"{value.quantize(_quantum(places)):f}"


@lru_cache(maxsize=64)
def _quantum(places: int) -> Decimal:
    """0.01 for 2 places: one per count of places, made once (every relation checked formats its result)."""
    return Decimal(1).scaleb(-places)
