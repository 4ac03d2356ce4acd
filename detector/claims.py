"""Claim frames from number-bearing sentences.

A sentence is read left to right as a sequence of *mentions* (each quantity with the words in front of it)
and *separators*. Each mention gets a role from those words — a level amount, a change amount (增加 x万元),
a change rate (增长 y%), a share (占 z%), a completion rate (完成预算的 r%) or a count — and the roles are
assembled into frames: AmountClaim, ChangeClaim, ShareClaim, RateClaim, Enumeration, CountClaim.

Frames refer back to earlier amounts of the same paragraph or section (a change's current value, a share's
named whole), through a small :class:`History` of recent amount claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import regex as re

from detector import nlp, referents
from detector import subjects as subjects_mod
from detector.model import (
    AmountClaim,
    ChangeClaim,
    Claim,
    CountClaim,
    Document,
    Enumeration,
    Quantity,
    RateClaim,
    Sentence,
    ShareClaim,
)
from detector.numbers import parse_quantities
from detector.rules import Rules
from detector.segment import sentences

SEP_STRENGTH = {"、": 1, "和": 1, "及": 1, "，": 2, ",": 2, "：": 2, ":": 2, "；": 3, ";": 3, "。": 4}
SEPS_STRONGEST_FIRST = sorted(SEP_STRENGTH.items(), key=lambda item: -item[1])
UP, DOWN = "增加|增长|上升|提高|增|多|超支", "减少|下降|降低|节约|减|少|压减|缩减|下调|降"
CHANGE_VERB = re.compile(rf"(?:(?P<up>{UP})|(?P<down>{DOWN}))(?:（(?:{UP}|{DOWN})）)?(?:了|额|幅度?为?|幅|为)?\s*$")
# 「增加基本支出844.15万元」: the verb first, then what changed — a change amount, not a level.
VERB_FIRST = re.compile(r"^\s*(?:(?P<up>增加|增长|提高)|(?P<down>减少|下降|降低|压减|缩减))了?(?=\p{Han})")
TEMPLATE_DIRECTION = re.compile(r"增加（减少）|增长（下降）|增加\(减少\)|增长\(下降\)|增（减）")
FLAT = re.compile(r"持平|无增减|没有变化|无变化")
SHARE_WORD = re.compile(r"占(?P<whole>[^，,；;。%占]{0,30}?)(?:的|比[重例]为?|比为?)?\s*$")
RATE_WORD = re.compile(r"(?:完成(?:年初)?(?:预算|全年预算|调整预算)?(?:数)?的|预算执行率(?:为|达)?|执行率(?:为|达)?|完成率(?:为|达)?|支出进度(?:为|达)?|支出|完成|到位率(?:为|达)?)\s*$")
COMPARE = re.compile(r"(?:与|同|和|较|比)\s*(?:上年|上一年|去年|\d{4}\s*年度?|年初预算|预算数?|上年度)(?:相比|比较|同期)?|比上年|较上年")
ENUM_MARKER = re.compile(r"其中[：:]?|主要包括[：:]?|主要用于[：:]?|主要是[：:]?|主要有[：:]?|包括[：:]?|分别为[：:]?|分别是[：:]?|具体(?:为|是|包括|如下)[：:]?|用于以下方面[：:]?")
PARTIAL_MARKERS = ("主要", "以下方面")
NESTED_MARKER = re.compile(r"(?:主要包括|包括|主要用于|其中|主要是|具体为)")
# A clause with one of these verbs describes a stage of the money (received, used), not a component of it.
FLOW_VERBS = re.compile(r"使用|投入|到位|拨付|下达|收到|支付|执行|完成|结转")
COUNT_REFERENT = re.compile(r"([\p{Han}（）()]{1,12}?)(?:共|计|合计|共计)?\s*$")


AND_LEADING = re.compile(r"^(?:和|及|以及)")
GROUP_HEAD = re.compile(r"^\s*(?:\d{4}年度?)?([^，。；：:]{2,20}?)中(?!的)")
# 「收、支预算总计各增加x万元」: income and expense totals move together; the expense side names the figure.
BOTH_SIDES = re.compile(r"收[、和及]?支(?!出)")
SAME_PERIOD_WORDS = re.compile(r"同比|相比|比较|[\s，,]")
SECTION_WHOLE = re.compile(r"([^，。；]{2,30}?)中[，,：:]")
DOCUMENT_YEAR = re.compile(r"(20\d\d)\s*年(?:度)?(?:部门)?(?:预算|决算|部门整体)")  # 「2023年度部门决算」
ANY_YEAR = re.compile(r"(20\d\d)\s*年")
FINAL_ACCOUNT = re.compile(r"决算|绩效自评|自评报告")  # in a document's opening: it reports actuals


@dataclass
class Mention:
    q: Quantity
    left: str  # text from the previous mention (or sentence start) to this quantity
    clause: str  # the clause of ``left`` right in front of the quantity (:func:`tail`): what it is about
    role: str = "amount"
    direction: int = 0
    sep_before: str = ""  # strongest separator between the previous mention and this one
    marker_before: str = ""  # enumeration marker between the previous mention and this one


@dataclass
class History:
    """Recent amount claims, newest last: what later frames in the same section refer back to."""

    claims: list[AmountClaim] = field(default_factory=list)
    previous: tuple[int, list[AmountClaim]] | None = None  # the last sentence's block and its amounts

    def carried_subject(self, sent: Sentence) -> AmountClaim | None:
        """「单位预留机动经费预算数为1685.72万元。与上年相比增加1557.29万元，增长1312.56%。」: a change sentence
        without a subject continues the last figure of the sentence before it in the same paragraph."""
        if self.previous is None or self.previous[0] != sent.block or not self.previous[1]:
            return None
        last = self.previous[1][-1]
        return last if last.period == "current" else None

    def latest(self, concept: str | None, period: str = "current", measure: str | None = None) -> AmountClaim | None:
        for c in reversed(self.claims):
            if c.link_confidence < 0.8:
                continue
            if concept and c.concept == concept and c.period == period and (measure is None or c.measure == measure):
                return c
        return None


@dataclass
class DocContext:
    doc: Document
    year: int | None
    measure: str  # the document's default measure: budget for 预算, actual for 决算

    @cached_property
    def subjects(self) -> dict[str, str]:
        """code → name, the document's own lists first. Read on first need: only a figure under a subject
        heading asks, and reading every table cell for codes is a good part of a document's claim time."""
        return subjects_mod.document_subjects(self.doc)


