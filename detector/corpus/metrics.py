"""Per-document disclosure-quality metrics, computed with pandas from the corpus tables and the text.

Why these metrics: a researcher comparing units or years wants to know not only how many contradictions a
document has, but how much of it could be checked at all (a document whose numbers cannot be tied together is
not "consistent", it is opaque), whether the mandatory parts are there, and whether the template was filled in.

Definitions (also rendered into the corpus README, see ``DEFINITIONS``):

- coverage = (pass + fail) / claims — relations the detector could decide, per claim extracted.
- consistency = pass / (pass + fail) — the share of decidable relations that hold within rounding.
- findings by kind — findings of severity error or warning, counted per kind of the findings contract.
- completeness — for 预算/决算 documents: (standard sections found + standard tables found) / (expected).
- template leftovers — unfilled template phrases: 增加（减少）, 增长（下降）, 主要原因是。 with nothing after,
  XX万元 placeholders, blanks like ____万元.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import regex as re

from detector.corpus.schema import FINDING_KINDS, METRICS

DEFINITIONS = """\
- **coverage** = (relations that passed + relations that failed) / claims extracted. How much of what the document
  states could be tied to something else and decided. Null when no claim was extracted; it can exceed 1 because a
  claim can take part in several relations.
- **consistency** = passed / (passed + failed). The share of decidable relations that hold once every stated
  number is read as the interval its digits stand for (1,226.42 → [1226.415, 1226.425]). Unverifiable relations
  count for neither. Null when nothing was decidable.
- **findings_<kind>** = findings of severity error or warning of that kind (info findings are hair-width rounding
  notes and are not counted).
- **completeness** = (standard sections found + standard tables found) / (sections expected + tables expected),
  for 预算 and 决算 documents (the Ministry of Finance templates both follow); null for other documents
  (performance reports, …). A section is found when its keywords occur in a heading or in the narrative — a sentence
  such as 本部门无政府性基金预算 discloses the item too. A standard table is found by its title, in a table's
  title or in a short paragraph (PDF exports often carry the title as a paragraph). The lists are in
  `detector/corpus/metrics.py` (`SECTIONS`, `TABLES`); titles from `rules/tables.yaml` are added when present.
- **template_leftovers** = occurrences of unfilled template text: alternatives left in place (增加（减少）,
  增长（下降）, 上升（下降）), a reason announced and not given (主要原因是。), placeholder figures (XX万元,
  ×× 万元) and blanks (____万元).
