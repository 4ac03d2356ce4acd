"""The data model: plain dataclasses that flow from ``ingest`` to ``report``.

Why plain dataclasses: every stage is a pure function from one of these records to the next, so a stage can
be tested alone, pickled to a worker process, and serialised to Parquet/JSON without an ORM in the way.

Flow::

    Document (blocks: Paragraph | Table)
      → Sentence (number-bearing spans of paragraphs)
      → Claim frames (AmountClaim, ShareClaim, ChangeClaim, RateClaim, Enumeration, CountClaim)
      → Outcome (one per relation checked: pass / fail / unverifiable)
      → Finding (a failed outcome in the findings contract of DESIGN.md)
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Literal

# ----------------------------------------------------------------------------------------------------------
# Documents
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Paragraph:
    """A run of narrative text. ``offset`` is the character offset of ``text`` in its source file's text
    (−1 when the format has no linear text, e.g. a DOCX paragraph is addressed by its block index)."""

    index: int
    text: str
    file: str = ""
    page: int | None = None
    offset: int = -1
    kind: Literal["paragraph"] = "paragraph"


@dataclass
class Cell:
    """One table cell as written. ``row``/``col`` are positions in the table grid after merged cells are
    expanded (a merged cell's text lives in its top-left position; covered positions carry ``merged=True``)."""

    row: int
    col: int
    text: str
    page: int | None = None
    merged: bool = False


@dataclass
class Table:
    """A table as a grid of cells, with where it came from. Understanding (headers, codes, column roles,
    identity among the standard tables) is added by :mod:`detector.tables`, not stored here."""

    index: int
    rows: list[list[Cell]]
    title: str | None = None
    file: str = ""
    page: int | None = None
    unit: str | None = None
    notes: list[str] = field(default_factory=list)
    kind: Literal["table"] = "table"

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def text_rows(self) -> list[list[str]]:
        return [[c.text for c in r] for r in self.rows]


Block = Paragraph | Table


@dataclass
class Document:
    """One disclosure: an ordered list of blocks from one or more files.

    ``id`` is the path relative to the scanned root, the folder name (``--document-per-folder``) or the file
    name. ``meta`` carries what ingestion learned (format, pages, encoding, unit name, year, kind)."""

    id: str
    blocks: list[Block]
    files: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def text(self) -> str:
        """The narrative text, paragraphs joined by newlines (used for metadata and search, not offsets)."""
        return "\n".join(p.text for p in self.paragraphs)


# ----------------------------------------------------------------------------------------------------------
# Quantities
# ----------------------------------------------------------------------------------------------------------

QuantityKind = Literal["amount", "percent", "count"]


@dataclass(frozen=True)
class Quantity:
    """A number as written, with the interval its digits stand for.

    ``value`` is in ``unit`` (1,226.42万元 → value 1226.42, unit 万元, scale 10000); ``half_ulp`` is half a unit
    of the last written digit (0.005 for 1226.42), so the true figure lies in [value − half_ulp, value + half_ulp].
    ``start``/``end`` are offsets in the text the quantity was parsed from."""

    value: Decimal
    unit: str
    kind: QuantityKind
    scale: Decimal
    text: str
    start: int = 0
    end: int = 0
    half_ulp: Decimal = Decimal(0)

    @property
    def base(self) -> Decimal:
        """Value in the base unit (元 for money, percentage points for %, items for counts)."""
        return self.value * self.scale

    @property
    def lo(self) -> Decimal:
        return (self.value - self.half_ulp) * self.scale

    @property
    def hi(self) -> Decimal:
        return (self.value + self.half_ulp) * self.scale


# ----------------------------------------------------------------------------------------------------------
# Claims
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Sentence:
    """A number-bearing sentence of a paragraph. ``start``/``end`` are offsets within the paragraph."""

    text: str
    block: int
    start: int
    end: int
    page: int | None = None
    file: str = ""
    section: str = ""  # the nearest heading above, e.g. "三、支出决算情况说明"
    section_block: int | None = None  # the heading's block, so a finding can show it as evidence
    cut: bool = False  # a piece of a run-on text cut at a clause boundary: its listings cannot be delimited


Period = Literal["current", "prior", "unknown"]
Measure = Literal["budget", "actual", "unknown"]


@dataclass
class AmountClaim:
    """「一般公共预算财政拨款支出1012.86万元」: a referent with a value for a period and measure."""

    referent: str
    quantity: Quantity
    sentence: Sentence
    concept: str | None = None
    period: Period = "current"
    measure: Measure = "unknown"
    year: int | None = None
    link_confidence: float = 0.0
    within: str | None = None  # a subject code the figure lies under (its heading), when its own code is unknown
    frame: Literal["amount"] = "amount"


@dataclass
class ShareClaim:
    """「卫生健康支出59.98万元，占5.02%」: part / whole = percent."""

    percent: Quantity
    sentence: Sentence
    part: AmountClaim | None = None
    whole: AmountClaim | None = None
    whole_referent: str = ""
    frame: Literal["share"] = "share"


@dataclass
class ChangeClaim:
    """「增加66.83万元，增长6.19%」: a change of ``subject`` against the prior period."""

    sentence: Sentence
    direction: int  # +1 增加/增长, −1 减少/下降, 0 持平
    subject: AmountClaim | None = None  # the current-period figure the change is about, if stated
    amount: Quantity | None = None
    rate: Quantity | None = None
    rate_direction: int = 0  # direction word in front of the rate (增长 +1 / 下降 −1), 0 when none
    prior: AmountClaim | None = None
    frame: Literal["change"] = "change"


@dataclass
class RateClaim:
    """「年初预算为1012.86万元，支出决算为1012.86万元，完成年初预算的100%」: actual / budget = percent."""

    percent: Quantity
    sentence: Sentence
    actual: AmountClaim | None = None
    budget: AmountClaim | None = None
    frame: Literal["rate"] = "rate"


@dataclass
class Enumeration:
    """A total and its listed parts. ``exhaustive`` is True for 其中/分别为 listings whose parts are meant to
    add up, False for 主要包括/主要用于 listings that may leave items out."""

    total: AmountClaim
    parts: list[AmountClaim]
    exhaustive: bool
    sentence: Sentence
    marker: str = ""
    frame: Literal["enumeration"] = "enumeration"


@dataclass
class CountClaim:
    """「车辆2辆，其中…」: a stated count with its listed parts."""

    referent: str
    count: Quantity
    sentence: Sentence
    parts: list[Quantity] = field(default_factory=list)
    frame: Literal["count"] = "count"


Claim = AmountClaim | ShareClaim | ChangeClaim | RateClaim | Enumeration | CountClaim


# ----------------------------------------------------------------------------------------------------------
# Outcomes and findings
# ----------------------------------------------------------------------------------------------------------

Status = Literal["pass", "fail", "unverifiable"]
Severity = Literal["error", "warning", "info"]


@dataclass
class Evidence:
    """Where one number came from: a sentence span (narrative) or a table cell."""

    text: str
    block: int
    page: int | None = None
    start: int = 0
    end: int = 0
    table: str | None = None
    cell: tuple[int, int] | None = None
    file: str = ""
    values: list[str] = field(default_factory=list)  # the numbers of this item involved, as written

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cell"] = list(self.cell) if self.cell is not None else None
        return d


@dataclass
class Outcome:
    """One relation checked. Every check records one, whatever its status: the ledger is a metric."""

    rule: str
    kind: str
    status: Status
    formula: str
    evidence: list[Evidence]
    stated: str = ""
    expected: str = ""
    reason: str = ""  # why unverifiable, or the human explanation of a failure
    severity: Severity = "error"
    confidence: float = 1.0
    margin: float = 0.0  # distance from the nearest admissible value, in units of the stated rounding


@dataclass
class Finding:
    """A failed outcome in the findings contract (DESIGN.md). Fields may be added, never change meaning."""

    doc: str
    rule: str
    kind: str
    severity: Severity
    confidence: float
    message: str
    stated: str
    expected: str
    evidence: list[Evidence]
    fingerprint: str = ""
    formula: str = ""
    margin: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["evidence"] = [e.to_dict() for e in self.evidence]
        return d


def fingerprint(doc: str, rule: str, texts: list[str], values: list[str]) -> str:
    """A finding's identity across re-runs: document, rule, the evidence texts (whitespace removed) and the
    numbers involved. Offsets and block numbers are left out on purpose, so an edit elsewhere in the document
    or a re-ingestion by another parser version keeps the fingerprint (and the auditor's verdict)."""
    norm = ["".join(t.split()) for t in texts]
    payload = "\x1f".join([doc, rule, *sorted(norm), *sorted(values)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


@dataclass
class Result:
    """Everything one document produced: what a report, a scan or a corpus needs."""

    doc: Document
    claims: list[Claim]
    outcomes: list[Outcome]
    findings: list[Finding]
    timings: dict[str, float] = field(default_factory=dict)