def document_context(doc: Document) -> DocContext:
    head = doc.text()[:20000]
    years = [int(y) for y in DOCUMENT_YEAR.findall(head)]
    year = max(years) if years else None
    if year is None:
        counts: dict[int, int] = {}
        for y in ANY_YEAR.findall(head):
            counts[int(y)] = counts.get(int(y), 0) + 1
        year = max(counts, key=lambda k: (counts[k], k)) if counts else None
    is_final = bool(FINAL_ACCOUNT.search(head[:600])) or head.count("决算") > head.count("预算")
    return DocContext(doc=doc, year=year, measure="actual" if is_final else "budget")


def extract(doc: Document, rules: Rules) -> list[Claim]:
    """All claim frames of a document, in reading order."""
    ctx = document_context(doc)
    history = History()
    claims: list[Claim] = []
    section = None
    for sent in sentences(doc):
        if sent.section != section:
            section = sent.section
            history.claims = history.claims[-40:]
        claims.extend(extract_sentence(sent, ctx, rules, history))
    return claims + code_hierarchies(claims)


def mentions(sent: Sentence) -> list[Mention]:
    """Quantities of a sentence with the text in front of each and the separators between them."""
    out: list[Mention] = []
    prev = 0
    for q in parse_quantities(sent.text):
        left = sent.text[prev : q.start]
        strongest = _strongest_sep(left)
        marker = ENUM_MARKER.search(left)
        out.append(Mention(q=q, left=left, clause=tail(left), sep_before=_sep_name(strongest),
                           marker_before=marker.group(0) if marker else ""))
        prev = q.end
    return out


def _strongest_sep(left: str) -> int:
    """The strength of the strongest separator in ``left``: one substring test per separator, strongest first,
    not a dict lookup per character (the text between figures can be a whole paragraph). 「和」「及」 count as
    「、」 (「…万元和…万元」 lists two figures)."""
    for ch, strength in SEPS_STRONGEST_FIRST:
        if ch in left:
            return strength
    return 0


