"""Narrative against tables: a figure the text states must be the figure the standard tables show.

Each narrative :class:`~detector.model.AmountClaim` is linked to table cells of the same concept, period,
measure and source of funds: through its concept (rules/concepts.yaml aliases, or ``subject:<code>``), or, when the
claim module found no concept, through the subject path of a coded row (人大事务行政运行（项） → 20101 人大事务 /
2010101 行政运行) or a character n-gram TF-IDF similarity between its referent and the table row labels. Every link
has a confidence. A claim fails only when it is linked with confidence, the linked table figures agree with each
other, and none of them overlaps the claim's rounding interval; otherwise the outcome is ``pass`` or
``unverifiable``. Figures compare in 元, so a 元 table and a 万元 narrative never conflict by unit.

Change amounts (增加基本支出 844.15万元) are not levels and are never linked. A generic total scoped by a subject
mark earlier in its sentence ("检察（款）：预算支出合计…") is that subject's total: its link is refused.

A share whose whole the narrative names but never states (占“三公”经费的 8.75%) takes the whole from the table
cell of that concept (``narrative.table_share``), with the cell as evidence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from detector import referents
from detector.checks.narrative import margin, sentence_evidence, severity_for
from detector.checks.tables import SURE, Fact, cell_evidence, cell_name, facts, measures_agree
from detector.interval import Interval, corner_range
from detector.model import (
    AmountClaim,
    ChangeClaim,
    Claim,
    Document,
    Enumeration,
    Evidence,
    Outcome,
    ShareClaim,
)
from detector.numbers import fmt
from detector.rules import Rules
from detector.tables import UnderstoodTable, understand_document
from detector.tables.arith import equal_relation
from detector.tables.rows import strip_marker
from detector.tables.values import decimals_of
from detector.tables.vocab import Vocab, vocab

RULE = "narrative.table_value"
KIND = "value_conflict"
SHARE_RULE = "narrative.table_share"
MIN_LINK = 0.8  # below this link confidence a mismatch is unverifiable, never a fail
MIN_SIMILARITY = 0.9  # TF-IDF fallback: a referent must read almost as the row label to be linked at all
MIN_WORDING = 0.4  # a referent far from the linked row's own words (货物类政府采购支出 vs 合计) may be a narrower figure
PATH_LINK = 0.9  # a referent that reads exactly as a coded row's 款 + 项 names
HUNDRED = Decimal(100)


@dataclass
class Link:
    facts: list[Fact]
    confidence: float
    how: str
    wording: str | None = None  # the row words the referent is compared with (None: the first fact's label)


def run(doc: Document, claims: list[Claim], rules: Rules, understood: list | None = None,
        index: dict[tuple, list[Fact]] | None = None) -> list[Outcome]:
    """One outcome per narrative amount linked to at least one table figure, and one per share whose whole
    only a table states. ``index``: the :func:`~detector.checks.tables.facts` of exactly these tables (the
    understood tables with an identity and a scale), when the caller has it already."""
    understood = understood if understood is not None else understand_document(doc, rules)
    tables = [t for t in understood if t.identity is not None and t.scale]
    if not tables:
        return []
    v = vocab(rules)
    index = index if index is not None else facts(tables, rules)
    totals = totals_by_subject(index)
    fallback = _LabelIndex(index)
    paths = _paths(tables, totals)
    changes = _change_amounts(claims)
    scope_of = _part_scopes(claims, v)
    out: list[Outcome] = []
    for claim in claims:
        if isinstance(claim, ShareClaim):
            o = _share(claim, totals, v, rules)
            if o is not None:
                out.append(o)
            continue
        if not isinstance(claim, AmountClaim) or claim.quantity.kind != "amount" or claim.period == "unknown":
            continue
        if _is_change(claim, changes, v):
            continue
        link = _in_scope(_link(claim, totals, fallback, paths, v), scope_of.get(id(claim)))
        if link is not None:
            out.append(_check(claim, link, _scoped_by_subject(claim, link, v)))
    return out


def _change_amounts(claims: list[Claim]) -> set[tuple[int, int, int]]:
    """Where change amounts sit (block, sentence start, offset in the sentence)."""
    return {
        (c.sentence.block, c.sentence.start, c.amount.start)
        for c in claims
        if isinstance(c, ChangeClaim) and c.amount is not None
    }


def _is_change(claim: AmountClaim, changes: set[tuple[int, int, int]], v: Vocab) -> bool:
    """A change amount is not a level: the claim module framed it as one, or its referent says a change
    (增加基本支出 844.15万元; 基本支出增加养老保险缴费等 1447.63万元)."""
    if (claim.sentence.block, claim.sentence.start, claim.quantity.start) in changes:
        return True
    referent = "".join(claim.referent.split())
    return any(w in referent for w in v.words("change_words"))


def _part_scopes(claims: list[Claim], v: Vocab) -> dict[int, str]:
    """The source of funds of each part listed under one source's total ("一般公共预算拨款支出预算458.70万元，
    其中：文化旅游体育与传媒支出386.12万元" is the 一般公共预算 part of 207, not the 收支总表's all-funds 207)."""
    scoped: dict[str, dict[str, str]] = v.settings.get("scoped_concepts", {})
    own = {concept: scope for scope, m in scoped.items() for concept in m.values()}
    return {
        id(p): own[e.total.concept]
        for e in claims
        if isinstance(e, Enumeration) and e.total.concept in own
        for p in e.parts
    }


