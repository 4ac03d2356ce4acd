"""Error injection: plant realistic numeric slips in real documents and write gold labels for them.

The procedure (docs/inject.md has the full write-up):

1. Read the source. A text file is used as it is; any other format (the Jiangsu PDFs) is written as a
   cell-per-line text export first (:mod:`detector.corpus.export`) and that export is the original.
2. Run the detector on the original and keep its ledger's *passed* relations (an Outcome with status pass),
   each located in the text (:mod:`detector.corpus.relations`).
3. Visit the numbers of those relations in a seeded random order. For each, try the slips that fit it
   (:mod:`detector.corpus.slips`); keep the first whose new value certainly breaks one of the number's passed
   relations by our own interval test — the detector is asked which numbers are related, never whether it
   would flag the change. The numbers of the relation that certified a slip are frozen, so later slips never
   disturb it, and a relation that already holds a slip is not used to certify another.
4. Write the perturbed text and one gold ``defect`` per slip: ``quote`` is the new figure as written with enough
   context to be unique in the perturbed text (within its sentence, or for a table cell from the row's first
   cell to the cell), ``values`` the new figure, ``kind`` the kind of the relation it breaks.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import regex as re

from detector.corpus import slips
from detector.corpus.export import export_text, roundtrip_problems
from detector.corpus.relations import SUPPORTED, Member, Relation, TextLayout, broken, locate
from detector.io import write_text_atomic
from detector.model import AmountClaim, ChangeClaim, Result, ShareClaim
from detector.numbers import MONEY_SCALE, to_decimal

HAN = re.compile(r"\p{Han}")
UNIT_AFTER = re.compile(r"\s*(?:亿元|万元|千元|元|%|‰)")
# A relation the detector passed on a weak link (its referents only loosely match: confidence 0.5) may tie two
# figures that merely coincide; a slip "breaking" it would not be a contradiction a reader can be sure of.
MIN_CONFIDENCE = 0.6


@dataclass
class Planted:
    member: Member
    new: str
    slip: str
    relation: Relation
    quote: str = ""
    other_quote: str = ""
    values: list[str] = field(default_factory=list)


@dataclass
class Source:
    """One document to perturb: its id and files (several PDFs of one folder make one document)."""

    doc: str
    files: list[Path]


def sources(paths: Iterable[str | Path]) -> list[Source]:
    """Text files are documents by their stem; a folder of PDFs is one document named after the folder; a
    folder of text files gives one document per file."""
    out: list[Source] = []
    for p in map(Path, paths):
        if p.is_dir():
            texts = sorted(x for x in p.iterdir() if x.suffix.lower() == ".txt")
            pdfs = sorted(x for x in p.iterdir() if x.suffix.lower() == ".pdf")
            subdirs = sorted(x for x in p.iterdir() if x.is_dir())
            if pdfs:
                out.append(Source(p.name, pdfs))
            out += [Source(t.stem, [t]) for t in texts]
            out += sources(subdirs) if not pdfs else []
        elif p.suffix.lower() != ".jsonl":
            out.append(Source(p.stem, [p]))
    return out


def original_text(src: Source) -> str:
    """The text injection works on: the file itself for a text file, the cell-per-line export otherwise."""
    from detector.ingest import load
    from detector.ingest.text import decode

    if len(src.files) == 1 and src.files[0].suffix.lower() == ".txt":
        return decode(src.files[0].read_bytes(), src.files[0].name)[0]
    doc = load(src.files, doc_id=src.doc)
    text = export_text(doc)
    problems = roundtrip_problems(doc, text)
    if problems:
        raise ValueError(f"{src.doc}: export does not read back the same: {'; '.join(problems)}")
    return text


def run_detector(text: str, doc_id: str) -> Result:
    from detector.pipeline import check_paths

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{doc_id}.txt"
        path.write_text(text, encoding="utf-8")
        return check_paths([path], doc_id=doc_id)


# ------------------------------------------------------------------------------------------ claim context


def _number_start(claim_q, sentence, layout: TextLayout) -> int | None:  # noqa: ANN001
    para = layout.paragraphs.get(sentence.block)
    if para is None:
        return None
    digits = "".join(ch for ch in claim_q.text if ch.isdigit() or ch in ",.").strip(",.")
    inner = claim_q.text.find(digits[:1]) if digits else 0
    return para[0] + sentence.start + claim_q.start + max(inner, 0)


@dataclass
class ClaimContext:
    """What the claims know that a slip needs: last year's figure for a number, a share's part, and the
    totals a wrong denominator could be taken from. Keyed by the start offset of the number in the text."""

    prior: dict[int, Decimal] = field(default_factory=dict)
    share_part: dict[int, Decimal] = field(default_factory=dict)
    totals: list[Decimal] = field(default_factory=list)

    @classmethod
    def of(cls, result: Result, layout: TextLayout) -> ClaimContext:
        ctx = cls()
        priors: dict[str, Decimal] = {}
        for c in result.claims:
            if isinstance(c, AmountClaim) and c.period == "prior" and c.concept:
                priors[c.concept] = c.quantity.value
        for c in result.claims:
            if isinstance(c, AmountClaim):
                if c.quantity.unit == "万元":
                    ctx.totals.append(c.quantity.base)
                key = _number_start(c.quantity, c.sentence, layout)
                if key is not None and c.period == "current" and c.concept in priors:
                    ctx.prior.setdefault(key, priors[c.concept])
            elif isinstance(c, ChangeClaim) and c.subject is not None and c.amount is not None and c.direction:
                key = _number_start(c.subject.quantity, c.subject.sentence, layout)
                if key is not None and c.subject.quantity.unit == c.amount.unit:
                    ctx.prior.setdefault(key, c.subject.quantity.value - c.direction * c.amount.value)
            elif isinstance(c, ShareClaim) and c.part is not None:
                key = _number_start(c.percent, c.sentence, layout)
                if key is not None:
                    ctx.share_part[key] = c.part.quantity.base
        return ctx


# ------------------------------------------------------------------------------------------------ planning


GENERIC_SLIPS = ("transpose", "mistyped_digit", "dropped_digit", "decimal_shift")  # apply to any figure


def candidate_values(member: Member, layout: TextLayout, ctx: ClaimContext, rng: random.Random) -> list[tuple[str, str]]:
    """(slip name, new figure) for every slip that applies to this number, in a seeded random order."""
    w = member.written
    options: list[tuple[str, str | None]] = [("transpose", x) for x in slips.transpositions(w)]
    options += [("mistyped_digit", x) for x in slips.mistyped_digits(w)]
    options += [("dropped_digit", x) for x in slips.dropped_digits(w)]
    if member.unit in MONEY_SCALE or member.is_percent:  # 6.6 辆 is no slip anyone makes
        options += [("decimal_shift", x) for x in slips.decimal_shifts(w)]
    if member.cell is not None:
        b, r, c = member.cell
        for dr in rng.sample([-1, 1], 2):
            span = layout.cells.get((b, r + dr, c))
            if span and _same_format(layout.text[span[0]:span[1]], w):
                options.append(("neighbour_row", slips.neighbour_row(w, layout.text[span[0]:span[1]])))
                break
    elif member.start is not None:
        if member.is_percent and member.start in ctx.share_part:
            part = ctx.share_part[member.start]
            wholes = [t for t in ctx.totals if t > part * 2]
            if wholes:
                options.append(("wrong_denominator", slips.wrong_denominator(w, part, rng.choice(wholes))))
        if not member.is_percent and member.start in ctx.prior:
            options.append(("stale_prior", slips.stale_prior(w, ctx.prior[member.start])))
    groups: dict[str, list[str]] = {}
    for name, new in options:
        if new and new not in groups.get(name, []):
            groups.setdefault(name, []).append(new)
    for values in groups.values():
        rng.shuffle(values)
    # The context-aware slips are the realistic ones: try them first when they apply. Then the slip kinds take
    # turns, so a kind with many variants (a mistyped digit) does not crowd out the others.
    context = [n for n in groups if n not in GENERIC_SLIPS]
    generic = [n for n in groups if n in GENERIC_SLIPS]
    found: list[tuple[str, str]] = []
    for names in (context, generic):
        rng.shuffle(names)
        while any(groups[n] for n in names):
            found += [(n, groups[n].pop()) for n in names if groups[n]]
    return found


def _same_format(a: str, b: str) -> bool:
    """Cells of the same column written alike (same decimals): a real neighbouring figure, not a column number."""
    da = len(a.split(".", 1)[1]) if "." in a else 0
    db = len(b.split(".", 1)[1]) if "." in b else 0
    return da == db and to_decimal(a) is not None


def plan(text: str, result: Result, n: int, rng: random.Random, protected: set[str] | None = None,
         used: set[tuple[int, int, str]] | None = None) -> list[Planted]:
    """Choose up to ``n`` slips, each certified by a passed relation that no other slip touches. ``used`` holds
    (start, end, new figure) of slips planted in earlier copies of the document: those are not repeated, and
    numbers not yet perturbed in any copy are visited first."""
    layout = TextLayout.of(text)
    ctx = ClaimContext.of(result, layout)
    relations = [locate(o, layout) for o in result.outcomes
                 if o.status == "pass" and o.kind in SUPPORTED and o.confidence >= MIN_CONFIDENCE]
    by_key: dict[tuple[int, int], list[tuple[Relation, Member]]] = {}
    for rel in relations:
        for m in rel.located():
            by_key.setdefault(m.key, []).append((rel, m))  # type: ignore[arg-type]
    keys = sorted(by_key)
    rng.shuffle(keys)
    used = used if used is not None else set()
    touched = {(s, e) for s, e, _ in used}
    keys.sort(key=lambda k: k in touched)
    protected = protected or set()
    planted: list[Planted] = []
    perturbed: set[tuple[int, int]] = set()
    frozen: set[tuple[int, int]] = set()
    for key in keys:
        if len(planted) >= n:
            break
        if key in frozen or key in perturbed:
            continue
        member = by_key[key][0][1]
        if _value_key(member.written) in protected:
            continue
        usable = [(r, m) for r, m in by_key[key]
                  if not any(o.key in perturbed for o in r.members if o.key and o.key != key)]
        for slip, new in candidate_values(member, layout, ctx, rng):
            if (*key, new) in used:
                continue
            certifying = next(((r, m) for r, m in usable if broken(r, m, new)), None)
            if certifying is None:
                continue
            rel, m = certifying
            planted.append(Planted(m, new, slip, rel))
            used.add((*key, new))
            perturbed.add(key)
            frozen |= {o.key for o in rel.members if o.key}
            break
    return planted


def _value_key(written: str) -> str:
    v = to_decimal(written.replace(",", ""))
    return str(v.normalize()) if v is not None else written


# ------------------------------------------------------------------------------------------------ applying


def apply(text: str, planted: list[Planted]) -> str:
    """The perturbed text, with each plant's quote and values filled in from it."""
    order = sorted(planted, key=lambda p: p.member.start or 0)
    pieces, last, shift = [], 0, 0
    new_spans: list[tuple[int, int]] = []
    for p in order:
        s, e = p.member.start or 0, p.member.end or 0
        pieces += [text[last:s], p.new]
        new_spans.append((s + shift, s + shift + len(p.new)))
        shift += len(p.new) - (e - s)
        last = e
    pieces.append(text[last:])
    out = "".join(pieces)
    starts = [p.member.start or 0 for p in order]

    def moved(pos: int) -> int:
        return pos + sum(len(q.new) - ((q.member.end or 0) - (q.member.start or 0))
                         for q, s0 in zip(order, starts, strict=True) if s0 < pos)

    for p, (s, e) in zip(order, new_spans, strict=True):
        cs, ce = p.member.context or (s, e)
        p.quote = _unique_quote(out, s, e, moved(cs), max(moved(ce), e), table=p.member.cell is not None)
        p.values = [p.new]
        if not HAN.search(p.quote) or len(HAN.findall(p.quote)) < 2:
            other = next((m for m in p.relation.members if m is not p.member), None)
            if other is not None:
                p.values.append(other.written)
        p.other_quote = _other_quote(text, p)
    return out