def _sep_name(strength: int) -> str:
    return {0: "", 1: "、", 2: "，", 3: "；", 4: "。"}[strength]


def tail(left: str) -> str:
    """The clause in front of a number: text after the last separator, or inside a parenthesis still open
    (「与2016年度相比（2016年度部门支出预算安排为8,648.07万元）」 is about 2016 alone)."""
    idx = max(map(left.rfind, "，,；;。：:"))  # each rfind is ≥ -1: -1 when there is no separator
    clause = left[idx + 1 :]
    opened = max(clause.rfind("（"), clause.rfind("("))
    if opened >= 0 and max(clause.rfind("）"), clause.rfind(")")) < opened:
        clause = clause[opened + 1 :]
    return clause


def classify(m: Mention) -> None:
    """Give a mention its role from the words in front of it."""
    clause = m.clause
    if m.q.kind == "count":
        m.role = "count"
        return
    if m.q.kind == "percent":
        if SHARE_WORD.search(clause):
            m.role = "share"
        elif (cv := CHANGE_VERB.search(clause)) is not None:
            m.role, m.direction = "change_rate", _direction(cv, clause)
        elif RATE_WORD.search(clause):
            m.role = "completion"
        else:
            m.role = "other_percent"
        return
    cv = CHANGE_VERB.search(clause) or VERB_FIRST.match(clause)
    if cv is not None and not SHARE_WORD.search(clause):
        m.role, m.direction = "change_amount", _direction(cv, clause)
    else:
        m.role = "amount"


def _direction(cv: re.Match, clause: str) -> int:
    if TEMPLATE_DIRECTION.search(clause):
        return 0  # 增加（减少）: a template leftover says nothing about the sign
    return 1 if cv.group("up") else -1


def extract_sentence(sent: Sentence, ctx: DocContext, rules: Rules, history: History) -> list[Claim]:
    ms = mentions(sent)
    if not ms:  # a year or a code is no quantity; the sentence still ends the one before it (carried_subject)
        history.previous = (sent.block, [])
        return []
    for m in ms:
        classify(m)
    out: list[Claim] = []
    amounts: dict[int, AmountClaim] = {}
    for i, m in enumerate(ms):
        if m.role == "amount":
            claim = amount_claim(m, sent, ctx, rules)
            previous = amounts[max(amounts)] if amounts else None
            if claim.concept is None and previous is not None and previous.concept:
                _inherit(claim, previous, rules)
            amounts[i] = claim
            out.append(claim)
    out += change_claims(ms, amounts, sent, ctx, rules, history)
    out += share_claims(ms, amounts, sent, ctx, rules, history)
    out += rate_claims(ms, amounts, sent)
    enums = [] if sent.cut else enumerations(ms, amounts, sent) + group_enumerations(ms, amounts, sent, rules, history)
    mark_exhaustive_by_shares(enums, [c for c in out if isinstance(c, ShareClaim)])
    out += enums
    out += count_claims(ms, sent)
    history.claims.extend(amounts.values())
    history.previous = (sent.block, [amounts[k] for k in sorted(amounts)])
    return out


def amount_claim(m: Mention, sent: Sentence, ctx: DocContext, rules: Rules) -> AmountClaim:
    clause = m.clause
    ref = referents.resolve(clause, rules)
    period = "current"
    if referents.is_prior(clause) or (ref.year and ctx.year and ref.year < ctx.year):
        period = "prior"
    claim = AmountClaim(
        referent=ref.text,
        quantity=m.q,
        sentence=sent,
        concept=ref.concept,
        period=period,  # type: ignore[arg-type]
        measure=referents.measure_of(clause, _section_measure(sent.section, ctx)),  # type: ignore[arg-type]
        year=ref.year or (ctx.year if period == "current" else None),
        link_confidence=ref.confidence,
    )
    if subjects_mod.is_generic(ref.text):
        _scope(claim, sent, ctx)
    elif ref.concept is None and subjects_mod.marked_names(ref.text):
        _marked_subject(claim, ctx)
    elif ref.confidence < 0.8 and len(ref.text) > HEAD_MIN_LEN:
        _head(claim, rules)
    return claim


