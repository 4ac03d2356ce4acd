"""Checks of the narrative against itself: every relation a claim frame implies becomes an Outcome.

All arithmetic is on the stated numbers' rounding intervals (:mod:`detector.interval`): a relation fails
only when no values inside the intervals satisfy it. A failure whose gap is smaller than one unit of the
stated figure's last digit is a *rounding* slip and reported as ``info``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from detector.interval import Interval, corner_range, total
from detector.model import (
    AmountClaim,
    ChangeClaim,
    Claim,
    CountClaim,
    Document,
    Enumeration,
    Evidence,
    Outcome,
    Quantity,
    RateClaim,
    Sentence,
    ShareClaim,
)
from detector.numbers import fmt
from detector.rules import Rules

HUNDRED = Decimal(100)
MIN_LINK = 0.8  # below this a referent link never raises a finding
# Two figures are "the same referent" only when both referents are exactly a concept's name or alias (or a
# certain ellipsis of one): a referent that merely ends with an alias may be a narrower or wider scope.
VALUE_LINK = 0.85


def run(doc: Document, claims: list[Claim], rules: Rules) -> list[Outcome]:
    out: list[Outcome] = []
    for c in claims:
        if isinstance(c, Enumeration):
            out.append(check_enumeration(c))
        elif isinstance(c, ShareClaim):
            out.append(check_share(c))
        elif isinstance(c, ChangeClaim):
            out.extend(check_change(c))
        elif isinstance(c, RateClaim):
            out.append(check_rate(c))
        elif isinstance(c, CountClaim):
            out.append(check_count(c))
    amounts = [c for c in claims if isinstance(c, AmountClaim)]
    out.extend(check_values(amounts))
    out.extend(check_within(amounts))
    out.extend(check_change_sums(claims))
    out.extend(check_prior_identities(claims, rules))
    listed = {(id(c.total), id(p)) for c in claims if isinstance(c, Enumeration) for p in c.parts}
    out.extend(check_identities(doc, amounts, rules, listed))
    return out


# --------------------------------------------------------------------------------------------- evidence


def sentence_evidence(sent: Sentence, values: list[Quantity]) -> Evidence:
    return Evidence(text=sent.text.strip(), block=sent.block, page=sent.page, start=sent.start, end=sent.end,
                    file=sent.file, values=[q.text for q in values])


def evidence_for(claims: list[AmountClaim], extra: list[tuple[Sentence, Quantity]] = ()) -> list[Evidence]:
    """One Evidence per distinct sentence, carrying the numbers of that sentence involved."""
    by_sentence: dict[tuple, tuple[Sentence, list[Quantity]]] = {}
    for sent, q in [(c.sentence, c.quantity) for c in claims] + list(extra):
        key = (sent.block, sent.start)
        by_sentence.setdefault(key, (sent, []))[1].append(q)
    return [sentence_evidence(s, qs) for s, qs in by_sentence.values()]


def amount_text(q: Quantity) -> str:
    return q.text.replace(" ", "")


SLIP_SHARE = Decimal("0.01")


def severity_for(gap: Decimal, stated: Quantity) -> str:
    """Within one unit of the stated figure's last digit and within 1% of the figure: a rounding slip (info),
    else an error. The second bound matters for coarse figures: 「增长30%」 where 29.15% is right is one unit off,
    but a unit of a two-digit figure is a material error (3%), not a slip of rounding."""
    unit = stated.half_ulp * 2 * stated.scale
    return "info" if gap < unit and gap <= abs(stated.base) * SLIP_SHARE else "error"


def margin(gap: Decimal, stated: Quantity) -> float:
    unit = stated.half_ulp * 2 * stated.scale
    return float(gap / unit) if unit else float(gap)


def _pct(v: Decimal) -> str:
    return f"{fmt(v, 2)}%"


def _wan(v: Decimal, like: Quantity) -> str:
    """A base-unit value back in the unit of ``like`` (万元 stays 万元)."""
    scale = like.scale or Decimal(1)
    places = max(2, -int((like.half_ulp * 2).normalize().as_tuple().exponent) if like.half_ulp else 2)
    return fmt(v / scale, places) + (like.unit if like.kind == "amount" else "")


# ------------------------------------------------------------------------------------------ enumerations


def check_enumeration(e: Enumeration) -> Outcome:
    parts = [Interval.of(p.quantity) for p in e.parts]
    got = total(parts)
    stated = Interval.of(e.total.quantity)
    names = " + ".join(amount_text(p.quantity) for p in e.parts)
    formula_sum = f"{names} = {_wan(got.mid, e.total.quantity)}"
    evidence = evidence_for([e.total, *e.parts])
    exhaustive = e.exhaustive and len(e.parts) >= 2
    if exhaustive:
        gap = got.gap(stated)
        rule, kind = ("narrative.code_sum", "sum_mismatch") if e.marker == "科目" else ("narrative.sum", "sum_mismatch")
        formula = f"{e.total.referent or '合计'} = Σ 各项：{formula_sum}"
        status = "pass" if gap == 0 else "fail"
        message = (f"{e.total.referent}{amount_text(e.total.quantity)}，{e.marker}所列各项合计 {formula_sum}，"
                   f"相差 {_wan(abs(got.mid - stated.mid), e.total.quantity)}")
    else:
        gap = max(Decimal(0), got.lo - stated.hi)
        rule, kind = "narrative.parts_exceed", "parts_exceed_total"
        formula = f"Σ 所列各项 ≤ {e.total.referent or '合计'}：{formula_sum} ≤ {amount_text(e.total.quantity)}"
        status = "pass" if gap == 0 else "fail"
        message = (f"{e.total.referent}{amount_text(e.total.quantity)}，所列部分项目合计已达 {formula_sum}，"
                   f"超出 {_wan(got.lo - stated.hi, e.total.quantity)}")
    return Outcome(rule=rule, kind=kind, status=status, formula=formula, evidence=evidence,
                   stated=amount_text(e.total.quantity), expected=_wan(got.mid, e.total.quantity),
                   reason=message if status == "fail" else "", severity=severity_for(gap, e.total.quantity),
                   confidence=0.9 if exhaustive else 0.8, margin=margin(gap, e.total.quantity))


# ------------------------------------------------------------------------------------------------ shares


def check_share(s: ShareClaim) -> Outcome:
    rule, kind = "narrative.share", "share_mismatch"
    if s.part is None or s.whole is None:
        missing = "部分" if s.part is None else f"总体（{s.whole_referent or '未指明'}）"
        return _unverifiable(rule, kind, s.sentence, [s.percent], f"无法确定{missing}的数值")
    part, whole, pct = Interval.of(s.part.quantity), Interval.of(s.whole.quantity), Interval.of(s.percent)
    if whole.hi == 0:
        ok = part.lo == 0 and pct.lo <= 0
        return _decided(rule, kind, ok, s, "总体为0", Decimal(0), s.percent, [s.part, s.whole])
    computed = corner_range(lambda a, b: a / b * HUNDRED, [part, whole]) if whole.lo > 0 else None
    if computed is None:
        return _unverifiable(rule, kind, s.sentence, [s.percent], "总体可能为0，占比无定义")
    gap = computed.gap(pct)
    formula = f"{amount_text(s.part.quantity)} ÷ {amount_text(s.whole.quantity)} = {_pct(computed.mid)}"
    return Outcome(
        rule=rule, kind=kind, status="pass" if gap == 0 else "fail", formula=formula,
        evidence=evidence_for([s.part, s.whole], [(s.sentence, s.percent)]),
        stated=s.percent.text, expected=_pct(computed.mid),
        reason=f"{formula}，文中为 {s.percent.text}" if gap else "",
        severity=severity_for(gap, s.percent), confidence=_link_conf(s.part, s.whole), margin=margin(gap, s.percent),
    )


def _link_conf(*claims: AmountClaim) -> float:
    return round(min([0.95] + [max(c.link_confidence, 0.6) for c in claims]), 2)


def _decided(rule, kind, ok, s, formula, expected, stated, claims) -> Outcome:
    return Outcome(rule=rule, kind=kind, status="pass" if ok else "fail", formula=formula,
                   evidence=evidence_for(claims, [(s.sentence, stated)]), stated=stated.text,
                   expected=_pct(expected), reason="" if ok else f"{formula}，文中为 {stated.text}")


def _unverifiable(rule: str, kind: str, sent: Sentence, qs: list[Quantity], reason: str) -> Outcome:
    return Outcome(rule=rule, kind=kind, status="unverifiable", formula="", evidence=[sentence_evidence(sent, qs)],
                   reason=reason, severity="info", confidence=0.0)


# ----------------------------------------------------------------------------------------------- changes


def check_change(c: ChangeClaim) -> list[Outcome]:
    out: list[Outcome] = []
    sign = c.direction or c.rate_direction
    if c.direction and c.rate_direction and c.direction != c.rate_direction and c.amount and c.amount.value != 0:
        out.append(Outcome(
            rule="narrative.direction", kind="direction_mismatch", status="fail",
            formula="增减方向一致", evidence=[sentence_evidence(c.sentence, [q for q in (c.amount, c.rate) if q])],
            stated=f"{c.amount.text} / {c.rate.text}", expected="同向",
            reason="同一变动前后说法相反：金额为" + ("增加" if c.direction > 0 else "减少") + "，比率为"
            + ("增长" if c.rate_direction > 0 else "下降"), confidence=0.8))
    if c.subject is not None and c.prior is not None and c.amount is not None and sign:
        out.append(_check_change_amount(c, sign))
    if c.rate is not None:
        out.append(_check_growth(c, sign))
    return out


def _check_change_amount(c: ChangeClaim, sign: int) -> Outcome:
    cur, prior, amt = Interval.of(c.subject.quantity), Interval.of(c.prior.quantity), Interval.of(c.amount)
    diff = cur - prior
    stated = Interval(amt.lo * sign, amt.hi * sign)
    gap = diff.gap(stated)
    formula = f"{amount_text(c.subject.quantity)} − {amount_text(c.prior.quantity)} = {_wan(diff.mid, c.amount)}"
    return Outcome(rule="narrative.change", kind="change_mismatch", status="pass" if gap == 0 else "fail",
                   formula=formula, evidence=evidence_for([c.subject, c.prior], [(c.sentence, c.amount)]),
                   stated=c.amount.text, expected=_wan(abs(diff.mid), c.amount),
                   reason=f"{formula}，文中变动额为 {c.amount.text}" if gap else "",
                   severity=severity_for(gap, c.amount), confidence=_link_conf(c.subject, c.prior),
                   margin=margin(gap, c.amount))


def _check_growth(c: ChangeClaim, sign: int) -> Outcome:
    rule, kind = "narrative.growth", "growth_mismatch"
    rate = Interval.of(c.rate)
    if not sign:
        return _unverifiable(rule, kind, c.sentence, [c.rate], "增减方向未写明（模板残留“增加（减少）”）")
    if c.subject is None and c.prior is None:
        reason = "新增项目按惯例记为增长100%" if c.rate.value == 100 and sign > 0 else "找不到变动所对应的本年数"
        return _unverifiable(rule, kind, c.sentence, [c.rate], reason)
    rate_signed = Interval(rate.lo, rate.hi)
    if c.amount is not None and c.subject is not None:
        cur, amt = Interval.of(c.subject.quantity), Interval.of(c.amount)
        base = cur - Interval(amt.lo * sign, amt.hi * sign)
        def f(x, a):
            return (a / (x - sign * a) * HUNDRED)
        args = [cur, amt]
        formula_base = f"{amount_text(c.subject.quantity)} {'−' if sign > 0 else '+'} {amount_text(c.amount)}"
        formula = f"{amount_text(c.amount)} ÷ ({formula_base})"
        involved = [c.subject]
        quantities = [c.amount, c.rate]
    elif c.prior is not None and c.subject is not None:
        cur, prior = Interval.of(c.subject.quantity), Interval.of(c.prior.quantity)
        base = prior
        def f(x, p):
            return (abs(x - p) / p * HUNDRED)
        args = [cur, prior]
        formula = f"|{amount_text(c.subject.quantity)} − {amount_text(c.prior.quantity)}| ÷ {amount_text(c.prior.quantity)}"
        involved = [c.subject, c.prior]
        quantities = [c.rate]
    elif c.amount is not None and c.prior is not None:
        base, amt = Interval.of(c.prior.quantity), Interval.of(c.amount)
        def f(p, a):
            return a / p * HUNDRED
        args = [base, amt]
        formula = f"{amount_text(c.amount)} ÷ {amount_text(c.prior.quantity)}"
        involved = [c.prior]
        quantities = [c.amount, c.rate]
    else:
        return _unverifiable(rule, kind, c.sentence, [c.rate], "缺少变动额或上年数")
    if base.lo <= 0:
        reason = "上年基数为0，增长率无定义（新增项目常记为100%）"
        return _unverifiable(rule, kind, c.sentence, [c.rate], reason)
    computed = corner_range(f, args)
    if computed is None:
        return _unverifiable(rule, kind, c.sentence, [c.rate], "基数可能为0")
    gap = computed.gap(rate_signed)
    expected = _pct(computed.mid)
    return Outcome(rule=rule, kind=kind, status="pass" if gap == 0 else "fail",
                   formula=f"{formula} = {expected}",
                   evidence=evidence_for(involved, [(c.sentence, q) for q in quantities]),
                   stated=c.rate.text, expected=expected,
                   reason=f"{formula} = {expected}，文中为 {c.rate.text}" if gap else "",
                   severity=severity_for(gap, c.rate), confidence=_link_conf(*involved), margin=margin(gap, c.rate))


# ------------------------------------------------------------------------------------------------- rates


def check_rate(r: RateClaim) -> Outcome:
    rule, kind = "narrative.completion", "rate_mismatch"
    if r.actual is None or r.budget is None:
        return _unverifiable(rule, kind, r.sentence, [r.percent], "缺少预算数或决算数")
    act, bud, pct = Interval.of(r.actual.quantity), Interval.of(r.budget.quantity), Interval.of(r.percent)
    if bud.lo <= 0:
        return _unverifiable(rule, kind, r.sentence, [r.percent], "预算数为0，完成率无定义")
    computed = corner_range(lambda a, b: a / b * HUNDRED, [act, bud])
    gap = computed.gap(pct)
    formula = f"{amount_text(r.actual.quantity)} ÷ {amount_text(r.budget.quantity)} = {_pct(computed.mid)}"
    return Outcome(rule=rule, kind=kind, status="pass" if gap == 0 else "fail", formula=formula,
                   evidence=evidence_for([r.actual, r.budget], [(r.sentence, r.percent)]),
                   stated=r.percent.text, expected=_pct(computed.mid),
                   reason=f"{formula}，文中为 {r.percent.text}" if gap else "",
                   severity=severity_for(gap, r.percent), confidence=0.9, margin=margin(gap, r.percent))


# ------------------------------------------------------------------------------------------------ counts


def check_count(c: CountClaim) -> Outcome:
    listed = sum(p.value for p in c.parts)
    exhaustive = len(c.parts) >= 2 and "等" not in c.sentence.text[c.parts[-1].end : c.parts[-1].end + 2]
    ok = listed == c.count.value if exhaustive else listed <= c.count.value
    formula = " + ".join(p.text for p in c.parts) + f" = {listed}{c.count.unit}"
    return Outcome(rule="narrative.count", kind="sum_mismatch", status="pass" if ok else "fail",
                   formula=f"{formula}（文中 {c.referent}{c.count.text}）",
                   evidence=[sentence_evidence(c.sentence, [c.count, *c.parts])], stated=c.count.text,
                   expected=f"{listed}{c.count.unit}", reason="" if ok else f"所列分项合计 {formula}，与总数 {c.count.text} 不符",
                   confidence=0.8)


# ------------------------------------------------------------------------------------- same-referent values


def check_values(amounts: list[AmountClaim]) -> list[Outcome]:
    """The same concept, period and measure stated with values that cannot be the same figure."""
    groups: dict[tuple, list[AmountClaim]] = defaultdict(list)
    for a in amounts:
        if a.concept and a.link_confidence >= VALUE_LINK and a.quantity.kind == "amount":
            groups[(a.concept, a.period, a.measure, a.year)].append(a)
    out: list[Outcome] = []
    for (_concept, _, _, _), group in groups.items():
        if len(group) < 2:
            continue
        first = group[0]
        reported: list[Interval] = [Interval.of(first.quantity)]
        for other in group[1:]:
            iv = Interval.of(other.quantity)
            if any(iv.overlaps(r) for r in reported):
                continue
            anchor = next(g for g in group if not Interval.of(g.quantity).overlaps(iv))
            reported.append(iv)
            out.append(Outcome(
                rule="narrative.value", kind="value_conflict", status="fail",
                formula=f"同一项目前后数值应一致：{anchor.referent}",
                evidence=evidence_for([other, anchor]), stated=amount_text(other.quantity),
                expected=amount_text(anchor.quantity),
                reason=f"“{other.referent}”此处为 {amount_text(other.quantity)}，"
                       f"前文为 {amount_text(anchor.quantity)}",
                severity="error", confidence=_link_conf(other, anchor)))
        if len(reported) == 1:
            out.append(Outcome(rule="narrative.value", kind="value_conflict", status="pass",
                               formula=f"{first.referent} 前后一致（{len(group)} 处）",
                               evidence=evidence_for(group[:2]), stated=amount_text(first.quantity)))
    return out


# ------------------------------------------------------------------------------------------ subject scope


def check_within(amounts: list[AmountClaim]) -> list[Outcome]:
    """A figure under a subject heading cannot exceed what the document states for a code above it (a 项
    under 类 201 more than every figure given for 201). Only the largest stated parent figure is compared, so
    a parent stated for a narrower fund scope elsewhere cannot raise a false alarm."""
    parents: dict[tuple, list[AmountClaim]] = defaultdict(list)
    for a in amounts:
        code = _subject_code(a, VALUE_LINK)
        if code:
            parents[(code, a.period, a.measure)].append(a)
    out: list[Outcome] = []
    for child in amounts:
        if child.within is None:
            continue
        for code in _ancestors(child):
            stated = parents.get((code, child.period, child.measure))
            if stated:
                out.append(_within(child, code, stated))
    return out


def _ancestors(child: AmountClaim) -> list[str]:
    """Codes strictly above the figure: prefixes of the code it lies within, and that code itself when the
    figure's own code is unknown."""
    codes = {child.within[:n] for n in (3, 5, 7) if len(child.within) >= n}
    return sorted(codes - {_subject_code(child, 0.0)})