def _in_scope(link: Link | None, scope: str | None) -> Link | None:
    """The link kept to the figures of one source of funds (None when no figure of that source is linked)."""
    if link is None or scope is None:
        return link
    kept = [f for f in link.facts if f.scope == scope]
    return Link(kept, link.confidence, link.how, link.wording) if kept else None


def _scoped_by_subject(claim: AmountClaim, link: Link, v: Vocab) -> bool:
    """A figure after a subject mark in its sentence is that subject's figure, which only a subject's row
    holds: "检察（款）：预算支出合计" is the 款's total, "会议费（款）支出" the economic 款 30215 of the basic
    expenses, not the 会议费 column of the 三公 table (which counts project spending too)."""
    if (claim.concept or "").startswith("subject:") or all(f.term.row.code for f in link.facts):
        return False
    before = claim.sentence.text[: claim.quantity.start]
    return any(m in before for m in v.words("subject_marks"))


def allowed_scopes(concept: str, v: Vocab) -> set[str] | None:
    """The sources of funds a concept's figure may be read from (rules/tables.yaml ``scoped_concepts``): a
    generic total only from tables of all funds, one source's concept from its own tables or those of all
    funds; None for concepts no source narrows."""
    scoped: dict[str, dict[str, str]] = v.settings.get("scoped_concepts", {})
    if any(concept in m for m in scoped.values()):
        return {"all"}
    own = {scope for scope, m in scoped.items() if concept in m.values()}
    return own | {"all"} if own else None


Totals = dict[str, list[tuple[tuple, list[Fact]]]]  # subject → its keyed total figures, in the facts' order


def totals_by_subject(index: dict[tuple, list[Fact]]) -> Totals:
    """The facts' total figures grouped by subject: each claim looks up its concept's, not every key."""
    out: Totals = {}
    for key, fs in index.items():
        if key[3] == "total":
            out.setdefault(key[2], []).append((key, fs))
    return out


def concept_facts(totals: Totals, concept: str, period: str, measure: str, v: Vocab) -> list[Fact]:
    """The table figures holding a concept (or ``subject:<code>``) for a period and measure, in the sources
    of funds the concept allows."""
    subject = concept.split(":", 1)[1] if concept.startswith("subject:") else concept
    scopes = allowed_scopes(subject, v)
    return [
        f
        for key, fs in totals.get(subject, [])
        if key[4] == period and measures_agree(key[5], measure) and (scopes is None or key[0] in scopes)
        for f in fs
    ]


def _link(claim: AmountClaim, totals: Totals, fallback: _LabelIndex, paths: Totals, v: Vocab) -> Link | None:
    if claim.concept:
        found = concept_facts(totals, claim.concept, claim.period, claim.measure, v)
        if found:
            return Link(found, min(1.0, claim.link_confidence or 0.0), f"概念 {claim.concept}")
        return None
    return _path_link(claim, paths) or fallback.link(claim)


