"""Property-based tests (hypothesis) of the quantity parser and the narrative check engine.

(a) Any amount, percentage or count written the ways disclosures write them — Arabic digits with or without
    thousands separators, full-width digits, Chinese numerals — parses back to its value, unit and the rounding
    interval of its written digits; years, dates, codes, document numbers, phones and list markers never do.
(b) A 决算 narrative generated from consistent random figures in the genre's sentence templates, every figure
    written with proper rounding, draws no fail from ``check_document``; the same document with one figure
    moved beyond its rounding interval draws exactly the fails an independent oracle predicts — exact interval
    arithmetic on Fractions over the relations the templates state — and no other.

Example counts are modest so ``pytest -q`` stays fast; ``GOUJI_HYPOTHESIS=thorough`` runs many more.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from detector.ingest import from_text
from detector.numbers import COUNT_UNITS, parse_quantities
from detector.pipeline import check_document
from detector.rules import load_rules

settings.register_profile("fast", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = settings.get_profile(os.environ.get("GOUJI_HYPOTHESIS", "fast"))
FEW = settings(PROFILE, max_examples=max(10, PROFILE.max_examples // 2))  # whole-document checks cost more

FULLWIDTH = str.maketrans("0123456789.%", "０１２３４５６７８９．％")
SCALE = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}


def half_ulp(places: int) -> Decimal:
    return Decimal(5) / Decimal(10) ** (places + 1)


def written(value: Decimal, places: int, separators: bool = False) -> str:
    """``value`` written with ``places`` decimals, optionally with thousands separators."""
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{q:,.{places}f}" if separators else f"{q:.{places}f}"


# ================================================================================ (a) the quantity parser

CN = "零一二三四五六七八九"


def cn_int(n: int, liang: bool = False) -> str:
    """An integer 0 ≤ n < 10¹² in standard Chinese numerals: 10005 → 一万零五, 120000000 → 一亿二千万."""
    if n == 0:
        return "零"

    def group(g: int) -> str:
        out, gap = "", False
        for place, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = g // place % 10
            if d == 0:
                gap = bool(out)
                continue
            out += ("零" if gap else "") + ("两" if liang and d == 2 and place >= 1000 else CN[d]) + unit
            gap = False
        return out

    out, gap = "", False
    for g, unit in ((n // 10**8, "亿"), (n // 10**4 % 10**4, "万"), (n % 10**4, "")):
        if g == 0:
            gap = bool(out)
            continue
        out += ("零" if out and (gap or g < 1000) else "") + group(g) + unit
        gap = False
    return out[1:] if out.startswith("一十") else out


def cn_decimal(value: Decimal, places: int) -> str:
    integer, _, frac = f"{value:.{places}f}".partition(".")
    return cn_int(int(integer)) + ("点" + "".join(CN[int(d)] for d in frac) if frac else "")


def test_cn_int_writes_the_standard_forms() -> None:  # the generator itself, on forms the genre uses
    assert [cn_int(n) for n in (12, 1200, 1005, 1050, 10005, 120_000_000, 100_000_500, 23_456_000)] == [
        "十二", "一千二百", "一千零五", "一千零五十", "一万零五", "一亿二千万", "一亿零五百", "二千三百四十五万六千"]


PREFIXES = st.sampled_from(["", "本年支出", "收入总计", "其中：", "增加", "，", "为", "安排资金", "（", "共 "])
SUFFIXES = st.sampled_from(["", "。", "，", "；其中", "）", "，比上年", " 主要用于"])


@st.composite
def arabic(draw, units: list[str]) -> tuple[str, Decimal, int, str]:
    """(text, value, decimals, unit) of an Arabic-digit figure as the narrative writes it."""
    places = draw(st.integers(0, 4))
    value = Decimal(draw(st.integers(0, 10**11))).scaleb(-places)
    text = written(value, places, separators=draw(st.booleans()))
    if draw(st.booleans()):
        text = text.translate(FULLWIDTH)
    unit = draw(st.sampled_from(units))
    return text + draw(st.sampled_from(["", " "])) + unit, value, places, unit


@PROFILE
@given(arabic(list(SCALE)), PREFIXES, SUFFIXES)
@example(("1,226.42万元", Decimal("1226.42"), 2, "万元"), "收入总计", "，")
@example(("１２００．５万元", Decimal("1200.5"), 1, "万元"), "支出", "")
def test_arabic_amount_round_trips(fig, prefix: str, suffix: str) -> None:
    text, value, places, unit = fig
    sentence = prefix + text + suffix
    (q,) = parse_quantities(sentence)
    assert (q.value, q.unit, q.kind, q.scale) == (value, unit, "amount", SCALE[unit])
    assert q.half_ulp == half_ulp(places) and q.lo <= value * SCALE[unit] <= q.hi
    assert sentence[q.start : q.end] == q.text == text


@PROFILE
@given(arabic(["%", "%", "‰"]), st.sampled_from(["占", "增长", "完成预算的", "下降", "占比"]), SUFFIXES)
def test_arabic_percentage_round_trips(fig, prefix: str, suffix: str) -> None:
    text, value, places, unit = fig
    (q,) = parse_quantities(prefix + text + suffix)
    scale = Decimal(1) if unit == "%" else Decimal("0.1")
    assert (q.value, q.unit, q.kind, q.scale, q.half_ulp) == (value, "%", "percent", scale, half_ulp(places))
    assert q.text == text


@PROFILE
@given(st.integers(0, 10**7), st.sampled_from(COUNT_UNITS), st.booleans(), st.booleans(),
       st.sampled_from(["共有", "二级项目", "接待", "，"]))
@example(12345, "人次", True, False, "接待")
def test_count_round_trips(n: int, unit: str, separators: bool, fullwidth: bool, prefix: str) -> None:
    text = f"{n:,}" if separators else str(n)
    text = (text.translate(FULLWIDTH) if fullwidth else text) + unit
    (q,) = parse_quantities(prefix + text + "。")
    assert (q.value, q.unit, q.kind, q.half_ulp, q.text) == (n, unit, "count", Decimal("0.5"), text)


@PROFILE
@given(st.integers(1, 10**11), st.booleans(), PREFIXES)
@example(120_000_000, False, "安排")  # 一亿二千万元
@example(105_000_000, False, "")  # 一亿零五百万元
def test_chinese_numeral_amount_round_trips(yuan: int, liang: bool, prefix: str) -> None:
    """一千二百万元, 一亿二千万元, 两千零五元: the value in 元 and the unit the numeral ends with (its interval is
    half a unit of that unit: 一千二百万元 is 1200 ± 0.5 万元)."""
    numeral = cn_int(yuan, liang)
    assume(len(numeral) >= 2)  # a lone 五元 is not read (too many words end in a numeral character)
    text = numeral + "元"
    (q,) = parse_quantities(prefix + text)
    unit = {"万": "万元", "亿": "亿元"}.get(numeral[-1], "元")
    assert (q.base, q.unit, q.kind, q.half_ulp, q.text) == (yuan, unit, "amount", Decimal("0.5"), text)


@PROFILE
@given(st.integers(0, 9999), st.integers(1, 3), st.integers(0, 999), st.sampled_from(["万元", "亿元"]))
def test_chinese_numeral_decimal_amount_round_trips(integer: int, places: int, frac: int, unit: str) -> None:
    value = Decimal(integer) + Decimal(frac % 10**places).scaleb(-places)
    text = cn_decimal(value, places) + unit
    (q,) = parse_quantities("收入" + text)
    assert (q.value, q.unit, q.half_ulp) == (value, unit, half_ulp(places))


@PROFILE
@given(st.integers(0, 100), st.integers(0, 3), st.integers(0, 999))
@example(94, 2, 85)  # 百分之九十四点八五
def test_chinese_numeral_percentage_round_trips(integer: int, places: int, frac: int) -> None:
    value = Decimal(integer) + (Decimal(frac % 10**places).scaleb(-places) if places else 0)
    text = "百分之" + cn_decimal(value, places)
    (q,) = parse_quantities("完成" + text + "。")
    assert (q.value, q.unit, q.kind, q.half_ulp, q.text) == (value, "%", "percent", half_ulp(places), text)


NOT_AMOUNTS = st.one_of(
    st.integers(1949, 2099).map(lambda y: f"{y}年"),
    st.integers(1949, 2099).map(lambda y: f"{y}年度"),
    st.tuples(st.integers(1990, 2099), st.integers(1, 12), st.integers(1, 31)).map(lambda d: f"{d[0]}年{d[1]}月{d[2]}日"),
    st.integers(201, 2299999).map(lambda c: f"科目{c}"),
    st.integers(2000000, 2299999).map(str),
    st.tuples(st.sampled_from(["青财预", "财办", "国发", ""]), st.integers(2000, 2099), st.integers(1, 999)).map(
        lambda d: f"{d[0]}〔{d[1]}〕{d[2]}号"),
    st.tuples(st.integers(10, 999), st.integers(1000000, 99999999)).map(lambda p: f"电话0{p[0]}-{p[1]}"),
    st.integers(1, 30).map(lambda n: f"{n}."), st.integers(1, 30).map(lambda n: f"{n}、"),
    st.integers(1, 30).map(lambda n: f"（{n}）"), st.integers(1, 30).map(lambda n: f"第{n}次"),
    st.integers(1, 30).map(lambda n: f"第{n}个"),
)


@PROFILE
@given(st.lists(NOT_AMOUNTS, min_size=1, max_size=4), st.sampled_from(["", "根据", "截至", "于"]),
       st.decimals(0, 10**6, places=2))
def test_years_codes_and_document_numbers_are_never_quantities(tokens: list[str], lead: str, amount: Decimal) -> None:
    """Alone they give nothing; beside a real amount, only the amount is found."""
    assert parse_quantities(lead + "，".join(tokens) + "公开") == []
    figure = f"{amount:,.2f}万元"
    found = parse_quantities(lead + "，".join(tokens) + "，本年支出" + figure + "。")
    assert [(q.text, q.value) for q in found] == [(figure, amount)]


# ============================================================================== (b) the check engine

Frac = Fraction


@dataclass
class Figure:
    """One written figure: its value as written, decimals, kind and how it is rendered."""

    value: Decimal
    places: int
    kind: str  # amount (in the document's money unit) | percent | count
    unit: str = ""  # a count's unit (辆)

    @property
    def lo(self) -> Frac:
        return Frac(self.value) - Frac(half_ulp(self.places)) if self.kind != "count" else Frac(self.value)

    @property
    def hi(self) -> Frac:
        return Frac(self.value) + Frac(half_ulp(self.places)) if self.kind != "count" else Frac(self.value)


@dataclass
class Relation:
    """A relation a template states; ``holds`` is exact interval arithmetic, independent of the engine."""

    rule: str
    stated: str  # key of the figure the engine reports as stated
    holds: object  # Callable[[dict[str, Figure]], bool]
    passed: str = ""  # key the engine reports when the relation passes, when not ``stated``


@dataclass
class Style:
    unit: str  # 万元 or 元
    places: int  # decimals of amounts
    separators: bool
    fullwidth: bool
    pct_places: int
    year: int


@dataclass
class Narrative:
    """A generated document: a template with {key} slots, its figures and the relations among them."""

    style: Style
    parts: list[str] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    def render(self, figures: dict[str, Figure] | None = None) -> str:
        figures = figures or self.figures
        return "\n".join(self.parts).format(**{k: self.text(f) for k, f in figures.items()}) + "\n"

    def text(self, f: Figure) -> str:
        s = self.style
        if f.kind == "count":
            body = str(f.value)
        else:
            body = written(f.value, f.places, s.separators and f.kind == "amount")
        if s.fullwidth:
            body = body.translate(FULLWIDTH)
        return body + {"amount": s.unit, "percent": "%", "count": f.unit}[f.kind]

    def checked(self) -> list[tuple[str, str]]:
        """(rule, stated figure) of every relation, as the engine reports it when it passes."""
        return sorted((r.rule, canon(self.text(self.figures[r.passed or r.stated]))) for r in self.relations)

    def fails(self, figures: dict[str, Figure]) -> list[tuple[str, str]]:
        return sorted((r.rule, canon(self.text(figures[r.stated]))) for r in self.relations if not r.holds(figures))


def canon(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "")


def overlaps(lo1: Frac, hi1: Frac, lo2: Frac, hi2: Frac) -> bool:
    return lo1 <= hi2 and lo2 <= hi1


def sum_holds(total: str, parts: list[str]):
    return lambda F: overlaps(sum(F[p].lo for p in parts), sum(F[p].hi for p in parts), F[total].lo, F[total].hi)


def parts_within(total: str, parts: list[str]):
    return lambda F: sum(F[p].lo for p in parts) <= F[total].hi


def ratio_holds(num: str, den: str, pct: str):
    """pct% = num / den (share, completion): num/den is increasing in num and decreasing in den."""
    return lambda F: F[den].lo > 0 and overlaps(F[num].lo / F[den].hi * 100, F[num].hi / F[den].lo * 100,
                                               F[pct].lo, F[pct].hi)


def growth_holds(change: str, current: str, pct: str, sign: int):
    """pct% = change / (current − sign·change): increasing in change, decreasing in current."""
    def holds(F):
        lo_base, hi_base = F[current].hi - sign * F[change].lo, F[current].lo - sign * F[change].hi
        if min(lo_base, hi_base) <= 0:
            return True  # undefined base: the engine calls it unverifiable
        return overlaps(F[change].lo / lo_base * 100, F[change].hi / hi_base * 100, F[pct].lo, F[pct].hi)
    return holds


def same_holds(a: str, b: str):
    return lambda F: overlaps(F[a].lo, F[a].hi, F[b].lo, F[b].hi)


def count_holds(total: str, parts: list[str]):
    return lambda F: sum(F[p].value for p in parts) == F[total].value


def rounded(x: Frac, places: int) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class Builder:
    """Writes a 决算 narrative from true values (in 元), rounding each figure as a careful author would."""

    def __init__(self, draw, style: Style) -> None:
        self.draw, self.doc = draw, Narrative(style)
        self.money = Decimal(10_000) if style.unit == "万元" else Decimal(1)

    def amount(self, key: str, yuan: int) -> str:
        self.doc.figures[key] = Figure(rounded(Frac(yuan) / Frac(self.money), self.doc.style.places),
                                       self.doc.style.places, "amount")
        return key

    def pct(self, key: str, ratio: Frac) -> str:
        self.doc.figures[key] = Figure(rounded(ratio * 100, self.doc.style.pct_places), self.doc.style.pct_places,
                                       "percent")
        return key

    def count(self, key: str, n: int, unit: str) -> str:
        self.doc.figures[key] = Figure(Decimal(n), 0, "count", unit)
        return key

    def rel(self, rule: str, stated: str, holds, passed: str = "") -> None:
        self.doc.relations.append(Relation(rule, stated, holds, passed))

    def split(self, total: int, n: int, min_share: float = 0.02) -> list[int]:
        weights = [self.draw(st.integers(int(min_share * 1000) + 1, 1000)) for _ in range(n)]
        parts = [total * w // sum(weights) for w in weights]
        parts[0] += total - sum(parts)
        return parts

    def yuan(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))


def p(key: str) -> str:
    return "{" + key + "}"


# Sentence forms of the genre the engine once missed (claims.py): each is generated only when a test forces it
# into every document, so the forms stay covered even when the random draw rarely picks them.
KNOWN_GAPS = {
    # 「本年支出合计100.00万元，其中：基本支出49.51万元，占本年支出合计的49.51%」: the whole is named but is the
    # same sentence's total, which the share frame only looks up among earlier sentences → unverifiable.
    "share_names_its_own_sentence_total": "the named whole of 占…的x% is looked up only in earlier sentences",
    # 「基本支出49.51万元，占比49.51%」: 占比 is read as a whole named 比 → unverifiable.
    "share_written_zhanbi": "占比x% is read as a share of a whole named 比",
    # 「政府采购支出总额356.40万元，其中：政府采购货物支出86.40万元、…」: the parts resolve to the total's own
    # concept (procurement, by suffix) and are dropped as restatements → no sum is checked.
    "procurement_parts_named_like_the_total": "政府采购货物支出 resolves to the concept of 政府采购支出总额",
}


def variant(draw, force: frozenset, gap: str, usual: list[str], gapped: str) -> str:
    return gapped if gap in force else draw(st.sampled_from(usual))


def build(draw, force: frozenset = frozenset()) -> Narrative:
    style = Style(unit=draw(st.sampled_from(["万元", "万元", "元"])), places=2, separators=draw(st.booleans()),
                  fullwidth=draw(st.booleans()), pct_places=draw(st.sampled_from([2, 2, 1])),
                  year=draw(st.integers(2015, 2030)))
    b, y = Builder(draw, style), style.year
    doc = b.doc
    doc.parts += [f"青溪县某局{y}年度部门决算公开情况说明", f"第二部分 {y}年度部门决算情况说明"]

    # 收入: a total, its 其中 parts and their shares
    t_in = b.yuan(1_000_000, 500_000_000)
    names = draw(st.sampled_from([["财政拨款收入", "事业收入", "其他收入"], ["财政拨款收入", "其他收入"],
                                  ["财政拨款收入", "事业收入", "经营收入", "其他收入"]]))
    values = b.split(t_in, len(names))
    b.amount("in_total", t_in)
    items = []
    share = variant(draw, force, "share_written_zhanbi", ["占"], "占比")
    share = variant(draw, force, "share_names_its_own_sentence_total", [share], "占本年收入合计的")
    for i, (name, v) in enumerate(zip(names, values, strict=True)):
        b.amount(f"in_{i}", v)
        b.pct(f"in_{i}_pct", Frac(v, t_in))
        b.rel("narrative.share", f"in_{i}_pct", ratio_holds(f"in_{i}", "in_total", f"in_{i}_pct"))
        items.append(f"{name}{p(f'in_{i}')}，{share}{p(f'in_{i}_pct')}")
    b.rel("narrative.sum", "in_total", sum_holds("in_total", [f"in_{i}" for i in range(len(names))]))
    doc.parts += ["二、收入决算情况说明", f"{y}年度本年收入合计{p('in_total')}，其中：" + "；".join(items) + "。"]

    # 支出: 基本支出 and 项目支出 with shares; then 一般公共预算财政拨款支出, its share of the total and its change
    t_ex = b.yuan(1_000_000, 500_000_000)
    basic, project = b.split(t_ex, 2, 0.05)
    b.amount("ex_total", t_ex), b.amount("ex_basic", basic), b.amount("ex_project", project)
    b.pct("ex_basic_pct", Frac(basic, t_ex)), b.pct("ex_project_pct", Frac(project, t_ex))
    b.rel("narrative.sum", "ex_total", sum_holds("ex_total", ["ex_basic", "ex_project"]))
    for k in ("ex_basic", "ex_project"):
        b.rel("narrative.share", f"{k}_pct", ratio_holds(k, "ex_total", f"{k}_pct"))
    share = variant(draw, force, "share_written_zhanbi", ["占"], "占比")
    share = variant(draw, force, "share_names_its_own_sentence_total", [share], "占本年支出合计的")
    doc.parts += ["三、支出决算情况说明",
                  f"{y}年度本年支出合计{p('ex_total')}，其中：基本支出{p('ex_basic')}，{share}{p('ex_basic_pct')}；"
                  f"项目支出{p('ex_project')}，{share}{p('ex_project_pct')}。"]

    gpb = t_ex * draw(st.integers(500, 1000)) // 1000
    rate = Frac(draw(st.integers(-600, 1500)), 1000)  # the change against last year: −60 % … +150 %
    assume(abs(rate) >= Frac(5, 1000))
    prior = int(gpb / (1 + rate))
    change = gpb - prior
    sign = 1 if change > 0 else -1
    b.amount("gpb", gpb), b.amount("gpb_change", abs(change)), b.pct("gpb_rate", Frac(abs(change), prior))
    b.pct("gpb_share", Frac(gpb, t_ex))
    b.rel("narrative.share", "gpb_share", ratio_holds("gpb", "ex_total", "gpb_share"))
    b.rel("narrative.growth", "gpb_rate", growth_holds("gpb_change", "gpb", "gpb_rate", sign))
    up, rise = ("增加", "增长") if sign > 0 else ("减少", "下降")
    compare = draw(st.sampled_from([f"与{y - 1}年度相比，一般公共预算财政拨款支出", "一般公共预算财政拨款支出比上年"]))
    doc.parts += ["四、一般公共预算财政拨款支出决算情况说明",
                  f"{y}年度一般公共预算财政拨款支出{p('gpb')}，占本年支出合计的{p('gpb_share')}。"
                  f"{compare}{up}{p('gpb_change')}，{rise}{p('gpb_rate')}。"]

    # 完成率: the same figure again, against its budget
    budget = int(gpb / Frac(draw(st.integers(600, 1300)), 1000))
    b.amount("budget", budget), b.amount("gpb_again", gpb), b.pct("done", Frac(gpb, budget))
    b.rel("narrative.completion", "done", ratio_holds("gpb_again", "budget", "done"))
    b.rel("narrative.value", "gpb_again", same_holds("gpb", "gpb_again"), passed="gpb")
    doc.parts += [f"{y}年度一般公共预算财政拨款支出年初预算为{p('budget')}，支出决算为{p('gpb_again')}，"
                  f"完成年初预算的{p('done')}。"]

    # 基本支出: 人员经费 and 公用经费
    fb = b.yuan(200_000, 100_000_000)
    personnel, public = b.split(fb, 2, 0.05)
    b.amount("fb", fb), b.amount("personnel", personnel), b.amount("public", public)
    b.rel("narrative.sum", "fb", sum_holds("fb", ["personnel", "public"]))
    doc.parts += ["五、一般公共预算财政拨款基本支出决算情况说明",
                  f"{y}年度一般公共预算财政拨款基本支出{p('fb')}，其中：人员经费{p('personnel')}，公用经费{p('public')}。"]

    # 三公: total and its three items (因公出国（境）费 often 0)
    abroad = draw(st.sampled_from([0, 0, b.yuan(10_000, 300_000)]))
    car, guests = b.yuan(10_000, 800_000), b.yuan(5_000, 300_000)
    b.amount("three", abroad + car + guests), b.amount("abroad", abroad), b.amount("car", car)
    b.amount("guests", guests)
    b.rel("narrative.sum", "three", sum_holds("three", ["abroad", "car", "guests"]))
    doc.parts += ["六、财政拨款“三公”经费支出决算情况说明",
                  f"{y}年度“三公”经费财政拨款支出决算为{p('three')}，其中：因公出国（境）费{p('abroad')}；"
                  f"公务用车购置及运行维护费{p('car')}；公务接待费{p('guests')}。"]

    # 机关运行经费: a change stated in the same sentence
    run_now = b.yuan(50_000, 5_000_000)
    run_rate = Frac(draw(st.integers(-500, 800)), 1000)
    assume(abs(run_rate) >= Frac(5, 1000))
    run_prior = int(run_now / (1 + run_rate))
    run_change = run_now - run_prior
    run_sign = 1 if run_change > 0 else -1
    b.amount("run", run_now), b.amount("run_change", abs(run_change)), b.pct("run_rate", Frac(abs(run_change), run_prior))
    b.rel("narrative.growth", "run_rate", growth_holds("run_change", "run", "run_rate", run_sign))
    up, rise = ("增加", "增长") if run_sign > 0 else ("减少", "下降")
    doc.parts += ["七、机关运行经费支出说明",
                  f"{y}年度本部门机关运行经费支出{p('run')}，比上年{up}{p('run_change')}，{rise}{p('run_rate')}。"]

    # 政府采购: a total, its 其中 parts by kind, and the share awarded to small firms
    g = b.yuan(100_000, 50_000_000)
    kinds = b.split(g, 3, 0.0)
    sme = g * draw(st.integers(100, 1000)) // 1000
    b.amount("proc", g), b.amount("sme", sme), b.pct("sme_pct", Frac(sme, g))
    for i, v in enumerate(kinds):
        b.amount(f"proc_{i}", v)
    b.rel("narrative.sum", "proc", sum_holds("proc", ["proc_0", "proc_1", "proc_2"]))
    b.rel("narrative.share", "sme_pct", ratio_holds("sme", "proc", "sme_pct"))
    names = variant(draw, force, "procurement_parts_named_like_the_total", ["货物类|工程类|服务类"],
                    "政府采购货物支出|政府采购工程支出|政府采购服务支出").split("|")
    doc.parts += ["九、政府采购支出说明",
                  f"{y}年度本部门政府采购支出总额{p('proc')}，其中：" + "、".join(
                      f"{n}{p(f'proc_{i}')}" for i, n in enumerate(names)) +
                  f"。授予中小企业合同金额{p('sme')}，占政府采购支出总额的{p('sme_pct')}。"]

    # 车辆: a count and its 其中 parts
    cars = [draw(st.integers(0, 30)) for _ in range(2)]
    b.count("cars", sum(cars), "辆"), b.count("cars_0", cars[0], "辆"), b.count("cars_1", cars[1], "辆")
    b.rel("narrative.count", "cars", count_holds("cars", ["cars_0", "cars_1"]))
    doc.parts += ["八、国有资产占用情况说明",
                  f"截至{y}年12月31日，本部门共有车辆{p('cars')}，其中：一般公务用车{p('cars_0')}，"
                  f"执法执勤用车{p('cars_1')}。"]
    return doc


@st.composite
def narratives(draw, force: frozenset = frozenset()) -> Narrative:
    return build(draw, force)


@st.composite
def perturbed(draw, force: frozenset = frozenset()) -> tuple[Narrative, str, dict[str, Figure]]:
    """A narrative and a copy with one figure moved beyond its rounding interval so that some relation breaks."""
    doc = build(draw, force)
    key = draw(st.sampled_from(sorted(doc.figures)))
    f = doc.figures[key]
    ulp = Decimal(1).scaleb(-f.places)
    if f.kind == "count":
        delta = Decimal(draw(st.integers(1, 5)))
    else:  # a slip of a few per cent or a few last digits, never inside the interval: ≥ 2 units of the last digit
        fraction = Decimal(draw(st.integers(2, 400))) / 1000
        delta = max((f.value * fraction).quantize(ulp), ulp * draw(st.integers(2, 20)))
    down = draw(st.booleans()) and f.value - delta >= 0
    figures = dict(doc.figures)
    figures[key] = Figure(f.value - delta if down else f.value + delta, f.places, f.kind, f.unit)
    assume(doc.fails(figures))  # the oracle decides what breaks; a slip that breaks nothing is not this test's
    return doc, key, figures


def engine(text: str, status: str = "fail") -> list[tuple[str, str]]:
    """(rule, stated figure) of the engine's outcomes with ``status``."""
    result = check_document(from_text(text, "generated"), RULES)
    return sorted((o.rule, canon(o.stated)) for o in result.outcomes if o.status == status)