def _within(child: AmountClaim, code: str, stated: list[AmountClaim]) -> Outcome:
    largest = max(stated, key=lambda a: Interval.of(a.quantity).hi)
    gap = max(Decimal(0), Interval.of(child.quantity).lo - Interval.of(largest.quantity).hi)
    figures = " / ".join(amount_text(a.quantity) for a in stated)
    formula = f"{child.referent} ≤ {code}：{amount_text(child.quantity)} ≤ max({figures})"
    evidence = evidence_for([child, *stated])
    sent = child.sentence
    if sent.section_block is not None:
        evidence.insert(0, Evidence(text=sent.section, block=sent.section_block, page=sent.page, end=len(sent.section),
                                    file=sent.file))
    reason = f"{child.referent}为 {amount_text(child.quantity)}，超过上级科目 {code} 在文中的所有数额（{figures}）"
    return _bounded("narrative.within", "parts_exceed_total", gap, child.quantity, formula, evidence,
                    f"≤ {amount_text(largest.quantity)}", reason)


def _bounded(rule: str, kind: str, gap: Decimal, stated: Quantity, formula: str, evidence: list[Evidence],
             expected: str, reason: str, confidence: float = 0.8) -> Outcome:
    """The outcome of a relation that bounds a stated figure: it fails by ``gap`` beyond the bound."""
    return Outcome(rule=rule, kind=kind, status="pass" if gap == 0 else "fail", formula=formula, evidence=evidence,
                   stated=amount_text(stated), expected=expected, reason=reason if gap else "",
                   severity=severity_for(gap, stated), confidence=confidence, margin=margin(gap, stated))