def _unique_quote(text: str, s: int, e: int, cs: int, ce: int, table: bool) -> str:
    """The shortest context around text[s:e] inside [cs, ce) that occurs once in ``text``; for a table cell
    the quote runs from the row's first cell to the cell (the row label is what names a cell)."""
    if table:
        return text[cs:e]
    m = UNIT_AFTER.match(text, e)
    end = m.end() if m and m.end() <= max(ce, e) else e
    start = s
    while start > cs and (text.count(text[start:end]) > 1 or len(HAN.findall(text[start:end])) < 4):
        start -= 1
    while end < ce and text.count(text[start:end]) > 1:
        end += 1
    return text[start:end].strip()


def _other_quote(text: str, p: Planted) -> str:
    other = next((m for m in p.relation.members if m is not p.member and m.context), None)
    if other is None or other.context is None:
        return ""
    cs, ce = other.context
    return text[cs:ce].strip()[:200]


def gold_lines(doc: str, planted: list[Planted]) -> list[dict]:
    lines = [{"doc": doc, "id": f"{doc}#0", "label": "document", "kind": None, "page": None, "quote": "",
              "values": [], "other_quote": "", "explanation": "perturbed copy; every planted slip is a defect line",
              "confidence": "certain"}]
    for i, p in enumerate(planted, 1):
        lines.append({
            "doc": doc, "id": f"{doc}#inj{i}", "label": "defect", "kind": p.relation.kind, "page": None,
            "quote": p.quote, "values": p.values, "other_quote": p.other_quote,
            "explanation": f"{p.slip}: {p.member.written} → {p.new}; breaks {p.relation.rule} ({p.relation.formula})",
            "confidence": "certain", "slip": p.slip, "original": p.member.written, "rule": p.relation.rule,
        })
    return lines


