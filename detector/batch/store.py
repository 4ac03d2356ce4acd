"""The result store of a scan: one SQLite file in the output folder, one transaction per document.

Why SQLite and not appending to Parquet: a scan of a whole archive runs for hours and gets killed (SIGKILL, OOM
killer, a laptop lid). A document's rows — its document row, claims, checks and findings — are committed
together or not at all, so after any interruption the store holds whole documents only, and a restart skips
exactly those (same id, same content hash, same rules). WAL mode keeps a committed transaction safe when the
process dies; only a power loss may drop the last few, and those are simply redone.

The tidy files (``documents.parquet``, ``claims.parquet``, ``checks.parquet``, ``findings.parquet``,
``findings.jsonl``) are materialised from the store at the end of every run, each written atomically, for the
documents of the current run only (a file deleted from the archive leaves the outputs with it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from detector.errors import UsageError
from detector.io import atomic_path

STORE_FILE = "scan.sqlite"
LOCK_FILE = ".scan.lock"
TABLES = ("claims", "checks", "findings")  # row tables; "contract" holds the findings as JSON objects
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc TEXT PRIMARY KEY, sha256 TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL, row TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_sha ON documents (sha256);
CREATE TABLE IF NOT EXISTS rows (
    doc TEXT NOT NULL, tbl TEXT NOT NULL, seq INTEGER NOT NULL, row TEXT NOT NULL, PRIMARY KEY (doc, tbl, seq));
CREATE TABLE IF NOT EXISTS hashes (key TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
"""


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, separators=(",", ":"))


class Store:
    """Open (or create) the store in ``out``, holding an exclusive lock on the folder until :meth:`close`:
    two scans writing one folder would interleave their documents."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.out / LOCK_FILE, "a+")  # noqa: SIM115 — held for the store's lifetime
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock.close()
            raise UsageError(f"另一个扫描正在写入 {self.out} / another scan is writing to this folder") from exc
        self.db = sqlite3.connect(self.out / STORE_FILE, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ documents

    def done(self) -> dict[str, tuple[str, str]]:
        """doc id → (sha256, config) of every document committed so far."""
        return {d: (s, c) for d, s, c in self.db.execute("SELECT doc, sha256, config FROM documents")}

    def put(self, doc: str, sha256: str, config: str, row: dict, tables: dict[str, list[dict]]) -> None:
        """Commit one document with all its rows, replacing what an earlier run stored for it."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM rows WHERE doc = ?", (doc,))
            db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
                       (doc, sha256, config, row.get("status", ""), _dumps(row)))
            db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)",
                           [(doc, tbl, i, _dumps(r)) for tbl, rows in tables.items() for i, r in enumerate(rows)])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def counts(self, docs: Iterable[str]) -> dict[str, int]:
        """Status → number of documents, over ``docs``."""
        self._set_current(docs)
        return dict(self.db.execute(
            "SELECT status, COUNT(*) FROM documents JOIN current USING (doc) GROUP BY status"))

    # ------------------------------------------------------------------------------------------ hash cache

    def cached_hash(self, key: str) -> str | None:
        row = self.db.execute("SELECT sha256 FROM hashes WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def cache_hash(self, key: str, sha256: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO hashes VALUES (?, ?)", (key, sha256))

    # ------------------------------------------------------------------------------------------ reading back

    def _set_current(self, docs: Iterable[str]) -> None:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS current (doc TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM current")
        self.db.executemany("INSERT OR IGNORE INTO current VALUES (?)", ((d,) for d in docs))

    def document_rows(self, docs: Iterable[str]) -> Iterator[dict]:
        self._set_current(docs)
        for (row,) in self.db.execute("SELECT row FROM documents JOIN current USING (doc) ORDER BY doc"):
            yield json.loads(row)

    def table_rows(self, tbl: str, docs: Iterable[str]) -> Iterator[dict]:
        self._set_current(docs)
        for (row,) in self.db.execute(
                "SELECT row FROM rows JOIN current USING (doc) WHERE tbl = ? ORDER BY doc, seq", (tbl,)):
            yield json.loads(row)


def config_key(rules_dir: str | None) -> str:
    """What besides a document's bytes decides its results: gouji's code (its version and sources, so a
    developer's edit counts too) and the rules' contents. A change to any makes every stored result stale, so
    the next run redoes it."""
    import detector
    from detector.rules import shipped_dir

    digest = hashlib.sha256(detector.__version__.encode())
    code = Path(detector.__file__).parent
    for folder in (code, shipped_dir(), Path(rules_dir) if rules_dir else None):
        if folder is None or not folder.is_dir():
            continue
        files = folder.rglob("*.py") if folder == code else folder.rglob("*")  # the code: its sources only
        for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# ------------------------------------------------------------------------------------------ materialising

DOCUMENT_COLUMNS = [
    "doc", "path", "files", "sha256", "bytes", "format", "pages", "unit", "year", "kind", "status", "error_code",
    "error_message", "checks_pass", "checks_fail", "checks_unverifiable", "findings_error", "findings_warning",
    "findings_info", "claims",
]


INTEGER_COLUMNS = {"bytes", "pages", "year", "checks_pass", "checks_fail", "checks_unverifiable", "findings_error",
                   "findings_warning", "findings_info", "claims", "blocks", "tables"}


def write_parquet(rows: list[dict], target: Path, first: list[str]) -> None:
    """Rows as a Parquet file, columns ``first`` in front, written atomically. An empty table still gets the
    columns it always has, so a query over it runs rather than failing on a missing column."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=first)
    ordered = [c for c in first if c in frame.columns] + [c for c in frame.columns if c not in first]
    frame = frame[ordered]
    for col in INTEGER_COLUMNS & set(frame.columns):
        # error rows leave counts empty: nullable integers, so a year stays 2023 and not 2023.0
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # A column mixing types (a number here, a text there) is stored as text rather than lost.
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str) else _dumps(v))
        table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)


def materialise(store: Store, docs: list[str]) -> dict[str, Path]:
    """Write the five output files for ``docs`` from the store; return their paths."""
    out = store.out
    paths = {
        "documents": out / "documents.parquet",
        "claims": out / "claims.parquet",
        "checks": out / "checks.parquet",
        "findings": out / "findings.parquet",
        "jsonl": out / "findings.jsonl",
    }
    write_parquet(list(store.document_rows(docs)), paths["documents"], DOCUMENT_COLUMNS)
    for tbl in TABLES:
        write_parquet(list(store.table_rows(tbl, docs)), paths[tbl], ["doc"])
    with atomic_path(paths["jsonl"]) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for obj in store.table_rows("contract", docs):
            fh.write(_dumps(obj) + "\n")
    return paths