# -------------------------------------------------------------------------------------- changes of parts

UNCHANGED = ("与上年一致", "与上年持平", "与上年相同", "与上年保持一致", "与上年预算一致")


def check_change_sums(claims: list[Claim]) -> list[Outcome]:
    """A subject's change against the changes of its listed sub-items. When the items' figures add up to the
    subject's figure, every sub-item that exists this year is listed; an item dropped since last year can only
    pull the subject's change down. So the subject cannot rise by more than the listed changes add up to."""
    amounts = [c for c in claims if isinstance(c, AmountClaim)]
    changes = {id(c.subject): c for c in claims if isinstance(c, ChangeClaim) and c.subject is not None
               and c.amount is not None and c.direction}
    out: list[Outcome] = []
    for parent in amounts:
        code = _subject_code(parent)
        if code is None or parent.period != "current" or id(parent) not in changes:
            continue
        for length in (5, 7):
            items = _sub_items(parent, code, length, amounts)
            if len(items) >= 2 and Interval.of(parent.quantity).overlaps(total([Interval.of(a.quantity) for a in items])):
                outcome = _change_sum(parent, changes[id(parent)], items, changes)
                if outcome is not None:
                    out.append(outcome)
                break
    return out


def _subject_code(a: AmountClaim, min_link: float = MIN_LINK) -> str | None:
    """The 功能分类 code a figure is linked to (concept ``subject:2040501``), if linked firmly enough."""
    if a.concept and a.concept.startswith("subject:") and a.link_confidence >= min_link:
        return a.concept.split(":", 1)[1]
    return None


