"""``gouji scan``: every document under some folders and zip archives, checked in parallel, results in a
resumable store and tidy files.

The flow::

    discover (walk.py) ─▶ plan: hash each document, skip what the store already holds ─▶ engine (local | dask)
        ─▶ commit each result to the store as it arrives ─▶ materialise Parquet + JSONL for this run's documents

Why hash in the scan process: whether a document is done is decided before any worker is given work, by content,
so a restart after a kill redoes only what was in flight, and an edited file is rescanned even under the same name.

The hash cache, and why it cannot miss an edit: hashes are cached in the store under the file's (path, device,
inode, size, mtime, ctime), so a resume does not re-read an archive of unchanged files. Size and mtime alone would
miss an edit that keeps both — one digit corrected (same size) by a tool that restores the modification time
(``cp -p``, ``rsync -t``, ``touch -d``, unzip of a re-packed archive). The ctime cannot be set that way: the kernel
stamps it on every write, utime and rename. And a file changed within the same clock tick as its hashing could
keep even its ctime (the "racy git" case), so a file whose mtime or ctime is less than :data:`RACY_SECONDS` old
when hashed is never cached: it is hashed again next time. ``--rehash`` ignores the cache altogether (for file
systems that do not keep ctime, such as some network mounts).

Why the zygote starts first: importing the pipeline and warming up takes seconds, once per scan (the workers
are forks of it, see :mod:`detector.batch.child`); started before anything else — before this process even
imports pyarrow — it warms up while the archive is walked and hashed. Documents are handed out largest first,
so a big one does not start last and keep one worker busy while the others wait at the end.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from detector.batch.engines import LocalPool, WorkerSettings, run_dask
from detector.batch.walk import DocSource, FileRef, ZipCache, ZipLimits, discover
from detector.batch.work import Task, document_sha256, error_result
from detector.errors import IngestError, UsageError

if TYPE_CHECKING:  # imported when needed: the zygote is started before pyarrow is imported (~0.2 s sooner)
    from detector.batch.store import Store

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
    rehash: bool = False  # ignore the hash cache: read and hash every file
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


RACY_SECONDS = 2.0  # a file touched this recently when hashed is not cached (see the module docstring)


def _stat_key(ref: FileRef, now: float) -> str | None:
    """The hash cache key of a file on disk (a zip member: of its archive, plus the member chain), or None when
    the file changed too recently for its timestamps to prove it unchanged later."""
    st = os.stat(ref.path)
    if now - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 < RACY_SECONDS:
        return None
    return "\x1f".join([os.path.abspath(ref.path), str(st.st_dev), str(st.st_ino), str(st.st_size),
                        str(st.st_mtime_ns), str(st.st_ctime_ns), *ref.members])


# Errors that depend on --timeout / --max-memory: done only for a rerun with the same limits.
LIMIT_ERRORS = {"timeout", "out_of_memory", "killed"}


def limits_config(config: str, settings: WorkerSettings) -> str:
    cap = "auto" if settings.max_memory is None else settings.max_memory
    return f"{config}|timeout={settings.timeout:g}|max_memory={cap}"


def plan(sources: list[DocSource], store: Store, config: str, limits: ZipLimits, settings: WorkerSettings,
         tick: Callable[[], None] | None = None, rehash: bool = False) -> tuple[list[Task], list[dict], int]:
    """Split the documents into tasks to run, results known without running (unreadable files), and the
    number skipped because the store holds them with the same content hash and configuration. A document
    that timed out or ran out of memory counts as done only under the same limits: raise --timeout and it is
    tried again."""
    tasks: list[Task] = []
    known: list[dict] = []
    skipped = 0
    store.db.execute("BEGIN")  # the hash cache is only a cache: one commit for the whole plan
    zips = ZipCache()  # members of one archive are neighbours in id order: open it once
    for src in sources:
        if src.error:
            known.append(error_result(Task(src, sha256=""), *src.error, seconds=0.0))
        else:
            try:
                sha = _hash(src, store, limits, zips, rehash)
            except IngestError as exc:
                known.append(error_result(Task(src, sha256=""), exc.code, exc.message, seconds=0.0))
            else:
                if store.done_key(src.id) in ((sha, config), (sha, limits_config(config, settings))):
                    skipped += 1
                else:
                    tasks.append(Task(src, sha256=sha, limits=limits))
        if tick:
            tick()
    zips.close()
    store.db.execute("COMMIT")
    return tasks, known, skipped


def _hash(src: DocSource, store: Store, limits: ZipLimits, zips: ZipCache, rehash: bool = False) -> str:
    now = time.time()
    try:
        keys = [_stat_key(ref, now) for ref in src.files]
    except OSError as exc:
        raise IngestError(f"无法读取文件 / cannot read file: {exc.strerror}", path=src.id, code="unreadable") from exc
    cache_key = None if None in keys else "\x1e".join(keys)  # type: ignore[arg-type]
    sha = store.cached_hash(cache_key) if cache_key and not rehash else None
    if sha is None:
        sha = document_sha256(src.files, [ref.read(limits, zips) for ref in src.files])
        if cache_key:
            store.cache_hash(cache_key, sha)
    return sha


def scan(opts: ScanOptions) -> ScanSummary:
    """Run a scan; see the module docstring. Raises UsageError for what the user must fix."""
    t0 = time.perf_counter()
    started = time.time()
    if opts.engine not in ("local", "dask"):
        raise UsageError(f"未知引擎 / unknown engine {opts.engine!r}: choose local or dask")
    if opts.scheduler and opts.engine != "dask":
        raise UsageError("--scheduler 需要 --engine dask / --scheduler needs --engine dask")
    settings = WorkerSettings(rules_dir=opts.rules_dir, timeout=opts.timeout, max_memory=opts.max_memory)
    pool = LocalPool(opts.jobs, settings, log=str(opts.out / WORKERS_LOG)) if opts.engine == "local" else None
    try:
        if pool:
            opts.out.mkdir(parents=True, exist_ok=True)
            pool.start()
        return _scan(opts, settings, pool, t0, started)
    finally:
        if pool:
            pool.close()


def _scan(opts: ScanOptions, settings: WorkerSettings, pool: LocalPool | None, t0: float,
          started: float) -> ScanSummary:
    sources = discover(opts.roots, document_per_folder=opts.document_per_folder, limits=opts.limits, skip=opts.out)
    walked = time.time()
    if not sources:
        raise UsageError("没有找到文档 / no documents found (.txt .pdf .docx .xlsx .xls .html, also inside .zip)")
    from detector.batch.progress import ScanProgress
    from detector.batch.store import Store, config_key, materialise

    with Store(opts.out) as store, ScanProgress(len(sources), enabled=opts.progress) as bar:
        config = config_key(opts.rules_dir)
        bar.phase("哈希 / hashing")
        tasks, known, skipped = plan(sources, store, config, opts.limits, settings, tick=bar.hashed,
                                     rehash=opts.rehash)
        planned = time.time()
        # pyarrow imports pandas on first use (a second of CPU): done now, while this process mostly waits on
        # the workers, rather than after the last document.
        threading.Thread(target=_preload_arrow, daemon=True).start()
        bar.phase("检查 / checking", done=skipped)
        commits: list[float] = []  # [first, last] commit times

        def commit(result: dict) -> None:
            row = result["row"]
            key = limits_config(config, settings) if row.get("error_code") in LIMIT_ERRORS else config
            store.put(result["doc"], result["sha256"], key, row, result["tables"])
            commits[1:] = [time.time()]
            bar.advance(row.get("status") == "error")

        for result in known:
            commit(result)
        tasks.sort(key=lambda t: -t.source.size)  # largest first: no big document left for the end
        if tasks and opts.engine == "dask":
            run_dask(tasks, opts.jobs, settings, commit, scheduler=opts.scheduler)
        elif tasks and pool:
            pool.run(tasks, commit)
        if pool:
            pool.close()  # the zygote exits while the outputs are written
        ids = [s.id for s in sources]
        bar.phase("写出 / writing")
        outputs = materialise(store, ids)
        statuses = store.counts(ids)
        findings = store.findings()
        # When this run's phases ended (time.time()), for `make bench` and anyone asking where the time went.
        store.set_meta(run_started=started, walked=walked, planned=planned,
                       workers_ready=(pool.first_ready if pool else None) or planned,
                       workers_all_ready=(pool.last_ready if pool else None) or planned,
                       first_commit=(commits or [planned])[0], last_commit=(commits or [planned])[-1],
                       written=time.time(), documents=len(sources),
                       scanned=len(tasks) + len(known), jobs=opts.jobs)
    return ScanSummary(documents=len(sources), skipped=skipped, scanned=len(tasks) + len(known), statuses=statuses,
                       findings=findings, seconds=time.perf_counter() - t0, outputs=outputs)


def _preload_arrow() -> None:
    import pyarrow as pa

    pa.array([None])


def progress_wanted(quiet: bool) -> bool:
    """A progress bar only for a person watching: not with --quiet, not into a pipe or a CI log."""
    return not quiet and sys.stderr.isatty()