"""


@dataclass(frozen=True)
class Pattern:
    label: str
    regex: str

    def search(self, text: str) -> bool:
        return re.search(self.regex, text) is not None


SECTIONS: tuple[Pattern, ...] = (
    Pattern("部门职责", r"职能|职责"),
    Pattern("机构设置", r"机构设置|单位构成|部门构成|机构情况"),
    Pattern("收支总体情况", r"收(?:入)?支(?:出)?(?:预算|决算)?(?:总体)?情况|预算安排的总体情况|收支概况"),
    Pattern("收入情况", r"收入(?:预算|决算)?(?:情况|说明)"),
    Pattern("支出情况", r"支出(?:预算|决算)?(?:情况|说明)"),
    Pattern("财政拨款收支总体情况", r"财政拨款收(?:入)?支(?:出)?(?:预算|决算)?(?:总体)?情况"),
    Pattern("一般公共预算支出情况", r"一般公共预算(?:财政拨款)?(?:基本)?支出"),
    Pattern("三公经费", r"[“\"]?三公[”\"]?经费|因公出国"),
    Pattern("政府性基金", r"政府性基金"),
    Pattern("机关运行经费", r"机关运行经费"),
    Pattern("政府采购", r"政府采购"),
    Pattern("国有资产", r"国有资产|资产占用|固定资产"),
    Pattern("绩效", r"绩效"),
    Pattern("名词解释", r"名词解释"),
)

TABLES: tuple[Pattern, ...] = (
    Pattern("收支总表", r"(?<!拨款)收(?:入)?支(?:出)?(?:预算|决算)?总表"),
    Pattern("收入总表", r"(?<!拨款)(?<!支)收入(?:预算|决算)?(?:总)?表"),
    Pattern("支出总表", r"(?<!拨款)(?<!基本)(?<!收入)支出(?:预算|决算)?(?:总)?表"),
    Pattern("财政拨款收支总表", r"财政拨款收(?:入)?支(?:出)?(?:预算|决算)?总表"),
    Pattern("一般公共预算支出表", r"一般公共预算(?:财政拨款)?支出(?:预算|决算)?(?:情况)?表"),
    Pattern("一般公共预算基本支出表", r"一般公共预算(?:财政拨款)?基本支出(?:预算|决算)?(?:情况)?表"),
    Pattern("三公经费支出表", r"三公[”\"]?经费(?:支出)?(?:预算|决算)?(?:情况)?表"),
    Pattern("政府性基金支出表", r"政府性基金(?:预算)?(?:财政拨款)?(?:收入)?(?:支出)?(?:预算|决算)?(?:情况)?表"),
)

LEFTOVERS: tuple[Pattern, ...] = (
    Pattern("alternative", r"(?:增加|增长|上升|减少|下降)[（(](?:减少|下降|增加|增长|上升)[)）]"),
    Pattern("reason_missing", r"(?:主要)?原因(?:是|为|系)[:：]?\s*(?:[。；;]|$)"),
    Pattern("placeholder", r"[XxＸｘ×]{2,}\s*(?:\.\s*[XxＸｘ×]+)?\s*(?:万元|亿元|元|%|％|个|人|辆)"),
    Pattern("blank", r"(?:_{2,}|＿{2,}|\s{3,})(?:万元|亿元|元|%|％)"),
)

HEADING_MAX = 60  # a paragraph this short may be a heading or a table title


KIND_TO_TYPE = {"预算": "预算", "决算": "决算", "绩效自评": "绩效"}


def doc_type(kind: str | None) -> str:
    """The metrics' document type from the detector's metadata kind (预算 / 决算 / 绩效自评 / None)."""
    return KIND_TO_TYPE.get(kind or "", "other")


def rule_table_patterns() -> tuple[Pattern, ...]:
    """Standard-table title patterns from ``rules/tables.yaml`` (entries with ``name`` and ``titles``), so a
    user's rules folder can teach completeness new tables; the built-in list is used when the rules have none."""
    try:
        from detector.rules import load_rules

        entries = load_rules().tables
    except Exception:  # noqa: BLE001 — rules are optional for metrics; the built-in list stands in
        return TABLES
    titles: dict[str, list[str]] = {}  # a table named twice (two title conventions) is one standard table
    for e in entries or []:
        if isinstance(e, dict) and e.get("name") and e.get("titles"):
            titles.setdefault(str(e["name"]), []).extend(str(t) for t in e["titles"])
    found = [Pattern(name, "|".join(f"(?:{t})" for t in ts)) for name, ts in titles.items()]
    return tuple(found) or TABLES


def text_metrics(paragraphs: list[str], table_titles: list[str], dtype: str,
                 tables: tuple[Pattern, ...] | None = None) -> dict:
    """Completeness and template leftovers of one document, from its narrative paragraphs and table titles."""
    narrative = "\n".join(paragraphs)
    short = [p for p in paragraphs if len(p.strip()) <= HEADING_MAX] + [t for t in table_titles if t]
    tables = tables or rule_table_patterns()
    row: dict = {}
    if dtype in ("预算", "决算"):
        missing = [s.label for s in SECTIONS if not s.search(narrative)]
        t_present = sum(1 for t in tables if any(t.search(x) for x in short))
        row.update(sections_expected=len(SECTIONS), sections_present=len(SECTIONS) - len(missing),
                   sections_missing=" | ".join(missing), tables_expected=len(tables), tables_present=t_present)
        row["completeness"] = (row["sections_present"] + t_present) / (len(SECTIONS) + len(tables))
    else:
        row.update(sections_expected=0, sections_present=0, sections_missing=None, tables_expected=0,
                   tables_present=0, completeness=None)
    hits = leftovers(paragraphs)
    row["template_leftovers"] = len(hits)
    row["leftover_examples"] = " | ".join(hits[:5]) or None
    return row


