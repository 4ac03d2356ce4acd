"""Loading RESULTS — a scan folder or a bare findings .jsonl — for the report, the spreadsheet and the review app.

Why one loader: the three readers of results must agree on what a document is, where its source file lives and
which findings belong to it; a second copy of that logic would drift. The loader only reads what exists
(``findings.jsonl`` is required, the Parquet tables are optional) so a report can be made from a check run as
well as from a full scan.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import regex as re

from detector.errors import GoujiError, IngestError
from detector.model import Document

FINDINGS_FILE = "findings.jsonl"
DOCUMENTS_FILE = "documents.parquet"
CHECKS_FILE = "checks.parquet"
SEVERITIES = ("error", "warning", "info")
OUTCOMES = ("pass", "fail", "unverifiable")
SOURCE_SUFFIXES = (".txt", ".pdf", ".docx", ".doc", ".xlsx", ".xls", ".html", ".htm", ".csv")

DOCUMENT_CACHE = 16  # re-ingested documents kept (the report goes document by document; the app revisits)

NUMBER_RE = re.compile(r"[-−]?\d[\d,，]*(?:\.\d+)?%?")


@dataclass
class DocInfo:
    """One document of the results: its id, its source files (may be empty when unknown) and its status."""

    doc: str
    paths: list[Path] = field(default_factory=list)
    status: str = "ok"
    checks: Counter = field(default_factory=Counter)  # outcome -> count, empty without checks.parquet


@dataclass
class Results:
    """Findings grouped with their documents. ``root`` is the folder every file parameter must stay under
    (the scan folder, or the ``--source`` root of a jsonl); ``findings_path`` is the file watched for changes."""

    findings: list[dict]
    documents: dict[str, DocInfo]
    findings_path: Path
    root: Path | None
    source_root: Path | None
    has_checks: bool = False
    listed: bool = False  # documents come from documents.parquet (a scan), not only from the findings
    _cache: dict[str, Document | None] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        """A stable name of this result set, used by the review database to scope 'resolved' findings."""
        return str(self.findings_path.resolve())

    def by_document(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {d: [] for d in self.documents}
        for f in self.findings:
            out.setdefault(f.get("doc", ""), []).append(f)
        return out

    def document(self, doc: str) -> Document | None:
        """The re-ingested source of ``doc``, or None when it is gone or unreadable (the report then shows the
        evidence text only). A few are cached: a document is touched once per finding."""
        if doc in self._cache:
            self._cache[doc] = self._cache.pop(doc)  # most recently used last
        else:
            self._cache[doc] = self._load(doc)
            while len(self._cache) > DOCUMENT_CACHE:  # a scan of thousands must not hold them all in memory
                self._cache.pop(next(iter(self._cache)))
        return self._cache[doc]

    def _load(self, doc: str) -> Document | None:
        from detector.ingest import load

        info = self.documents.get(doc)
        paths = [p for p in (info.paths if info else []) if p.exists()]
        if not paths:
            return None
        try:
            return load(paths, doc_id=doc)
        except (IngestError, OSError, ValueError):
            return None


def load_results(path: str | Path, source: str | Path | None = None) -> Results:
    """Read RESULTS: a scan folder (findings.jsonl + optional documents/checks Parquet) or a findings .jsonl.

    ``source`` is the root that bare-jsonl document ids are relative to; for a scan folder it overrides the
    root that relative paths in documents.parquet are resolved against."""
    path = Path(path)
    source_root = Path(source).resolve() if source else None
    if path.is_dir():
        findings_path = path / FINDINGS_FILE
        if not findings_path.exists():
            raise GoujiError(f"{path} 不是扫描结果目录（缺少 {FINDINGS_FILE}） / not a scan folder")
        root = path.resolve()
    elif path.is_file():
        findings_path = path
        root = source_root
    else:
        raise GoujiError(f"找不到结果 / results not found: {path}")
    findings = read_findings(findings_path)
    documents: dict[str, DocInfo] = {}
    listed = path.is_dir() and (path / DOCUMENTS_FILE).exists()
    if listed:
        documents = _read_documents(path / DOCUMENTS_FILE, source_root or root)
    for f in findings:
        doc = f.get("doc", "")
        if doc not in documents:
            documents[doc] = DocInfo(doc=doc, paths=_guess_paths(doc, source_root))
    has_checks = path.is_dir() and (path / CHECKS_FILE).exists()
    if has_checks:
        _read_checks(path / CHECKS_FILE, documents)
    return Results(findings, documents, findings_path, root, source_root, has_checks, listed)


def read_findings(path: Path) -> list[dict]:
    """Findings of a jsonl file; a blank line is skipped, a broken one (bad JSON or bytes that are not UTF-8,
    as in a file caught mid-write) is an error naming its line, so a caller can keep its previous results."""
    findings = []
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise GoujiError(f"{path}:{n}: 不是 UTF-8 / not UTF-8 ({exc.reason})") from exc
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoujiError(f"{path}:{n}: 不是 JSON / not JSON ({exc.msg})") from exc
            if isinstance(obj, dict):
                findings.append(obj)
    return findings


def _read_documents(path: Path, root: Path | None) -> dict[str, DocInfo]:
    import pandas as pd

    frame = pd.read_parquet(path)
    out: dict[str, DocInfo] = {}
    for row in frame.to_dict("records"):
        doc = str(row.get("doc", ""))
        raw = row.get("path")
        out[doc] = DocInfo(doc=doc, paths=source_paths(raw, root), status=str(row.get("status") or "ok"))
    return out


def source_paths(raw: object, root: Path | None) -> list[Path]:
    """documents.parquet's ``path`` as absolute paths: one path, a list of paths, or a folder (a document per
    folder). A scan writes absolute paths; one made by an older gouji wrote them as given on its command line,
    so a relative path is tried under ``root`` first and then against the current folder. A zip member
    (archive.zip/member) does not exist on disk and leaves the document without source."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return []
    items = [str(x) for x in raw] if isinstance(raw, (list, tuple)) or hasattr(raw, "tolist") else [str(raw)]
    paths: list[Path] = []
    for item in items:
        p = Path(item)
        if not p.is_absolute() and root is not None and (root / p).exists():
            p = root / p  # relative to --source (or the scan folder); else as written (the scan's cwd)
        p = p.absolute()
        if p.is_dir():
            paths += sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in SOURCE_SUFFIXES)
        else:
            paths.append(p)
    return paths