def _path_link(claim: AmountClaim, paths: Totals) -> Link | None:
    """A referent that reads exactly as a coded row's parent and own names (人大事务行政运行（项）支出)."""
    name = _path_key(claim.referent)
    keys = [(k, fs) for k, fs in paths.get(name, []) if k[4] == claim.period and measures_agree(k[5], claim.measure)]
    if not name or not keys or len({k[2] for k, _ in keys}) != 1:
        return None
    found = [f for _, fs in keys for f in fs]
    return Link(found, PATH_LINK, f"科目路径 {keys[0][0][2]}", wording=name)


@lru_cache(maxsize=1 << 14)
def _path_key(text: str) -> str:
    """A subject name as a path key: markers, brackets and a trailing 支出 removed."""
    t = referents.canonical(strip_marker(referents.clean(text)))
    return t[: -len("支出")] if t.endswith("支出") and len(t) > 2 else t


def _paths(tables: list[UnderstoodTable], totals: Totals) -> Totals:
    """Path names of coded rows (款 name + 项 name, 类 name + 款 name) → the keys of their figures."""
    names: dict[str, str] = {}
    for ut in tables:
        for half in ut.halves:
            for r in half.rows:
                if r.code and r.code not in names:
                    names[r.code] = _path_key(r.label)
    out: Totals = {}
    for code, keyed in totals.items():
        if not code.isdigit() or len(code) < 5 or code[:-2] not in names:
            continue
        path = names[code[:-2]] + names.get(code, "")
        if path != names[code[:-2]]:
            out.setdefault(path, []).extend(keyed)
    return out


def _check(claim: AmountClaim, link: Link, scoped: bool = False) -> Outcome:
    q = claim.quantity
    verdicts = [equal_relation(q, f.term.value.quantity) for f in link.facts]
    ref = link.facts[0]
    agree = all(equal_relation(ref.term.value.quantity, f.term.value.quantity).holds for f in link.facts[1:])
    holds = any(v.holds for v in verdicts)
    label = strip_marker(ref.term.row.label)
    referent = _path_key(claim.referent) if link.wording else strip_marker(claim.referent)
    wording = _dice(referent, link.wording or label) if (link.wording or label) else 1.0
    confident = link.confidence >= MIN_LINK and agree and wording >= MIN_WORDING and not scoped
    status = "pass" if holds else ("fail" if confident else "unverifiable")
    tq = ref.term.value.quantity
    expected = fmt(tq.base / q.scale, max(decimals_of(tq), 0)) + (q.unit or "")
    cell = cell_evidence(ref.ut, ref.term)
    formula = f"{claim.referent} {q.text}（文中） = {ref.ut.title} {cell.text}（{ref.ut.unit}）"
    reason = ""
    if not holds:
        reason = f"文中「{claim.referent}」为 {q.text}，{ref.ut.title}「{cell_name(ref.ut, ref.term)}」为 {_cell_text(ref)}{ref.ut.unit}"
        if not agree:
            reason += "；各表数字本身不一致，无法确定对照口径"
        elif wording < MIN_WORDING:
            reason += f"；文中说法与表中行名相去较远（相似度 {wording:.2f}），可能不是同一口径"
        elif scoped:
            reason += "；句中此前标明了科目（类/款/项），所述合计可能只是该科目的合计"
        elif link.confidence < MIN_LINK:
            reason += f"；对照关系置信度 {link.confidence:.2f} 不足（{link.how}）"
    s = claim.sentence
    sentence = Evidence(
        text=s.text, block=s.block, page=s.page, start=s.start, end=s.end, file=s.file, values=[q.text]
    )
    conf = round(min(link.confidence, ref.ut.confidence), 2)
    return Outcome(
        rule=RULE,
        kind=KIND,
        status=status,
        formula=formula,
        evidence=[sentence, cell],
        stated=q.text,
        expected=expected,
        reason=reason,
        severity="error" if conf >= 0.85 else "warning",
        confidence=conf,
        margin=min(v.margin for v in verdicts),
    )


