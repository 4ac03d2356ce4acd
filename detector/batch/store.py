"""The result store of a scan: one SQLite file in the output folder, one transaction per document.

Why SQLite and not appending to Parquet: a scan of a whole archive runs for hours and gets killed (SIGKILL, OOM
killer, a laptop lid). A document's rows — its document row, claims, checks and findings — are committed
together or not at all, so after any interruption the store holds whole documents only, and a restart skips
exactly those (same id, same content hash, same rules). WAL mode keeps a committed transaction safe when the
process dies; only a power loss may drop the last few, and those are simply redone.

A document's row tables arrive as Arrow IPC blobs made by the worker (:mod:`detector.batch.arrow`), its findings
as JSON lines, so committing a document costs the scan process a few inserts and no encoding.

The tidy files (``documents.parquet``, ``claims.parquet``, ``checks.parquet``, ``findings.parquet``,
``findings.jsonl``) are materialised from the store at the end of every run, each written atomically, for the
documents of the current run only (a file deleted from the archive leaves the outputs with it). They are
streamed: one pass learns the columns' types, a second writes row groups of :data:`BATCH_ROWS` rows, so the scan
process never holds a whole table — an archive of millions of documents writes its outputs in bounded memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from detector.batch.arrow import (
    ParquetSink,
    Types,
    batched,
    decode,
    dumps,
    encode,
    schema_of,
    to_table,
    unify,
)
from detector.errors import UsageError
from detector.io import atomic_path

STORE_FILE = "scan.sqlite"
LOCK_FILE = ".scan.lock"
OUTPUT_STEMS = {"documents", "claims", "checks", "findings"}
FORMAT = "2"  # of the store's tables; a store of another format is emptied (its results are redone)
TABLES = ("claims", "checks", "findings")  # Arrow IPC blobs; "contract" holds the findings as JSON lines
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc TEXT PRIMARY KEY, sha256 TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL, findings INTEGER NOT NULL,
    row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (doc TEXT NOT NULL, tbl TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (doc, tbl));
CREATE TABLE IF NOT EXISTS hashes (key TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
"""


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
        for stale in self.out.glob(".*.tmp"):  # outputs half-written by a scan killed while writing them
            if stale.name.split(".")[1] in OUTPUT_STEMS:
                stale.unlink(missing_ok=True)
        self.db = sqlite3.connect(self.out / STORE_FILE, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        db = self.db
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if row is None or row[0] != FORMAT:
            # An older store's rows are in another shape; they would be stale under this gouji anyway.
            for table in ("documents", "rows", "blobs"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
        db.executescript(SCHEMA)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT,))

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

    def done_key(self, doc: str) -> tuple[str, str] | None:
        """(sha256, config) of one committed document (a lookup, so a plan over millions holds none of them)."""
        row = self.db.execute("SELECT sha256, config FROM documents WHERE doc = ?", (doc,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, doc: str, sha256: str, config: str, row: dict, blobs: dict[str, bytes | str | None]) -> None:
        """Commit one document with all its rows (``blobs``: see :func:`encode_tables`), replacing what an
        earlier run stored for it."""
        db = self.db
        findings = blobs.get("contract") or ""
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM blobs WHERE doc = ?", (doc,))
            db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?)",
                       (doc, sha256, config, row.get("status", ""), findings.count("\n"), dumps(row)))
            db.executemany("INSERT INTO blobs VALUES (?, ?, ?)",
                           [(doc, tbl, data) for tbl, data in blobs.items() if data])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def counts(self, docs: Iterable[str]) -> dict[str, int]:
        """Status → number of documents, over ``docs``."""
        self._set_current(docs)
        return dict(self.db.execute(
            "SELECT status, COUNT(*) FROM documents JOIN current USING (doc) GROUP BY status"))

    def findings(self) -> int:
        """Findings over the current documents (after :meth:`counts` or a read)."""
        return self.db.execute("SELECT COALESCE(SUM(findings), 0) FROM documents JOIN current USING (doc)").fetchone()[0]

    def set_meta(self, **values: object) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()])

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

    def document_rows(self, docs: Iterable[str] | None = None) -> Iterator[dict]:
        """The document rows in id order (of ``docs``, or of the current documents when None)."""
        if docs is not None:
            self._set_current(docs)
        for (row,) in self.db.execute("SELECT row FROM documents JOIN current USING (doc) ORDER BY doc"):
            yield json.loads(row)

    def blobs(self, tbl: str, docs: Iterable[str] | None = None) -> Iterator[bytes | str]:
        """One table's blobs in document id order, a document at a time."""
        if docs is not None:
            self._set_current(docs)
        cursor = self.db.execute(
            "SELECT data FROM blobs JOIN current USING (doc) WHERE tbl = ? ORDER BY doc", (tbl,))
        for (data,) in cursor:
            yield data

    def table_rows(self, tbl: str, docs: Iterable[str] | None = None) -> Iterator[dict]:
        """One table's rows as dicts, in document id order (for tests and small stores)."""
        for data in self.blobs(tbl, docs):
            if tbl == "contract":
                yield from (json.loads(line) for line in data.splitlines())
            else:
                yield from decode(data).to_pylist()