def _sub_items(parent: AmountClaim, code: str, length: int, amounts: list[AmountClaim]) -> list[AmountClaim]:
    """The first figure stated for each sub-code of one length, same period and measure as the parent."""
    seen: dict[str, AmountClaim] = {}
    for a in amounts:
        sub = _subject_code(a)
        if (sub and len(sub) == length and len(sub) > len(code) and sub.startswith(code)
                and a.period == parent.period and a.measure == parent.measure):
            seen.setdefault(sub, a)
    return list(seen.values())


def _change_sum(parent, change, items, changes) -> Outcome | None:
    deltas: list[tuple[AmountClaim, Interval]] = []
    for a in items:
        c = changes.get(id(a))
        if c is not None:
            iv = Interval.of(c.amount)
            deltas.append((a, Interval(iv.lo * c.direction, iv.hi * c.direction) if c.direction > 0
                           else Interval(-iv.hi, -iv.lo)))
        elif any(w in a.sentence.text for w in UNCHANGED):
            deltas.append((a, Interval(Decimal(0), Decimal(0))))
        else:
            return None
    listed = total([d for _, d in deltas])
    stated_iv = Interval.of(change.amount)
    stated = stated_iv if change.direction > 0 else Interval(-stated_iv.hi, -stated_iv.lo)
    gap = max(Decimal(0), stated.lo - listed.hi)
    terms = " ".join(f"{'+' if d.mid >= 0 else '−'}{_wan(abs(d.mid), change.amount)}" for _, d in deltas)
    formula = f"{parent.referent}变动 ≤ Σ 各子项变动：{_wan(stated.mid, change.amount)} ≤ {terms} = {_wan(listed.mid, change.amount)}"
    evidence = evidence_for([parent, *items], [(change.sentence, change.amount)]
                            + [(changes[id(a)].sentence, changes[id(a)].amount) for a, _ in deltas if id(a) in changes])
    reason = (f"{parent.referent}各子项（合计 {amount_text(parent.quantity)}，与总数相符）的变动合计为 "
              f"{_wan(listed.mid, change.amount)}，而总数变动写为 {amount_text(change.amount)}")
    return _bounded("narrative.change_sum", "sum_mismatch", gap, change.amount, formula, evidence,
                    f"≤ {_wan(listed.mid, change.amount)}", reason)


