"""The per-document function of a scan: one :class:`Task` in, one plain ``dict`` of rows out.

Why one function for every engine: the local process pool and Dask both call :func:`run_document` inside a
supervised child process (:mod:`detector.batch.child`), so a document gives the same rows whichever engine ran
it, and a resumed scan's rows equal an uninterrupted scan's.

The rows leave the worker already encoded (:func:`~detector.batch.store.encode_tables`: Arrow IPC and JSON
lines), so the process that commits them does no per-row work.

The function never raises for a bad document: an unreadable file, a parser that throws or runs out of memory
becomes a row with ``status = "error"`` and a stable ``error_code``. Hangs and hard crashes (a segfault in a PDF
library) cannot be caught from inside; the supervisor records those (:func:`error_result`).
"""

from __future__ import annotations

import hashlib
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from detector import ingest
from detector.batch.walk import DocSource, FileRef, ZipCache, ZipLimits
from detector.errors import GoujiError

ZIPS = ZipCache()  # this worker's open archives, kept across its documents


@dataclass(frozen=True)
class Task:
    """One document to scan, with everything a worker on another machine needs to do it."""

    source: DocSource
    sha256: str
    rules_dir: str | None = None
    limits: ZipLimits = ZipLimits()


def document_sha256(files: tuple[FileRef, ...] | list[FileRef], contents: list[bytes]) -> str:
    """A document's content hash. One file: the sha256 of its bytes (what ``sha256sum`` prints). Several files:
    the sha256 over each file's name and hash, so renaming or reordering a part counts as a change."""
    hashes = [hashlib.sha256(data).hexdigest() for data in contents]
    if len(hashes) == 1:
        return hashes[0]
    joined = "\n".join(f"{f.basename}\t{h}" for f, h in zip(files, hashes, strict=True))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def base_row(task: Task) -> dict:
    """The document row's identity columns, known before anything is read."""
    src = task.source
    return {
        "doc": src.id,
        "path": [_display_path(f) for f in src.files],
        "files": [f.basename for f in src.files],
        "sha256": task.sha256,
        "bytes": src.size,
    }


def _display_path(ref: FileRef) -> str:
    """Where a file is: its path on disk, or for a zip member the archive's path followed by the member."""
    return ref.path if not ref.members else "/".join([ref.path, *ref.members])


def error_result(task: Task, code: str, message: str, seconds: float | None = None) -> dict:
    """The result of a document that could not be checked: a document row with the reason, no other rows."""
    from detector.batch.store import encode_tables  # pyarrow: imported when first needed (see scan.py)

    row = base_row(task)
    row.update(status="error", error_code=code, error_message=message, seconds_total=seconds)
    return {"doc": task.source.id, "sha256": task.sha256, "row": row, "tables": encode_tables({})}


def run_document(task: Task) -> dict:
    """Read, check and flatten one document. Never raises for a bad document (see the module docstring)."""
    t0 = time.perf_counter()
    if task.source.error:
        return error_result(task, *task.source.error, seconds=0.0)
    try:
        result = _check(task)
    except GoujiError as exc:
        result = error_result(task, exc.code, exc.message, seconds=time.perf_counter() - t0)
        result["row"]["format"] = _sniffed_format(task)
        return result
    except MemoryError:
        return error_result(task, "out_of_memory", "内存不足（超过 --max-memory）/ out of memory (over --max-memory)",
                            seconds=time.perf_counter() - t0) | {"fatal": True}
    except RecursionError:
        return error_result(task, "crash", "解析器递归过深 / parser recursion too deep",
                            seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 — a parser bug on one document must not stop the scan
        return error_result(task, "crash", f"解析器异常 / parser crashed: {_where(exc)}",
                            seconds=time.perf_counter() - t0)
    result["row"]["seconds_total"] = time.perf_counter() - t0
    return result


def _sniffed_format(task: Task) -> str | None:
    """The format of a document that failed, when its bytes say it (a truncated PDF is still a PDF)."""
    from detector.ingest.sniff import sniff

    formats = []
    for ref in task.source.files:
        try:
            formats.append(sniff(ref.read(task.limits, ZIPS), ref.basename))
        except (GoujiError, MemoryError):
            return None
    return "+".join(sorted(set(formats))) or None


def _where(exc: BaseException) -> str:
    """``ValueError: bad xref (detector/ingest/pdf.py:123)``: enough for a bug report, no traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "detector" in f.filename] or frames
    where = f" ({Path(ours[-1].filename).name}:{ours[-1].lineno})" if ours else ""
    return f"{type(exc).__name__}: {exc}{where}"[:500]


def _check(task: Task) -> dict:
    from detector import pipeline, records
    from detector.batch.store import encode_tables
    from detector.metadata import extract_metadata
    from detector.rules import load_rules

    src = task.source
    t0 = time.perf_counter()
    files = [(ref.basename, ref.read(task.limits, ZIPS)) for ref in src.files]
    t_read = time.perf_counter() - t0
    doc = ingest.load_bytes(files, src.id)
    del files
    t_ingest = time.perf_counter() - t0 - t_read
    result = pipeline.check_document(doc, load_rules(task.rules_dir))
    result.timings["ingest"] = t_ingest
    claims = records.claim_records(result)
    checks = records.outcome_records(result)
    findings = records.finding_records(result)
    for rows in (claims, checks, findings):
        for r in rows:
            r.setdefault("doc", src.id)
    row = base_row(task)
    meta = records.document_meta(result)  # counts by outcome and severity, format, pages, blocks, tables
    row.update({k: v for k, v in meta.items() if k not in row and not k.startswith("time_")})
    row.update(extract_metadata(result.doc))
    row.update(status="ok", error_code=None, error_message=None, seconds_read=t_read)
    for stage, seconds in result.timings.items():
        row[f"seconds_{stage}"] = seconds
    contract = [f.to_dict() for f in result.findings]
    t1 = time.perf_counter()
    tables = encode_tables({"claims": claims, "checks": checks, "findings": findings, "contract": contract})
    row["seconds_encode"] = time.perf_counter() - t1
    return {"doc": src.id, "sha256": task.sha256, "row": row, "tables": tables}