def encode_tables(tables: dict[str, list[dict]]) -> dict[str, bytes | str | None]:
    """A document's rows in the form the store keeps them: Arrow IPC per row table, the findings contract as
    JSON lines. Called in the worker (see :mod:`detector.batch.arrow`)."""
    blobs: dict[str, bytes | str | None] = {tbl: encode(tables.get(tbl) or []) for tbl in TABLES}
    blobs["contract"] = "".join(dumps(obj) + "\n" for obj in tables.get("contract") or [])
    return blobs


def config_key(rules_dir: str | None) -> str:
    """What besides a document's bytes decides its results: gouji's code (its version and sources, so a
    developer's edit counts too) and the rules' contents. A change to any makes every stored result stale, so
    the next run redoes it. ``GOUJI_CODE_KEY`` in the environment stands in for gouji's own part (code and
    shipped rules; a ``--rules`` folder still counts): a deployment that knows a patch changes no result, or a
    test run in a tree others are editing, pins it."""
    import os

    import detector
    from detector.rules import shipped_dir

    digest = hashlib.sha256(detector.__version__.encode())
    code = Path(detector.__file__).parent
    pinned = os.environ.get("GOUJI_CODE_KEY")
    if pinned:
        digest.update(b"pinned:" + pinned.encode())
    ours = (None, None) if pinned else (code, shipped_dir())
    for folder in (*ours, Path(rules_dir) if rules_dir else None):
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
BATCH_ROWS = 50_000  # rows per Parquet row group: what the scan process holds at a time while writing


def write_documents(store: Store, target: Path, batch_rows: int = BATCH_ROWS) -> None:
    """documents.parquet in two passes over the store: the columns' types, then the rows a batch at a time."""
    types = Types(INTEGER_COLUMNS)
    for row in store.document_rows():
        types.add(row)
    columns = types.types()
    schema = unify([pa.schema(list(columns.items()))], DOCUMENT_COLUMNS, INTEGER_COLUMNS)
    with atomic_path(target) as tmp:
        sink = ParquetSink(tmp, schema, batch_rows)
        for rows in batched(store.document_rows(), batch_rows):
            sink.add(to_table(rows, columns))
        sink.close()


def write_table(store: Store, tbl: str, target: Path, batch_rows: int = BATCH_ROWS) -> None:
    """One row table's Parquet file from the documents' Arrow blobs: their schemas unified (a pass reading
    only the schemas), then the rows streamed in row groups."""
    schema = unify((schema_of(b) for b in store.blobs(tbl)), ["doc"], INTEGER_COLUMNS)
    with atomic_path(target) as tmp:
        sink = ParquetSink(tmp, schema, batch_rows)
        for blob in store.blobs(tbl):
            sink.add(decode(blob))
        sink.close()


def materialise(store: Store, docs: list[str], batch_rows: int = BATCH_ROWS) -> dict[str, Path]:
    """Write the five output files for ``docs`` from the store, streaming (memory holds a row group, not the
    table); return their paths."""
    out = store.out
    paths = {
        "documents": out / "documents.parquet",
        "claims": out / "claims.parquet",
        "checks": out / "checks.parquet",
        "findings": out / "findings.parquet",
        "jsonl": out / "findings.jsonl",
    }
    store._set_current(docs)
    write_documents(store, paths["documents"], batch_rows)
    for tbl in TABLES:
        write_table(store, tbl, paths[tbl], batch_rows)
    with atomic_path(paths["jsonl"]) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for text in store.blobs("contract"):
            fh.write(text)
    return paths