# ----------------------------------------------------------------------------- identities of last year

def check_prior_identities(claims: list[Claim], rules: Rules) -> list[Outcome]:
    """The identities of rules/identities.yaml hold last year too. A figure with its stated change implies last
    year's figure (current − change); the implied figures of a total and its parts must satisfy the identity.
    「收支预算总计21,955.35万元，增加3,958.67」「财政拨款收、支总预算21,940.96万元，增加3,958.98」「其他资金
    14.39万元，减少0.61」 put last year's parts (17,981.98 + 15.00) above last year's total (17,996.68)."""
    implied: dict[tuple[str, str], list[tuple[Interval, ChangeClaim]]] = defaultdict(list)
    for c in claims:
        if (isinstance(c, ChangeClaim) and c.subject is not None and c.amount is not None and c.direction
                and c.subject.concept and c.subject.period == "current" and c.subject.link_confidence >= MIN_LINK):
            delta = Interval.of(c.amount)
            cur = Interval.of(c.subject.quantity)
            prior = cur - delta if c.direction > 0 else cur + delta
            implied[(c.subject.concept, c.subject.measure)].append((prior, c))
    out: list[Outcome] = []
    for measure in dict.fromkeys(m for _, m in implied):  # in the order first met: a set's order changes by process
        latest = {k: v[0] for (k, m), v in implied.items() if m == measure and _agree(v)}
        for identity in rules.identities:
            outcome = _prior_identity(identity, latest, rules)
            if outcome is not None:
                out.append(outcome)
    return out


