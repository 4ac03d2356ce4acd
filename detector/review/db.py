"""The review database: auditors' verdicts keyed by finding fingerprint, in one SQLite file.

Why fingerprints: a fingerprint is stable across re-runs of the same document and rule (see
:func:`detector.model.fingerprint`), so a verdict given today is still attached after tomorrow's re-scan, and
never to another finding. Every finding ever seen is kept with its last JSON, so a finding that disappears
after the document is fixed is shown as *resolved* (with its verdict) rather than silently forgotten, and the
gold export has the evidence of every verdict. Every change of verdict is also appended to a log: an audit
trail is what auditors expect of their own tools.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

VERDICTS = ("confirmed", "dismissed", "unsure")
VERDICT_LABELS = {"confirmed": "确认", "dismissed": "误报", "unsure": "待定"}
LABEL_TO_VERDICT = {v: k for k, v in VERDICT_LABELS.items()} | {k: k for k in VERDICTS}

SCHEMA = """
CREATE TABLE IF NOT EXISTS findings (
    fingerprint TEXT PRIMARY KEY,
    results     TEXT NOT NULL,          -- key of the result set it was last seen in
    doc         TEXT NOT NULL,
    rule        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    ord         INTEGER NOT NULL,       -- position in its result set, for a stable queue order
    finding     TEXT NOT NULL,          -- the finding's JSON as last seen
    present     INTEGER NOT NULL,       -- 1: in the current results; 0: gone (resolved)
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_results ON findings(results, present);
CREATE TABLE IF NOT EXISTS verdicts (
    fingerprint TEXT PRIMARY KEY,
    verdict     TEXT CHECK (verdict IS NULL OR verdict IN ('confirmed', 'dismissed', 'unsure')),
    comment     TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,          -- app | xlsx
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS verdict_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    verdict     TEXT,
    comment     TEXT NOT NULL,
    source      TEXT NOT NULL,
    at          TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def gouji_home() -> Path:
    """$GOUJI_HOME, else ~/.gouji: the review database of bare jsonl results and the default ranker model."""
    return Path(os.environ.get("GOUJI_HOME") or Path.home() / ".gouji")


def default_db_path(results: str | Path | None) -> Path:
    """RESULTS/review.sqlite for a scan folder; ~/.gouji/review.sqlite (or $GOUJI_HOME) otherwise."""
    if results is not None and Path(results).is_dir():
        return Path(results) / "review.sqlite"
    return gouji_home() / "review.sqlite"


class ReviewDB:
    """A thin layer over SQLite. One connection per call keeps it safe under the threaded web server;
    a process-wide lock serialises writes (SQLite allows one writer anyway)."""

    _write_lock = threading.Lock()

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as con:
            con.executescript(SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            with con:
                yield con
        finally:
            con.close()

    # ------------------------------------------------------------------------------------------ findings

    def sync(self, results_key: str, findings: list[dict], checked_docs: Iterable[str] | None = None) -> None:
        """Record the current findings of a result set. Findings of this set that are gone are marked
        resolved — but only for documents that were checked again (``checked_docs``; None: all), so a
        document that failed to load in a re-scan does not make its findings look fixed."""
        now = _now()
        current = {str(f.get("fingerprint", "")) for f in findings if f.get("fingerprint")}
        checked = None if checked_docs is None else set(checked_docs)
        with self._write_lock, self._conn() as con:
            for ord_, f in enumerate(findings):
                fp = str(f.get("fingerprint", ""))
                if not fp:
                    continue
                con.execute(
                    "INSERT INTO findings VALUES (?,?,?,?,?,?,?,1,?,?) ON CONFLICT(fingerprint) DO UPDATE SET "
                    "results=excluded.results, doc=excluded.doc, rule=excluded.rule, severity=excluded.severity, "
                    "ord=excluded.ord, finding=excluded.finding, present=1, last_seen=excluded.last_seen",
                    (fp, results_key, str(f.get("doc", "")), str(f.get("rule", "")),
                     str(f.get("severity", "info")), ord_, json.dumps(f, ensure_ascii=False), now, now),
                )
            for row in con.execute("SELECT fingerprint, doc FROM findings WHERE results=? AND present=1",
                                   (results_key,)).fetchall():
                if row["fingerprint"] not in current and (checked is None or row["doc"] in checked):
                    con.execute("UPDATE findings SET present=0 WHERE fingerprint=?", (row["fingerprint"],))

    def remember(self, finding: dict, results_key: str = "") -> None:
        """Keep a finding known from elsewhere (a returned spreadsheet) without touching its presence."""
        fp = str(finding.get("fingerprint", ""))
        if not fp:
            return
        now = _now()
        with self._write_lock, self._conn() as con:
            con.execute(
                "INSERT OR IGNORE INTO findings VALUES (?,?,?,?,?,?,?,0,?,?)",
                (fp, results_key, str(finding.get("doc", "")), str(finding.get("rule", "")),
                 str(finding.get("severity", "info")), 0, json.dumps(finding, ensure_ascii=False), now, now),
            )

    def queue(self, results_key: str) -> list[dict]:
        """Every finding of a result set with its verdict: open ones in result order, then resolved ones."""
        with self._conn() as con:
            rows = con.execute(
                "SELECT f.fingerprint, f.finding, f.present, v.verdict, v.comment, v.updated_at FROM findings f "
                "LEFT JOIN verdicts v USING (fingerprint) WHERE f.results=? ORDER BY f.present DESC, f.ord",
                (results_key,),
            ).fetchall()
        return [self._item(r) for r in rows]

    def item(self, fingerprint: str) -> dict | None:
        with self._conn() as con:
            r = con.execute(
                "SELECT f.fingerprint, f.finding, f.present, v.verdict, v.comment, v.updated_at FROM findings f "
                "LEFT JOIN verdicts v USING (fingerprint) WHERE f.fingerprint=?", (fingerprint,)
            ).fetchone()
        return self._item(r) if r else None

    @staticmethod
    def _item(r: sqlite3.Row) -> dict:
        return {"fingerprint": r["fingerprint"], "finding": json.loads(r["finding"]), "present": bool(r["present"]),
                "verdict": r["verdict"], "comment": r["comment"] or "", "updated_at": r["updated_at"]}

    def known(self, fingerprint: str) -> bool:
        with self._conn() as con:
            return con.execute("SELECT 1 FROM findings WHERE fingerprint=?", (fingerprint,)).fetchone() is not None

    # ------------------------------------------------------------------------------------------ verdicts

    def set_verdict(self, fingerprint: str, verdict: str | None, comment: str | None = None,
                    source: str = "app") -> None:
        """Set (or with None clear) a verdict; ``comment=None`` keeps the comment already there."""
        if verdict is not None and verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        now = _now()
        with self._write_lock, self._conn() as con:
            old = con.execute("SELECT comment FROM verdicts WHERE fingerprint=?", (fingerprint,)).fetchone()
            text = comment if comment is not None else (old["comment"] if old else "")
            con.execute(
                "INSERT INTO verdicts VALUES (?,?,?,?,?) ON CONFLICT(fingerprint) DO UPDATE SET "
                "verdict=excluded.verdict, comment=excluded.comment, source=excluded.source, "
                "updated_at=excluded.updated_at",
                (fingerprint, verdict, text, source, now),
            )
            con.execute("INSERT INTO verdict_log (fingerprint, verdict, comment, source, at) VALUES (?,?,?,?,?)",
                        (fingerprint, verdict, text, source, now))

    def verdicts(self) -> dict[str, tuple[str | None, str]]:
        with self._conn() as con:
            rows = con.execute("SELECT fingerprint, verdict, comment FROM verdicts").fetchall()
        return {r["fingerprint"]: (r["verdict"], r["comment"]) for r in rows}

    def reviewed(self) -> list[dict]:
        """Findings with a verdict, with their last JSON (for the gold export), in a stable order."""
        with self._conn() as con:
            rows = con.execute(
                "SELECT f.fingerprint, f.finding, f.present, v.verdict, v.comment, v.updated_at FROM verdicts v "
                "JOIN findings f USING (fingerprint) WHERE v.verdict IS NOT NULL ORDER BY f.doc, f.results, f.ord"
            ).fetchall()
        return [self._item(r) for r in rows]

    def history(self, fingerprint: str) -> list[dict]:
        with self._conn() as con:
            rows = con.execute("SELECT verdict, comment, source, at FROM verdict_log WHERE fingerprint=? "
                               "ORDER BY id", (fingerprint,)).fetchall()
        return [dict(r) for r in rows]
