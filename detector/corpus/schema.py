"""The one definition of the research corpus: every table, every column, its type, unit and meaning.

Why one definition: ``gouji corpus build`` writes the Parquet files *through* it (columns are selected,
ordered and cast here) and the corpus ``README.md`` is rendered *from* it, so the documentation and the data
cannot drift apart; ``tests/test_corpus_schema.py`` reads every table back and checks it against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

# The finding kinds of the findings contract (DESIGN.md), in the contract's order. Metrics have one count
# column per kind, so the metrics table keeps a fixed shape whatever a corpus happens to contain.
FINDING_KINDS = (
    "sum_mismatch",
    "parts_exceed_total",
    "share_mismatch",
    "growth_mismatch",
    "change_mismatch",
    "direction_mismatch",
    "rate_mismatch",
    "value_conflict",
    "table_sum_mismatch",
    "table_balance",
    "cross_table_mismatch",
    "other",
)

VERDICTS = ("confirmed", "dismissed", "unsure")

_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
}


@dataclass(frozen=True)
class Column:
    """One documented column. ``type`` is a key of ``_TYPES``; ``unit`` is empty for dimensionless text."""

    name: str
    type: str
    meaning: str
    unit: str = ""
    nullable: bool = True

    @property
    def arrow_type(self) -> pa.DataType:
        return _TYPES[self.type]


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns])

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def C(name: str, type_: str, meaning: str, unit: str = "", nullable: bool = True) -> Column:  # noqa: N802
    """Short constructor so the tables below read like a data dictionary."""
    return Column(name, type_, meaning, unit, nullable)


DOC = C("doc", "string", "document id: path relative to the scanned root, or the folder name for a folder of PDFs",
        nullable=False)

DOCUMENTS = TableSpec(
    "documents",
    "One row per disclosure document that was scanned (read successfully or not).",
    (
        DOC,
        C("files", "string", "the document's file names, in reading order, joined by ' | '"),
        C("path", "string", "absolute paths of those files on the machine that built the corpus, joined by ' | ' "
                            "(a file inside a zip: the archive's path, then the member's path inside it)"),
        C("format", "string", "format sniffed from the bytes: text, pdf, docx, xlsx, html, or a '+'-joined mix"),
        C("pages", "int64", "number of pages (PDF) or null when the format has no pages", "pages"),
        C("year", "int64", "the fiscal year the document is about, from its title", "year"),
        C("unit_name", "string", "the publishing unit (部门/单位) named in the title, when found"),
        C("doc_type", "string", "决算 (final accounts), 预算 (budget), 绩效 (performance report) or other, from the title"),
        C("n_paragraphs", "int64", "narrative paragraphs read", "paragraphs"),
        C("n_tables", "int64", "tables read", "tables"),
        C("n_chars", "int64", "characters of narrative text", "characters"),
        C("error", "string", "why the document could not be read (null when it was read)"),
    ),
    key=("doc",),
)

CLAIMS = TableSpec(
    "claims",
    "One row per number-bearing claim the detector extracted from the narrative (amounts, shares, changes, "
    "rates, enumerations, counts). A share/change/rate row describes its percent or change figure.",
    (
        DOC,
        C("claim", "int64", "claim number within the document, in extraction order", nullable=False),
        C("frame", "string", "claim frame: amount, share, change, rate, enumeration or count", nullable=False),
        C("referent", "string", "the thing the number is about, as written (e.g. 一般公共预算财政拨款支出)"),
        C("concept", "string", "canonical concept id from rules/concepts.yaml the referent was linked to, or null"),
        C("link_confidence", "float64", "confidence of the referent→concept link", "0–1"),
        C("period", "string", "current, prior or unknown"),
        C("measure", "string", "budget, actual or unknown"),
        C("value", "float64", "the number as written, in `unit` (1,226.42万元 → 1226.42)", "see unit"),
        C("unit", "string", "unit as written: 万元, 元, 亿元, %, 个, 辆 …"),
        C("precision", "float64", "half a unit of the last written digit: the true figure lies in value ± precision",
          "see unit"),
        C("text", "string", "the number as written, e.g. 1,226.42万元"),
        C("sentence", "string", "the whole sentence the claim was read from"),
        C("section", "string", "the nearest heading above the sentence"),
        C("block", "int64", "block index of the paragraph in the document", "block"),
        C("span_start", "int64", "start offset of the number within its paragraph", "characters"),
        C("span_end", "int64", "end offset (exclusive) of the number within its paragraph", "characters"),
        C("page", "int64", "page of the paragraph (PDF), or null", "page"),
    ),
    key=("doc", "claim"),
)

CHECKS = TableSpec(
    "checks",
    "The ledger: one row per relation the detector checked, whatever its outcome (pass, fail, unverifiable).",
    (
        DOC,
        C("check", "int64", "check number within the document", nullable=False),
        C("rule", "string", "stable rule id, e.g. narrative.share", nullable=False),
        C("kind", "string", "relation kind, vocabulary of the findings contract", nullable=False),
        C("status", "string", "pass, fail or unverifiable", nullable=False),
        C("formula", "string", "the relation with the stated numbers, e.g. 59.98 / 1226.42 = 4.89%"),
        C("stated", "string", "the figure as written"),
        C("expected", "string", "the figure as computed from the others"),
        C("reason", "string", "why unverifiable, or the explanation of a failure"),
        C("severity", "string", "error, warning or info (meaningful when status is fail)"),
        C("confidence", "float64", "confidence that a failure is a real defect", "0–1"),
        C("margin", "float64", "distance from the nearest admissible value", "rounding units of the stated figure"),
        C("n_evidence", "int64", "number of evidence items (sentences or table cells) involved", "items"),
        C("evidence_text", "string", "the evidence texts joined by ' ‖ '"),
        C("values", "string", "the numbers involved, as written, joined by ' | '"),
    ),
    key=("doc", "check"),
)

FINDINGS = TableSpec(
    "findings",
    "One row per finding (a failed relation reported under the findings contract of DESIGN.md).",
    (
        DOC,
        C("fingerprint", "string", "the finding's identity, stable across re-runs (verdicts are keyed by it)",
          nullable=False),
        C("rule", "string", "stable rule id", nullable=False),
        C("kind", "string", "finding kind, vocabulary of the findings contract", nullable=False),
        C("severity", "string", "error, warning or info", nullable=False),
        C("confidence", "float64", "the detector's confidence that this is a real defect", "0–1"),
        C("margin", "float64", "distance beyond the rounding interval", "rounding units of the stated figure"),
        C("message", "string", "human explanation with the arithmetic, in Chinese"),
        C("stated", "string", "the figure as written"),
        C("expected", "string", "the figure as computed"),
        C("formula", "string", "the relation with the stated numbers"),
        C("n_evidence", "int64", "number of evidence items", "items"),
        C("n_table_evidence", "int64", "evidence items that are table cells", "items"),
        C("page", "int64", "page of the first evidence item, or null", "page"),
        C("evidence_text", "string", "the evidence texts joined by ' ‖ '"),
        C("evidence_json", "string", "the evidence list exactly as in findings.jsonl, as JSON"),
    ),
    key=("fingerprint",),
)

VERDICT_TABLE = TableSpec(
    "verdicts",
    "People's verdicts on findings (from the review app's database) and, where given, labels derived from gold "
    "by the scoring's matching rule. Keyed by fingerprint, so a verdict survives re-runs.",
    (
        C("fingerprint", "string", "the finding's fingerprint", nullable=False),
        C("doc", "string", "document id of the finding (null when the finding is not in this corpus)"),
        C("verdict", "string", "confirmed (确认), dismissed (误报) or unsure (待定)", nullable=False),
        C("comment", "string", "the reviewer's comment"),
        C("source", "string", "review (a person in the review app) or gold (derived from gold labels)",
          nullable=False),
    ),
    key=("fingerprint", "source"),
)


def _metric_columns() -> tuple[Column, ...]:
    base = (
        DOC,
        C("n_claims", "int64", "claims extracted", "claims", nullable=False),
        C("n_checks", "int64", "relations checked (ledger rows)", "relations", nullable=False),
        C("n_pass", "int64", "relations that hold within rounding", "relations", nullable=False),
        C("n_fail", "int64", "relations that fail beyond rounding", "relations", nullable=False),
        C("n_unverifiable", "int64", "relations that could not be decided", "relations", nullable=False),
        C("coverage", "float64", "relations checkable (pass + fail) per claim; null without claims; may exceed 1",
          "relations per claim"),
        C("consistency", "float64", "passed / verifiable (pass + fail); null when nothing was verifiable", "0–1"),
        C("n_findings", "int64", "findings of severity error or warning", "findings", nullable=False),
    )
    per_kind = tuple(
        C(f"findings_{k}", "int64", f"findings (error or warning) of kind {k}", "findings", nullable=False)
        for k in FINDING_KINDS
    )
    tail = (
        C("sections_expected", "int64", "standard sections expected for this document type", "sections",
          nullable=False),
        C("sections_present", "int64", "standard sections found", "sections", nullable=False),
        C("sections_missing", "string", "labels of the standard sections not found, joined by ' | '"),
        C("tables_expected", "int64", "standard tables expected for this document type", "tables", nullable=False),
        C("tables_present", "int64", "standard tables found (by title, in tables or narrative)", "tables",
          nullable=False),
        C("completeness", "float64", "(sections present + tables present) / (expected); null for other types",
          "0–1"),
        C("template_leftovers", "int64", "unfilled template phrases (增加（减少）, 主要原因是。, XX万元 …)",
          "occurrences", nullable=False),
        C("leftover_examples", "string", "up to five leftovers with context, joined by ' | '"),
    )
    return base + per_kind + tail


METRICS = TableSpec(
    "metrics",
    "Per-document disclosure-quality metrics; definitions in the section below and in detector/corpus/metrics.py.",
    _metric_columns(),
    key=("doc",),
)

TABLES: tuple[TableSpec, ...] = (DOCUMENTS, CLAIMS, CHECKS, FINDINGS, VERDICT_TABLE, METRICS)
BY_NAME = {t.name: t for t in TABLES}


class SchemaError(ValueError):
    """A frame does not fit its documented table."""


def conform(df: pd.DataFrame, spec: TableSpec) -> pa.Table:
    """Select, order and cast ``df``'s columns to ``spec``. Missing documented columns are an error (better a
    loud failure than a silently empty column); extra columns are dropped, because what is not documented is
    not published."""
    missing = [c.name for c in spec.columns if c.name not in df.columns]
    if missing:
        raise SchemaError(f"{spec.name}: missing documented columns {missing}")
    out = {}
    for col in spec.columns:
        series = df[col.name]
        if not col.nullable and series.isna().any():
            raise SchemaError(f"{spec.name}.{col.name}: null values in a non-null column")
        out[col.name] = _cast(series, col)
    return pa.table(out, schema=spec.arrow_schema())


def _cast(series: pd.Series, col: Column) -> pa.Array:
    values = series.tolist()
    if col.type == "string":
        values = [None if _isnull(v) else str(v) for v in values]
    elif col.type == "int64":
        values = [None if _isnull(v) else int(v) for v in values]
    elif col.type == "float64":
        values = [None if _isnull(v) else float(v) for v in values]
    elif col.type == "bool":
        values = [None if _isnull(v) else bool(v) for v in values]
    return pa.array(values, type=col.arrow_type)


def _isnull(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def check_table(table: pa.Table, spec: TableSpec) -> list[str]:
    """Problems of a table read back from Parquet against its spec (empty list when it fits)."""
    problems = []
    names = table.schema.names
    if names != spec.column_names():
        problems.append(f"{spec.name}: columns {names} != documented {spec.column_names()}")
    for col in spec.columns:
        if col.name not in names:
            continue
        field = table.schema.field(col.name)
        if field.type != col.arrow_type:
            problems.append(f"{spec.name}.{col.name}: type {field.type} != documented {col.arrow_type}")
        if not col.nullable and table.column(col.name).null_count:
            problems.append(f"{spec.name}.{col.name}: nulls in a non-null column")
    return problems


def render_readme(extra_sections: dict[str, str] | None = None, counts: dict[str, int] | None = None) -> str:
    """The corpus README, rendered from the table specs. ``extra_sections`` (title → markdown) are appended,
    e.g. the metric definitions; ``counts`` gives row counts per table."""
    lines = [
        "# gouji disclosure-quality corpus",
        "",
        "Generated by `gouji corpus build` from a `gouji scan` output. Every table is a Parquet file in this folder;",
        "this README is rendered from the same schema definition the files are written through",
        "(`detector/corpus/schema.py`), so it describes exactly what is here.",
        "",
        "Read with pandas: `pd.read_parquet('CORPUS/findings.parquet')`; or with DuckDB:",
        "`select kind, count(*) from 'CORPUS/findings.parquet' group by 1`.",
        "",
        "| table | rows | key | what |",
        "|---|---|---|---|",
    ]
    for spec in TABLES:
        n = "" if counts is None else str(counts.get(spec.name, 0))
        lines.append(f"| `{spec.file}` | {n} | {', '.join(spec.key)} | {_cell(spec.description)} |")
    for spec in TABLES:
        lines += ["", f"## {spec.name}", "", spec.description, "",
                  "| column | type | null | unit | meaning |", "|---|---|---|---|---|"]
        for c in spec.columns:
            null = "yes" if c.nullable else "no"
            lines.append(f"| `{c.name}` | {c.type} | {null} | {_cell(c.unit)} | {_cell(c.meaning)} |")
    for title, body in (extra_sections or {}).items():
        lines += ["", f"## {title}", "", body.strip()]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a literal pipe would end the cell."""
    return text.replace("|", "\\|")