def _agree(priors: list[tuple[Interval, ChangeClaim]]) -> bool:
    """A concept whose changes imply different prior figures is a value conflict of its own, not a base here."""
    return all(p.overlaps(priors[0][0]) for p, _ in priors)


def _prior_identity(identity: dict, latest: dict, rules: Rules) -> Outcome | None:
    if identity["total"] not in latest:
        return None
    present = [p for p in identity["parts"] if p in latest]
    exhaustive = identity.get("exhaustive") and len(present) == len(identity["parts"])
    if not present:
        return None
    tot, tot_change = latest[identity["total"]]
    got = total([latest[p][0] for p in present])
    gap = got.gap(tot) if exhaustive else max(Decimal(0), got.lo - tot.hi)
    like = tot_change.amount
    name = rules.concepts[identity["total"]].name
    terms = " + ".join(f"{rules.concepts[p].name}{_wan(latest[p][0].mid, like)}" for p in present)
    formula = f"上年{name}{_wan(tot.mid, like)} {'=' if exhaustive else '≥'} {terms} = {_wan(got.mid, like)}"
    changes = [tot_change] + [latest[p][1] for p in present]
    evidence = evidence_for([c.subject for c in changes], [(c.sentence, c.amount) for c in changes])
    reason = f"由本年数与增减额倒推的上年数不满足 {identity.get('note', '')}：{formula}"
    return _bounded("narrative.prior_identity", "value_conflict", gap, like, formula, evidence,
                    _wan(got.mid, like), reason)