def leftovers(paragraphs: list[str]) -> list[str]:
    """Every unfilled template phrase, with a few characters of context on each side."""
    out = []
    for p in paragraphs:
        for pat in LEFTOVERS:
            for m in re.finditer(pat.regex, p, flags=re.M):
                a, b = max(0, m.start() - 12), min(len(p), m.end() + 6)
                out.append(p[a:b].strip())
    return out


def ledger_metrics(docs: list[str], claims: pd.DataFrame, checks: pd.DataFrame,
                   findings: pd.DataFrame) -> pd.DataFrame:
    """Coverage, consistency and findings by kind per document, from corpus-schema frames."""
    idx = pd.Index(docs, name="doc")
    n_claims = claims.groupby("doc").size().reindex(idx, fill_value=0)
    status = (checks.groupby(["doc", "status"]).size().unstack(fill_value=0)
              if len(checks) else pd.DataFrame(index=idx))
    status = status.reindex(index=idx, columns=["pass", "fail", "unverifiable"], fill_value=0)
    out = pd.DataFrame(index=idx)
    out["n_claims"] = n_claims.astype("int64")
    out["n_checks"] = status.sum(axis=1).astype("int64")
    out["n_pass"] = status["pass"].astype("int64")
    out["n_fail"] = status["fail"].astype("int64")
    out["n_unverifiable"] = status["unverifiable"].astype("int64")
    decidable = out["n_pass"] + out["n_fail"]
    out["coverage"] = (decidable / out["n_claims"]).where(out["n_claims"] > 0)
    out["consistency"] = (out["n_pass"] / decidable).where(decidable > 0)
    scored = findings[findings["severity"].isin(["error", "warning"])] if len(findings) else findings
    out["n_findings"] = scored.groupby("doc").size().reindex(idx, fill_value=0).astype("int64") \
        if len(scored) else 0
    for kind in FINDING_KINDS:
        sub = scored[scored["kind"] == kind] if len(scored) else scored
        out[f"findings_{kind}"] = (sub.groupby("doc").size().reindex(idx, fill_value=0).astype("int64")
                                   if len(sub) else 0)
    return out.reset_index()


def document_metrics(documents: pd.DataFrame, claims: pd.DataFrame, checks: pd.DataFrame,
                     findings: pd.DataFrame, texts: dict[str, tuple[list[str], list[str]]]) -> pd.DataFrame:
    """The metrics table: one row per document. ``texts`` maps a document id to (paragraphs, table titles);
    a document without text (unreadable) gets null completeness and zero leftovers."""
    docs = documents["doc"].tolist()
    ledger = ledger_metrics(docs, claims, checks, findings)
    dtypes = dict(zip(documents["doc"], documents.get("doc_type", pd.Series(["other"] * len(documents))),
                      strict=False))
    rows = []
    tables = rule_table_patterns()
    for d in docs:
        paragraphs, titles = texts.get(d, ([], []))
        row = {"doc": d, **text_metrics(paragraphs, titles, dtypes.get(d) or "other", tables)}
        rows.append(row)
    text_df = pd.DataFrame(rows, columns=["doc", *[c for c in _text_columns()]])
    merged = ledger.merge(text_df, on="doc", how="left")
    return merged[METRICS.column_names()]


def _text_columns() -> list[str]:
    return ["sections_expected", "sections_present", "sections_missing", "tables_expected", "tables_present",
            "completeness", "template_leftovers", "leftover_examples"]
