"""Narrative against tables: a figure the text states must be the figure the standard tables show.

Each narrative :class:`~detector.model.AmountClaim` is linked to table cells of the same concept, period and
measure: through its concept (rules/concepts.yaml aliases, or ``subject:<code>``), or, when the claim module found
no concept, through a character n-gram TF-IDF similarity between its referent and the table row labels. Every link
has a confidence. A claim fails only when it is linked with confidence, the linked table figures agree with each
other, and none of them overlaps the claim's rounding interval; otherwise the outcome is ``pass`` or
``unverifiable``. Figures compare in 元, so a 元 table and a 万元 narrative never conflict by unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from detector.checks.tables import Fact, cell_evidence, facts, measures_agree
from detector.model import AmountClaim, Claim, Document, Evidence, Outcome
from detector.rules import Rules
from detector.tables import understand_document
from detector.tables.arith import equal_relation
from detector.tables.rows import strip_marker
from detector.tables.values import decimals_of, fmt

RULE = "narrative.table_value"
KIND = "value_conflict"
MIN_LINK = 0.8  # below this link confidence a mismatch is unverifiable, never a fail
MIN_SIMILARITY = 0.9
MIN_WORDING = 0.4  # a referent far from the linked row's own words (货物类政府采购支出 vs 合计) may be a narrower figure  # TF-IDF fallback: a referent must read almost as the row label to be linked at all


@dataclass
class Link:
    facts: list[Fact]
    confidence: float
    how: str


def run(doc: Document, claims: list[Claim], rules: Rules, understood: list | None = None) -> list[Outcome]:
    """One outcome per narrative amount linked to at least one table figure."""
    understood = understood if understood is not None else understand_document(doc, rules)
    tables = [t for t in understood if t.identity is not None and t.scale]
    if not tables:
        return []
    index = facts(tables, rules)
    fallback = _LabelIndex(index)
    out: list[Outcome] = []
    for claim in claims:
        if not isinstance(claim, AmountClaim) or claim.quantity.kind != "amount" or claim.period == "unknown":
            continue
        link = _link(claim, index, fallback)
        if link is not None:
            out.append(_check(claim, link))
    return out


def _link(claim: AmountClaim, index: dict[tuple, list[Fact]], fallback: _LabelIndex) -> Link | None:
    if claim.concept:
        subject = claim.concept.split(":", 1)[1] if claim.concept.startswith("subject:") else claim.concept
        found = [
            f
            for key, fs in index.items()
            if key[2] == subject and key[3] == "total" and key[4] == claim.period and measures_agree(key[5], claim.measure)
            for f in fs
        ]
        if found:
            return Link(found, min(1.0, claim.link_confidence or 0.0), f"概念 {claim.concept}")
        return None
    return fallback.link(claim)


def _check(claim: AmountClaim, link: Link) -> Outcome:
    q = claim.quantity
    verdicts = [equal_relation(q, f.term.value.quantity) for f in link.facts]
    ref = link.facts[0]
    agree = all(equal_relation(ref.term.value.quantity, f.term.value.quantity).holds for f in link.facts[1:])
    holds = any(v.holds for v in verdicts)
    label = strip_marker(ref.term.row.label)
    wording = _dice(strip_marker(claim.referent), label) if label else 1.0
    confident = link.confidence >= MIN_LINK and agree and wording >= MIN_WORDING
    status = "pass" if holds else ("fail" if confident else "unverifiable")
    tq = ref.term.value.quantity
    expected = fmt(tq.base / q.scale, max(decimals_of(tq), 0)) + (q.unit or "")
    cell = cell_evidence(ref.ut, ref.term)
    formula = f"{claim.referent} {q.text}（文中） = {ref.ut.title} {cell.text}（{ref.ut.unit}）"
    reason = ""
    if not holds:
        reason = f"文中「{claim.referent}」为 {q.text}，{ref.ut.title}「{ref.term.row.name}」为 {_cell_text(ref)}{ref.ut.unit}"
        if not agree:
            reason += "；各表数字本身不一致，无法确定对照口径"
        elif wording < MIN_WORDING:
            reason += f"；文中说法与表中行名相去较远（相似度 {wording:.2f}），可能不是同一口径"
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
        self.labels: list[str] = []
        for key, fs in index.items():
            if key[3] != "total":
                continue
            label = strip_marker(fs[0].term.row.label)
            if label:
                self.keys.append(key)
                self.labels.append(label)
        self.index = index
        self.vectorizer: TfidfVectorizer | None = None
        if self.labels:
            self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
            self.matrix = self.vectorizer.fit_transform(self.labels)

    def link(self, claim: AmountClaim) -> Link | None:
        referent = strip_marker(claim.referent)
        if self.vectorizer is None or not referent:
            return None
        sims = cosine_similarity(self.vectorizer.transform([referent]), self.matrix)[0]
        best = float(sims.max())
        if best < MIN_SIMILARITY:
            return None
        keys = [k for k, s in zip(self.keys, sims, strict=True) if s >= best - 1e-9 and k[4] == claim.period]
        found = [f for k in keys if measures_agree(k[5], claim.measure) for f in self.index[k]]
        if not found:
            return None
        return Link(found, best * 0.85, f"标签相似度 {best:.2f}")