# --------------------------------------------------------------------------------------------- identities


def check_identities(doc: Document, amounts: list[AmountClaim], rules: Rules,
                     listed: set[tuple[int, int]] = frozenset()) -> list[Outcome]:
    """Identities from rules/identities.yaml among the figures of one section (the latest of each concept)."""
    by_section: dict[str, list[AmountClaim]] = defaultdict(list)
    for a in amounts:
        if a.concept and a.link_confidence >= MIN_LINK and a.period == "current":
            by_section[a.sentence.section].append(a)
    text = doc.text()
    out: list[Outcome] = []
    for claims in by_section.values():
        for measure in ("actual", "budget", "unknown"):
            latest = {a.concept: a for a in claims if a.measure == measure}
            for identity in rules.identities:
                outcome = _identity(identity, latest, rules, text, listed)
                if outcome:
                    out.append(outcome)
    return out


def _identity(identity: dict, latest: dict[str, AmountClaim], rules: Rules, text: str,
              listed: set[tuple[int, int]]) -> Outcome | None:
    tot = latest.get(identity["total"])
    if tot is None:
        return None
    present = [latest[p] for p in identity["parts"] if p in latest]
    absent = [p for p in identity["parts"] if p not in latest]
    if not present or all((id(tot), id(p)) in listed for p in present):
        return None  # the same listing is checked as an enumeration already
    zero_absent = identity.get("absent_parts_zero") and absent and not any(
        alias in text for p in absent for alias in (rules.concepts[p].name, *rules.concepts[p].aliases))
    exhaustive = identity.get("exhaustive") and (not absent or zero_absent)
    got = total([Interval.of(p.quantity) for p in present])
    stated = Interval.of(tot.quantity)
    names = " + ".join(f"{rules.concepts[p.concept].name}{amount_text(p.quantity)}" for p in present)
    if zero_absent:
        names += " + " + " + ".join(f"{rules.concepts[p].name}0（未提及）" for p in absent)
    if exhaustive:
        gap = got.gap(stated)
        kind = "sum_mismatch" if not zero_absent else "value_conflict"
        relation = "="
    else:
        gap = max(Decimal(0), got.lo - stated.hi)
        kind = "parts_exceed_total"
        relation = "≥"
    formula = f"{rules.concepts[tot.concept].name}{amount_text(tot.quantity)} {relation} {names}"
    return Outcome(rule="narrative.identity", kind=kind, status="pass" if gap == 0 else "fail",
                   formula=f"{formula} = {_wan(got.mid, tot.quantity)}" if exhaustive else formula,
                   evidence=evidence_for([tot, *present]), stated=amount_text(tot.quantity),
                   expected=_wan(got.mid, tot.quantity),
                   reason=f"{formula}（{identity.get('note', '')}），各项合计 {_wan(got.mid, tot.quantity)}" if gap else "",
                   severity=severity_for(gap, tot.quantity), confidence=0.75 if zero_absent else 0.9,
                   margin=margin(gap, tot.quantity))