RULES = load_rules()


@FEW
@given(narratives())
def test_consistent_narrative_draws_no_fail(doc: Narrative) -> None:
    assert_consistent_passes(doc)


def assert_consistent_passes(doc: Narrative) -> None:
    assert doc.fails(doc.figures) == []  # the generator's own oracle agrees
    text = doc.render()
    assert engine(text) == [], text
    passed = engine(text, "pass")
    missing = [r for r in doc.checked() if r not in passed]  # not vacuous: every stated relation was checked
    assert not missing, f"not checked: {missing}\n{text}"


@FEW
@given(perturbed())
def test_one_perturbed_figure_draws_exactly_the_predicted_fails(case) -> None:
    assert_predicted_fails(*case)


def assert_predicted_fails(doc: Narrative, key: str, figures: dict[str, Figure]) -> None:
    text = doc.render(figures)
    assert engine(text) == doc.fails(figures), f"moved {key}: {doc.text(doc.figures[key])} → " \
                                                     f"{doc.text(figures[key])}\n{text}"


GAP_CASES = list(KNOWN_GAPS)


@settings(FEW, max_examples=5)
@pytest.mark.parametrize("gap", GAP_CASES)
@given(data=st.data())
def test_known_gap_sentence_forms(gap: str, data) -> None:
    """The same two properties with one sentence form the engine does not read yet forced into every document."""
    assert_consistent_passes(data.draw(narratives(frozenset([gap]))))
    assert_predicted_fails(*data.draw(perturbed(frozenset([gap]))))