def carried_gold(doc: str, copy_id: str, gold: list[dict], perturbed_text: str) -> list[dict]:
    """The source's own gold labels (defect/rounding/acceptable) whose quote is still in the perturbed text, so
    a real defect of the original is not counted as a false positive on the perturbed copy."""
    norm = _norm(perturbed_text)
    out = []
    for g in gold:
        if g.get("doc") == doc and g.get("label") != "document" and _norm(g.get("quote", "")) in norm:
            out.append({**g, "doc": copy_id, "id": f"{copy_id}#src{g['id'].rsplit('#', 1)[-1]}"})
    return out


def _norm(text: str) -> str:
    return re.sub(r"[\s,，|:：;；、]", "", text)


def _jsonl(lines: list[dict]) -> str:
    return "".join(json.dumps(g, ensure_ascii=False) + "\n" for g in lines)


def inject(paths: Iterable[str | Path], out: str | Path, per_doc: int, seed: int,
           gold_paths: Iterable[str | Path] = ()) -> dict:
    """Perturb every source document, write DIR/<doc>.txt and DIR/gold.jsonl; return a summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gold = [json.loads(line) for g in gold_paths for line in Path(g).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    lines: list[dict] = []
    summary: dict = {"sources": 0, "documents": 0, "planted": 0, "per_source": {}, "short": {}, "skipped": {},
                     "by_slip": {}, "by_kind": {}}
    for src in sources(paths):
        rng = random.Random(f"{seed}:{src.doc}")
        try:
            text = original_text(src)
        except Exception as exc:  # noqa: BLE001 — one unreadable source must not stop the batch
            summary["skipped"][src.doc] = str(exc)
            continue
        result = run_detector(text, src.doc)
        protected = {_value_key(v) for g in gold if g.get("doc") == src.doc for v in g.get("values", [])}
        used: set[tuple[int, int, str]] = set()
        total = 0
        for copy in range(1, per_doc + 1):
            planted = plan(text, result, per_doc - total, rng, protected, used)
            if not planted:
                break
            doc_id = f"{src.doc}~{copy}"  # never the source's own id: both may be scored side by side
            new_text = apply(text, planted)
            write_text_atomic(out / f"{doc_id}.txt", new_text)
            lines += gold_lines(doc_id, planted) + carried_gold(src.doc, doc_id, gold, new_text)
            summary["documents"] += 1
            total += len(planted)
            for p in planted:
                summary["by_slip"][p.slip] = summary["by_slip"].get(p.slip, 0) + 1
                summary["by_kind"][p.relation.kind] = summary["by_kind"].get(p.relation.kind, 0) + 1
            if total >= per_doc:
                break
        summary["sources"] += 1
        summary["planted"] += total
        summary["per_source"][src.doc] = total
        if total < per_doc:
            summary["short"][src.doc] = total
    write_text_atomic(out / "gold.jsonl", _jsonl(lines))
    # The planted slips alone: `gouji eval --gold DIR/gold-injected.jsonl` measures recall on them only (the
    # sources' own defects, carried into gold.jsonl, would otherwise count in the recall too).
    write_text_atomic(out / "gold-injected.jsonl", _jsonl([g for g in lines if "#src" not in g["id"]]))
    return summary