HEAD_MIN_LEN = 8
HEAD_LINK = 0.7  # a concept found only in a referent's head is a weak link
# A token after which the words that follow name the figure: 「上年度列入此项的预留机动经费」「主要原因是增加了会议费」.
HEAD_BOUNDARY = {"的", "是", "为", "了", "将", "对", "在", "用于", "安排", "包括"}


def _head(claim: AmountClaim, rules: Rules) -> None:
    """An unlinked referent is cut to its head with jieba (domain lexicon loaded, so 一般公共预算财政拨款支出
    stays one word): the words after the last function word. The head may name a concept, but a link found
    only this way stays below the confidence other frames and checks rely on.

    A referent holding no function word and no space is its own head, whatever jieba makes of it: it is not
    segmented at all (two of three unlinked referents on the seeds)."""
    if not any(w in claim.referent for w in HEAD_BOUNDARY) and "".join(claim.referent.split()) == claim.referent:
        return
    words = nlp.tokens(claim.referent)
    cut = max((i for i, w in enumerate(words) if w in HEAD_BOUNDARY), default=-1)
    head = "".join(words[cut + 1 :]).strip()
    if not head or head == claim.referent:
        return
    ref = referents.resolve(head, rules)
    claim.referent = ref.text or head
    claim.concept, claim.link_confidence = ref.concept, min(ref.confidence, HEAD_LINK)


def _marked_subject(claim: AmountClaim, ctx: DocContext) -> None:
    """「人大事务（款）人大会议（项）支出」: the names written with their levels, placed under the section's 类."""
    names = subjects_mod.marked_names(claim.referent)
    if names[0][1] != "类":
        names = [n for n in subjects_mod.marked_names(claim.sentence.section) if n[1] == "类"] + names
    scope = subjects_mod.resolve_scope(names, ctx.subjects)
    if scope is not None and scope.code:
        claim.concept, claim.link_confidence, claim.within = f"subject:{scope.code}", 0.8, scope.code


def _scope(claim: AmountClaim, sent: Sentence, ctx: DocContext) -> None:
    """A generic figure (「年初预算为」「预算支出合计」) under a subject heading or label is that subject's."""
    label = subjects_mod.sentence_label(sent.text[: claim.quantity.start])
    names = subjects_mod.marked_names(sent.section) + subjects_mod.marked_names(label)
    scope = subjects_mod.resolve_scope(names, ctx.subjects)
    if scope is None:
        return
    claim.referent = "".join(f"{n}（{lv}）" for n, lv in scope.names) + claim.referent
    claim.within = scope.within
    claim.concept, claim.link_confidence = (f"subject:{scope.code}", 0.8) if scope.code else (None, 0.0)


def _inherit(claim: AmountClaim, previous: AmountClaim, rules: Rules) -> None:
    """Ellipsis: 「财政拨款收入1226.42万元，支出1226.42万元」 — 支出 is 财政拨款支出; 「预算为9.78万元，支出决算为
    9.78万元」 — the second figure is about the same subject as the first."""
    bare = referents.canonical(claim.referent)
    if bare in ("收入", "支出"):
        name = rules.concepts[previous.concept].name if previous.concept in rules.concepts else ""
        other = "支出" if bare == "收入" else "收入"
        if name.endswith(other):
            ref = referents.resolve(name[: -len(other)] + bare, rules)
            if ref.concept and ref.confidence >= 0.8:
                claim.concept, claim.link_confidence = ref.concept, 0.7
    elif bare in ("", "支出决算", "决算", "实际支出"):
        # 「X年初预算为a，支出决算为b」: only the measure changes, the subject is certainly X's
        sure = previous.link_confidence >= 1.0 and claim.measure != previous.measure
        claim.concept, claim.link_confidence = previous.concept, 0.85 if sure else 0.7


def _section_measure(section: str, ctx: DocContext) -> str:
    if "决算" in section:
        return "actual"
    if "预算" in section and "决算" not in section:
        return ctx.measure
    return ctx.measure