def _share(s: ShareClaim, totals: Totals, v: Vocab, rules: Rules) -> Outcome | None:
    """part ÷ whole = percent, the whole read from the table when the narrative names it but never states it
    (占“三公”经费的 8.75% beside a 三公 table whose “三公”经费 小计 is 833.60). None when the whole is stated
    (the narrative check has it), not a known concept, or not a whole of the part's concept."""
    part = s.part
    if part is None or s.whole is not None or not s.whole_referent or part.quantity.kind != "amount":
        return None
    whole = referents.resolve(s.whole_referent, rules)
    if whole.concept is None or whole.confidence < MIN_LINK or not _is_part(part.concept, whole.concept, rules):
        return None
    found = concept_facts(totals, whole.concept, part.period, part.measure, v)
    if not found:
        return None
    ref = found[0]
    tq = ref.term.value.quantity
    if tq.lo <= 0:
        return None
    agree = all(equal_relation(tq, f.term.value.quantity).holds for f in found[1:])
    computed = corner_range(lambda a, b: a / b * HUNDRED, [Interval.of(part.quantity), Interval.of(tq)])
    if computed is None:
        return None
    gap = computed.gap(Interval.of(s.percent))
    cell = cell_evidence(ref.ut, ref.term)
    formula = f"{part.quantity.text} ÷ {ref.ut.title}「{cell.text}」{ref.ut.unit} = {fmt(computed.mid, 2)}%"
    confident = agree and ref.ut.confidence >= SURE and part.link_confidence >= MIN_LINK
    status = "pass" if gap == 0 else ("fail" if confident else "unverifiable")
    reason = ""
    if gap:
        reason = f"{formula}，文中为 {s.percent.text}"
        if not agree:
            reason += "；各表中的总体数字不一致，无法确定对照口径"
        elif not confident:
            reason += "；表结构或对照关系为推测，不下结论"
    return Outcome(
        rule=SHARE_RULE, kind="share_mismatch", status=status, formula=formula,
        evidence=[sentence_evidence(s.sentence, [part.quantity, s.percent]), cell],
        stated=s.percent.text, expected=f"{fmt(computed.mid, 2)}%", reason=reason,
        severity=severity_for(gap, s.percent), confidence=round(min(ref.ut.confidence, whole.confidence), 2),
        margin=margin(gap, s.percent),
    )


def _is_part(part: str | None, whole: str, rules: Rules) -> bool:
    """Is ``part`` among the concepts that make up ``whole`` (rules/concepts.yaml ``parts``, nested)? A whole
    with no parts listed takes any known part."""
    if part is None:
        return False
    concept = rules.concepts.get(whole)
    if concept is None or not concept.parts:
        return True
    todo, seen = list(concept.parts), set()
    while todo:
        c = todo.pop()
        if c == part:
            return True
        if c not in seen and c in rules.concepts:
            seen.add(c)
            todo.extend(rules.concepts[c].parts)
    return False


def _dice(a: str, b: str) -> float:
    """Character-bigram Dice coefficient: how much of the two wordings is shared (一般公共预算收入 vs
    一般公共预算拨款收入 → 0.75)."""
    x = {a[i : i + 2] for i in range(len(a) - 1)}
    y = {b[i : i + 2] for i in range(len(b) - 1)}
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def _cell_text(f: Fact) -> str:
    return f.term.value.quantity.text or "空（按 0 计）"


class _LabelIndex:
    """Row labels of the standard tables for the TF-IDF fallback (character 1–3-grams: Chinese has no spaces)."""

    def __init__(self, index: dict[tuple, list[Fact]]) -> None:
        self.keys: list[tuple] = []
        labels: list[str] = []
        for key, fs in index.items():
            if key[3] != "total":
                continue
            label = strip_marker(fs[0].term.row.label)
            if label:
                self.keys.append(key)
                labels.append(label)
        self.index = index
        self.tfidf = Tfidf(labels)

    def link(self, claim: AmountClaim) -> Link | None:
        referent = strip_marker(claim.referent)
        if not self.keys or not referent:
            return None
        sims = self.tfidf.similarities(referent)
        best = max(sims)
        if best < MIN_SIMILARITY:
            return None
        keys = [k for k, s in zip(self.keys, sims, strict=True) if s >= best - 1e-9 and k[4] == claim.period]
        keys = [k for k in keys if measures_agree(k[5], claim.measure)]
        if len({k[2] for k in keys}) != 1:
            return None  # no row, or the same words label figures of several concepts (合计 of each column)
        found = [f for k in keys for f in self.index[k]]
        return Link(found, best * 0.85, f"标签相似度 {best:.2f}")


