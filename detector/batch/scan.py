"""``gouji scan``: every document under some folders and zip archives, checked in parallel, results in a
resumable store and tidy files.

The flow::

    discover (walk.py) ─▶ plan: hash each document, skip what the store already holds ─▶ engine (local | dask)
        ─▶ commit each result to the store as it arrives ─▶ materialise Parquet + JSONL for this run's documents

Why hash in the scan process: whether a document is done is decided before any worker starts, by content, so a
restart after a kill redoes only what was in flight, and an edited file is rescanned even under the same name.
Hashes are cached in the store under the file's (path, size, mtime, inode), so a resume does not re-read an
archive of unchanged files.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from detector.batch.engines import WorkerSettings, run_dask, run_local
from detector.batch.store import Store, config_key, materialise
from detector.batch.walk import DocSource, FileRef, ZipLimits, discover
from detector.batch.work import Task, document_sha256, error_result
from detector.errors import IngestError, UsageError

WORKERS_LOG = "workers.log"


@dataclass
class ScanOptions:
    roots: list[Path]
    out: Path
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    engine: str = "local"  # local | dask
    scheduler: str | None = None
    timeout: float = 120.0
    max_memory: int | None = None  # bytes per worker
    document_per_folder: bool = False
    rules_dir: str | None = None
    progress: bool = True
    limits: ZipLimits = field(default_factory=ZipLimits)


@dataclass
class ScanSummary:
    documents: int
    skipped: int  # already in the store from an earlier run, unchanged
    scanned: int
    statuses: dict[str, int]
    findings: int
    seconds: float
    outputs: dict[str, Path]

    def line(self) -> str:
        errors = self.statuses.get("error", 0)
        return (f"扫描完成 / scan finished: {self.documents} 份文档 documents（{self.statuses.get('ok', 0)} ok, "
                f"{errors} error），本次处理 scanned {self.scanned}，跳过 skipped {self.skipped}（已完成 / done "
                f"before），{self.findings} 条发现 findings，{self.seconds:.1f} s → {self.outputs['documents'].parent}")


def _stat_key(ref: FileRef) -> str:
    st = os.stat(ref.path)
    return "\x1f".join([os.path.abspath(ref.path), str(st.st_size), str(st.st_mtime_ns), str(st.st_ino),
                        *ref.members])


# Errors that depend on --timeout / --max-memory: done only for a rerun with the same limits.
LIMIT_ERRORS = {"timeout", "out_of_memory", "killed"}


def limits_config(config: str, settings: WorkerSettings) -> str:
    return f"{config}|timeout={settings.timeout:g}|max_memory={settings.max_memory or 0}"


def plan(sources: list[DocSource], store: Store, config: str, limits: ZipLimits, settings: WorkerSettings,
         tick: Callable[[], None] | None = None) -> tuple[list[Task], list[dict], int]:
    """Split the documents into tasks to run, results known without running (unreadable files), and the
    number skipped because the store holds them with the same content hash and configuration. A document
    that timed out or ran out of memory counts as done only under the same limits: raise --timeout and it is
    tried again."""
    done = store.done()
    tasks: list[Task] = []
    known: list[dict] = []
    skipped = 0
    store.db.execute("BEGIN")  # the hash cache is only a cache: one commit for the whole plan
    for src in sources:
        if src.error:
            known.append(error_result(Task(src, sha256=""), *src.error, seconds=0.0))
        else:
            try:
                sha = _hash(src, store, limits)
            except IngestError as exc:
                known.append(error_result(Task(src, sha256=""), exc.code, exc.message, seconds=0.0))
            else:
                if done.get(src.id) in ((sha, config), (sha, limits_config(config, settings))):
                    skipped += 1
                else:
                    tasks.append(Task(src, sha256=sha, limits=limits))
        if tick:
            tick()
    store.db.execute("COMMIT")
    return tasks, known, skipped


def _hash(src: DocSource, store: Store, limits: ZipLimits) -> str:
    try:
        keys = [_stat_key(ref) for ref in src.files]
    except OSError as exc:
        raise IngestError(f"无法读取文件 / cannot read file: {exc.strerror}", path=src.id, code="unreadable") from exc
    cache_key = "\x1e".join(keys)
    sha = store.cached_hash(cache_key)
    if sha is None:
        sha = document_sha256(src.files, [ref.read(limits) for ref in src.files])
        store.cache_hash(cache_key, sha)
    return sha


def scan(opts: ScanOptions) -> ScanSummary:
    """Run a scan; see the module docstring. Raises UsageError for what the user must fix."""
    t0 = time.perf_counter()
    if opts.engine not in ("local", "dask"):
        raise UsageError(f"未知引擎 / unknown engine {opts.engine!r}: choose local or dask")
    if opts.scheduler and opts.engine != "dask":
        raise UsageError("--scheduler 需要 --engine dask / --scheduler needs --engine dask")
    sources = discover(opts.roots, document_per_folder=opts.document_per_folder, limits=opts.limits, skip=opts.out)
    if not sources:
        raise UsageError("没有找到文档 / no documents found (.txt .pdf .docx .xlsx .xls .html, also inside .zip)")
    from detector.batch.progress import ScanProgress

    with Store(opts.out) as store, ScanProgress(len(sources), enabled=opts.progress) as bar:
        config = config_key(opts.rules_dir)
        settings = WorkerSettings(rules_dir=opts.rules_dir, timeout=opts.timeout, max_memory=opts.max_memory)
        bar.phase("哈希 / hashing")
        tasks, known, skipped = plan(sources, store, config, opts.limits, settings, tick=bar.hashed)
        bar.phase("检查 / checking", done=skipped)

        def commit(result: dict) -> None:
            row = result["row"]
            key = limits_config(config, settings) if row.get("error_code") in LIMIT_ERRORS else config
            store.put(result["doc"], result["sha256"], key, row, result["tables"])
            bar.advance(row.get("status") == "error")

        for result in known:
            commit(result)
        if tasks and opts.engine == "dask":
            run_dask(tasks, opts.jobs, settings, commit, scheduler=opts.scheduler)
        elif tasks:
            run_local(tasks, opts.jobs, settings, commit, log=str(opts.out / WORKERS_LOG))
        ids = [s.id for s in sources]
        bar.phase("写出 / writing")
        outputs = materialise(store, ids)
        statuses = store.counts(ids)
        findings = store.db.execute(
            "SELECT COUNT(*) FROM rows JOIN current USING (doc) WHERE tbl = 'contract'").fetchone()[0]
    return ScanSummary(documents=len(sources), skipped=skipped, scanned=len(tasks) + len(known), statuses=statuses,
                       findings=findings, seconds=time.perf_counter() - t0, outputs=outputs)


def progress_wanted(quiet: bool) -> bool:
    """A progress bar only for a person watching: not with --quiet, not into a pipe or a CI log."""
    return not quiet and sys.stderr.isatty()