def change_claims(ms, amounts, sent, ctx, rules, history) -> list[ChangeClaim]:
    """增加 x万元，增长 y%: pair each change amount with the rate that follows it in the same clause group."""
    out: list[ChangeClaim] = []
    used_rates: set[int] = set()
    for i, m in enumerate(ms):
        if m.role != "change_amount":
            continue
        rate_i = next((j for j in range(i + 1, len(ms)) if ms[j].role == "change_rate"
                       and all(ms[k].role not in ("amount", "change_amount") for k in range(i + 1, j))
                       and ms[j].sep_before in ("", "、", "，") and _bare_rate(ms[j])), None)
        rate = ms[rate_i] if rate_i is not None else None
        if rate_i is not None:
            used_rates.add(rate_i)
        out.append(_change(sent, m, rate, i, ms, amounts, ctx, rules, history))
    for j, m in enumerate(ms):
        if m.role == "change_rate" and j not in used_rates:
            out.append(_change(sent, None, m, j, ms, amounts, ctx, rules, history))
    return out


def _bare_rate(m: Mention) -> bool:
    """「增加164.48万元，增长12.6%」 pairs; 「增加164.48万元，主要原因是会议费统一压减10%」 does not: a rate whose
    clause names a subject of its own is about that subject."""
    clause = m.clause
    cv = CHANGE_VERB.search(clause)
    subject_text = COMPARE.sub("", clause[: cv.start()] if cv else clause)
    return not SAME_PERIOD_WORDS.sub("", referents.clean(subject_text))


def _change(sent, amount_m, rate_m, i, ms, amounts, ctx, rules, history) -> ChangeClaim:
    anchor = amount_m or rate_m
    clause = anchor.clause
    cv = CHANGE_VERB.search(clause)
    subject_text = clause[: cv.start()] if cv else VERB_FIRST.sub("", clause)
    subject_text = BOTH_SIDES.sub("支出", COMPARE.sub("", subject_text))
    ref = referents.resolve(subject_text, rules)
    subject = None
    if ref.concept:
        subject = history.latest(ref.concept, "current", None)
        same = [a for k, a in amounts.items() if k < i and a.concept == ref.concept and a.period == "current"]
        subject = same[-1] if same else subject
    prior = None
    if subject is None and not ref.text:
        previous = [a for k, a in amounts.items() if k < i and a.period == "current"]
        subject = previous[-1] if previous else None
        stated_prior = [a for k, a in amounts.items() if k < i and a.period == "prior"]
        prior = stated_prior[-1] if stated_prior and subject is None else None
        if subject is None and prior is None and not any(k < i for k in amounts):
            subject = history.carried_subject(sent)
    if subject is not None:
        prior = history.latest(subject.concept, "prior", None) if subject.concept else None
        prior_here = [a for k, a in amounts.items()
                      if a.period == "prior" and subject.concept and a.concept == subject.concept]
        prior = prior_here[-1] if prior_here else prior
    direction = amount_m.direction if amount_m else rate_m.direction
    if FLAT.search(clause):
        direction = 0
    return ChangeClaim(
        sentence=sent,
        direction=direction,
        subject=subject,
        amount=amount_m.q if amount_m else None,
        rate=rate_m.q if rate_m else None,
        rate_direction=rate_m.direction if rate_m else 0,
        prior=prior,
    )


def share_claims(ms, amounts, sent, ctx, rules, history) -> list[ShareClaim]:
    """占 z%: the part is the amount just before; the whole is named after 占, or the sentence's total."""
    out: list[ShareClaim] = []
    total = _sentence_total(ms, amounts)
    for i, m in enumerate(ms):
        if m.role != "share":
            continue
        clause = m.clause
        whole_text = SHARE_WORD.search(clause).group("whole").strip()
        part = amounts.get(i - 1) if m.sep_before in ("，", "") else None
        if part is None:
            before = clause[: SHARE_WORD.search(clause).start()]
            if before.strip():
                ref = referents.resolve(before, rules)
                part = history.latest(ref.concept) if ref.concept else None
        whole = None
        if whole_text:
            ref = referents.resolve(whole_text, rules)
            if ref.concept and ref.confidence >= 0.8:
                here = [a for k, a in amounts.items() if k < i and a.concept == ref.concept and a is not part]
                whole = here[-1] if here else history.latest(
                    ref.concept, "current", part.measure if part else None) or history.latest(ref.concept)
        elif total is not None and part is not None and part is not total:
            whole = total
        elif part is not None:
            whole = _section_whole(sent, rules, history, part)
        out.append(ShareClaim(percent=m.q, sentence=sent, part=part, whole=whole, whole_referent=whole_text))
    return out