def _guess_paths(doc: str, source_root: Path | None) -> list[Path]:
    """A bare jsonl's document id is a path relative to ``--source``; ids without extension (gold style) are
    matched to a file of that stem. Ids that would leave the source root are refused."""
    if source_root is None or not doc:
        return []
    candidate = (source_root / doc).resolve()
    if not candidate.is_relative_to(source_root):
        return []
    if candidate.is_file():
        return [candidate]
    if candidate.is_dir():
        return source_paths(str(candidate), None)
    siblings = sorted(candidate.parent.glob(candidate.name + ".*")) if candidate.parent.is_dir() else []
    return [p for p in siblings if p.suffix.lower() in SOURCE_SUFFIXES][:1]


def _read_checks(path: Path, documents: dict[str, DocInfo]) -> None:
    import pandas as pd

    frame = pd.read_parquet(path, columns=None)
    status_col = next((c for c in ("status", "outcome") if c in frame.columns), None)
    if status_col is None or "doc" not in frame.columns:
        return
    for (doc, status), n in frame.groupby(["doc", status_col]).size().items():
        info = documents.setdefault(str(doc), DocInfo(doc=str(doc)))
        info.checks[str(status)] += int(n)


# ------------------------------------------------------------------------------------------ finding helpers


def severity_counts(findings: list[dict]) -> Counter:
    return Counter(f.get("severity", "info") for f in findings)


def first_evidence(finding: dict) -> dict:
    ev = finding.get("evidence") or [{}]
    return ev[0] if isinstance(ev[0], dict) else {}


def finding_page(finding: dict) -> int | None:
    for ev in finding.get("evidence") or []:
        if isinstance(ev, dict) and ev.get("page") is not None:
            return ev["page"]
    return None


def finding_values(finding: dict) -> list[str]:
    """The numbers involved, as written: the evidence's own ``values`` and the numbers of ``stated`` (so
    highlighting also works on findings whose evidence carries no values)."""
    values: list[str] = []
    for ev in finding.get("evidence") or []:
        for v in (ev.get("values") or []) if isinstance(ev, dict) else []:
            if v and v not in values:
                values.append(str(v))
    for v in stated_numbers(finding):
        if v not in values:
            values.append(v)
    return values


def stated_numbers(finding: dict) -> list[str]:
    """The numbers of ``stated`` as written: the figure in question, always worth highlighting."""
    return [m.group(0) for m in NUMBER_RE.finditer(str(finding.get("stated", "")))]


def _decimal(text: str) -> tuple[Decimal, str] | None:
    """(value, unit written after it) of a text holding exactly one number."""
    matches = list(NUMBER_RE.finditer(text or ""))
    if len(matches) != 1:
        return None
    raw = matches[0].group(0)
    unit = ("%" if raw.endswith("%") else "") + text[matches[0].end():].strip()
    try:
        return Decimal(raw.replace(",", "").replace("，", "").replace("%", "").replace("−", "-")), unit
    except InvalidOperation:
        return None


def difference(stated: str, expected: str) -> str:
    """stated − expected when each side is one number in the same unit ("5.02%" and "4.89%" → "+0.13%");
    empty otherwise, because a difference between a list and a number, or 元 and 万元, would be invented."""
    a, b = _decimal(stated), _decimal(expected)
    if a is None or b is None or a[1] != b[1]:
        return ""
    diff = a[0] - b[0]
    places = min(max(-a[0].as_tuple().exponent, -b[0].as_tuple().exponent, 0), 4)
    return f"{diff:+.{places}f}{a[1]}"