class Tfidf:
    """Cosine similarities of a text with each of some labels over character 1–3-gram TF-IDF weights.

    The figures are scikit-learn's — ``TfidfVectorizer(analyzer="char", ngram_range=(1, 3))`` fitted on the
    labels, then ``cosine_similarity`` — computed in the same order of operations, so to the same bits
    (tests/test_cross.py holds the two side by side). Why not scikit-learn itself: fitting it cost ~8 ms per
    document, mostly input validation around a hundred short labels. Fitted on the first text compared: most
    documents never need the fallback."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        # the same words label many figures (合计 in every column): each distinct label is weighed once (its row
        # is the same wherever it stands) but counted as often as it stands in the document frequencies
        self.distinct = list(dict.fromkeys(labels))
        self.idf: dict[str, float] | None = None
        self.postings: dict[str, list[tuple[int, float]]] = {}  # n-gram → (distinct label, weight), in order
        self.sims: dict[str, list[float]] = {}

    def _fit(self) -> None:
        """IDF as scikit-learn smooths it, ln((1 + n) / (1 + df)) + 1, and each label's normalised weights."""
        import numpy as np  # np.log as scikit-learn takes it: a SIMD logarithm may differ from math.log's

        times = Counter(self.labels)
        counts = [_char_ngrams(label) for label in self.distinct]
        df: dict[str, int] = {}  # in order of first appearance, as scikit-learn numbers n-grams while counting
        for label, c in zip(self.distinct, counts, strict=True):
            for g in c:
                df[g] = df.get(g, 0) + times[label]
        vocabulary = sorted(df)
        idf = np.full(len(vocabulary), len(self.labels) + 1, dtype=np.float64)
        idf /= np.array([df[g] + 1 for g in vocabulary], dtype=np.float64)
        np.log(idf, out=idf)
        idf += 1.0
        self.idf = dict(zip(vocabulary, idf.tolist(), strict=True))
        # a label's n-grams stay in order of first appearance: scikit-learn renames the columns alphabetically
        # after counting without re-sorting the rows, and normalises them in that order
        seen = {g: k for k, g in enumerate(df)}
        for i, c in enumerate(counts):
            for g, w in _unit_weights(c, sorted(c, key=seen.__getitem__), self.idf).items():
                self.postings.setdefault(g, []).append((i, w))

    def similarities(self, text: str) -> list[float]:
        """The text's cosine similarity with each label (as scikit-learn's sparse product sums it: over the
        text's n-grams in vocabulary order)."""
        if self.idf is None:
            self._fit()
        sims = self.sims.get(text)
        if sims is None:
            idf = self.idf or {}
            counts = _char_ngrams(text)
            weights = _unit_weights(counts, sorted(g for g in counts if g in idf), idf)
            per_label = [0.0] * len(self.distinct)
            for g, w in weights.items():
                for i, y in self.postings[g]:
                    per_label[i] += w * y
            row = {label: per_label[i] for i, label in enumerate(self.distinct)}
            sims = self.sims[text] = [row[label] for label in self.labels]
        return sims


_SPACES = re.compile(r"\s\s+")


def _char_ngrams(text: str) -> dict[str, int]:
    """Counts of a text's character 1-, 2- and 3-grams, as scikit-learn's char analyzer reads it (lower case,
    runs of white space as one space)."""
    t = _SPACES.sub(" ", text.lower())
    counts: dict[str, int] = {}
    for n in (1, 2, 3):
        for i in range(len(t) - n + 1):
            g = t[i : i + n]
            counts[g] = counts.get(g, 0) + 1
    return counts


def _unit_weights(counts: dict[str, int], grams: list[str], idf: dict[str, float]) -> dict[str, float]:
    """count × idf of each of ``grams``, L2-normalised twice as scikit-learn does it (the vectoriser, then
    cosine_similarity): each time the squares summed one by one in the order of ``grams``, a row of zeros left
    alone."""
    data = [counts[g] * idf[g] for g in grams]
    for _ in range(2):
        total = 0.0
        for d in data:
            total += d * d
        if total:
            norm = math.sqrt(total)
            data = [d / norm for d in data]
    return dict(zip(grams, data, strict=True))