def _sentence_total(ms, amounts) -> AmountClaim | None:
    """The amount an enumeration marker follows: 「本年支出1,226.42万元，其中：…」."""
    for i, _m in enumerate(ms):
        if i in amounts and i + 1 < len(ms) and ms[i + 1].marker_before:
            return amounts[i]
    return None


def _section_whole(sent, rules, history, part) -> AmountClaim | None:
    """「“三公”经费支出决算中，因公出国（境）费…占0%」: the whole is named before 中."""
    m = SECTION_WHOLE.search(sent.text)
    if not m:
        return None
    ref = referents.resolve(m.group(1), rules)
    if not ref.concept or ref.concept == part.concept:
        return None
    return history.latest(ref.concept, "current", part.measure) or history.latest(ref.concept)


def rate_claims(ms, amounts, sent) -> list[RateClaim]:
    out: list[RateClaim] = []
    for i, m in enumerate(ms):
        if m.role != "completion":
            continue
        before = [amounts[k] for k in range(i) if k in amounts]
        actual = next((a for a in reversed(before) if a.measure == "actual"), None)
        budget = next((a for a in reversed(before) if a.measure == "budget"), None)
        out.append(RateClaim(percent=m.q, sentence=sent, actual=actual, budget=budget))
    return out


def enumerations(ms, amounts, sent) -> list[Enumeration]:
    """Every amount followed by an enumeration marker (其中/主要包括/…) is the total of a listing; its parts
    are the amounts of the first nesting level after it (a nested listing is skipped, see :func:`_parts`)."""
    out: list[Enumeration] = []
    keys = sorted(amounts)
    for n, i in enumerate(keys):
        if n + 1 >= len(keys):
            break
        between = sent.text[amounts[i].quantity.end : amounts[keys[n + 1]].quantity.start]
        marker = ENUM_MARKER.search(between)
        if not marker or "。" in between:
            continue
        parts = [p for p in _parts(sent.text, amounts, i) if _is_part(p, amounts[i])]
        if parts:
            out.append(Enumeration(total=amounts[i], parts=parts, sentence=sent, marker=marker.group(0),
                                   exhaustive=not any(w in marker.group(0) for w in PARTIAL_MARKERS)))
    return out


def _is_part(part: AmountClaim, total: AmountClaim) -> bool:
    """「年初预算8.2万元，主要是…，实际支出8.2万元」: the second figure restates the subject, it is no part."""
    bare = referents.canonical(part.referent)
    if FLOW_VERBS.search(bare) or part.period != total.period:
        return False
    return bool(bare) and bare not in ("支出", "实际支出", "支出决算", "决算") and (
        part.concept is None or part.concept != total.concept or _narrower(part, total))


def _narrower(part: AmountClaim, total: AmountClaim) -> bool:
    """「政府采购支出总额356.40万元，其中：政府采购货物支出86.40万元」: a part that only contains the total's
    name qualifies it (货物), while one that is the name (「实际支出8.2万元」 restating 8.2) does not."""
    return part.link_confidence < 0.8 <= total.link_confidence


def _strength(text: str) -> int:
    seps = [SEP_STRENGTH[ch] for ch in text if ch in SEP_STRENGTH]
    seps += [1 for _ in AND_LEADING.finditer(text)]
    return max(seps, default=0)


def _parts(text: str, amounts: dict[int, AmountClaim], i: int) -> list[AmountClaim]:
    """Parts at the first nesting level after total ``i``.

    The level's separator is the one between its first two parts; a stronger separator ends the listing,
    unless the next clause is a group label (「；对个人和家庭的补助中的生活补助5.4万元」 continues the same
    listing). A nested listing (a part followed by 包括/主要包括…) is skipped the same way."""
    parts: list[AmountClaim] = []
    level: int | None = None
    nested: int | None = None
    opening = False  # the first item of a nested listing is always inside it
    keys = [k for k in sorted(amounts) if k > i]
    prev_end = amounts[i].quantity.end
    for n, k in enumerate(keys):
        q = amounts[k].quantity
        between = text[prev_end : q.start]
        strength = _strength(between)
        group_label = "中的" in between
        prev_end = q.end
        if strength >= 4:
            break
        if opening:
            opening = False
            continue
        if nested is not None:
            if strength > nested and not group_label:
                nested = None
            else:
                continue
        if parts:
            if level is None:
                level = strength
            elif strength > level and not group_label:
                break
        parts.append(amounts[k])
        if n + 1 < len(keys):
            after = text[q.end : amounts[keys[n + 1]].quantity.start]
            if NESTED_MARKER.search(after):
                nested = _strength(text[amounts[keys[n + 1]].quantity.end : amounts[keys[n + 2]].quantity.start]) \
                    if n + 2 < len(keys) else 1
                nested = max(nested, 1)
                opening = True
    return parts


def group_enumerations(ms, amounts, sent, rules, history) -> list[Enumeration]:
    """「日常公用经费中三公经费支出5.49万元，培训费25.5万元，会议费8.8万元」: a named whole before 中, stated
    earlier, with items listed from it. The listing may be partial, so only Σ parts ≤ whole is implied."""
    if not amounts:
        return []
    first = amounts[min(amounts)]
    head = sent.text[: first.quantity.start]
    m = GROUP_HEAD.match(head)
    if not m:
        return []
    ref = referents.resolve(m.group(1), rules)
    if not ref.concept or ref.confidence < 0.8:
        return []
    total = history.latest(ref.concept, "current", first.measure) or history.latest(ref.concept)
    parts = [a for a in amounts.values() if a.concept != ref.concept]
    if total is None or len(parts) < 1:
        return []
    return [Enumeration(total=total, parts=parts, exhaustive=False, sentence=sent, marker="中")]


def code_hierarchies(claims: list[Claim]) -> list[Enumeration]:
    """Itemised subject-code lists in the narrative (「201 一般公共服务支出 774.7万元 / 20132 组织事务 …」):
    a 类 equals the sum of its 款, a 款 the sum of its 项 — when the listed children are consecutive lines."""
    coded = [c for c in claims if isinstance(c, AmountClaim) and c.concept and c.concept.startswith("subject:")
             and referents.CODE_LINE.match(referents.clean(tail(c.sentence.text[: c.quantity.start])))]
    out: list[Enumeration] = []
    for n, parent in enumerate(coded):
        code = parent.concept.split(":", 1)[1]
        if len(code) not in (3, 5):
            continue
        children = []
        for c in coded[n + 1 :]:
            child = c.concept.split(":", 1)[1]
            if not child.startswith(code):
                break
            if len(child) == len(code) + 2:
                children.append(c)
        if children:
            out.append(Enumeration(total=parent, parts=children, exhaustive=True, sentence=parent.sentence,
                                   marker="科目"))
    return out


def mark_exhaustive_by_shares(enums: list[Enumeration], shares: list[ShareClaim]) -> None:
    """A 主要用于 listing whose parts' stated shares add up to 100% claims to be complete after all."""
    for e in enums:
        if e.exhaustive or len(e.parts) < 2:
            continue
        pcts = [s.percent for s in shares if s.part is not None and any(s.part is p for p in e.parts)]
        if len(pcts) == len(e.parts):
            lo = sum(p.lo for p in pcts)
            hi = sum(p.hi for p in pcts)
            if lo <= 100 <= hi:
                e.exhaustive = True
                e.marker += "（占比合计100%）"


def count_claims(ms, sent) -> list[CountClaim]:
    """「车辆2辆，其中…0辆、…0辆」: a count and the counts of the same unit listed after 其中."""
    out: list[CountClaim] = []
    for i, m in enumerate(ms):
        if m.role != "count" or i + 1 >= len(ms) or "其中" not in ms[i + 1].marker_before:
            continue
        parts = []
        for n in ms[i + 1 :]:
            if n.role != "count" or n.q.unit != m.q.unit or n.sep_before in ("；", "。"):
                break
            parts.append(n.q)
        if parts:
            ref = COUNT_REFERENT.search(m.clause)
            out.append(CountClaim(referent=ref.group(1) if ref else "", count=m.q, sentence=sent, parts=parts))
    return out
