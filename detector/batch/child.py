"""Supervised worker processes: a document that hangs, crashes its parser or eats all memory costs one
worker process, never the scan.

Why a plain subprocess (``python -m detector.batch.child``) and not ``multiprocessing``: the same supervisor runs
inside the scan (local engine) and inside Dask workers, which are daemonic processes that ``multiprocessing``
forbids to have children. A subprocess talking length-prefixed pickles over its stdin/stdout works in both.

The child:
 1. warms up (imports the pipeline, checks a two-line document) so the per-document timeout measures the
    document, not jieba loading its dictionary;
 2. caps its address space with ``RLIMIT_AS`` (``--max-memory``; by default what it holds at rest plus
    :data:`DEFAULT_ROOM`), so a runaway parser gets a MemoryError instead of the machine's OOM killer picking a
    victim. A cap that leaves less than :data:`MIN_ROOM` above the resting worker is refused: the libraries map
    far more address space than they use, so a tight cap would fail ordinary documents, not runaway ones;
 3. answers tasks until its stdin closes, and exits by itself when its parent disappears (a scan killed with
    SIGKILL leaves no orphans behind).

The :class:`Supervisor` in the parent sends one task at a time and waits at most ``timeout`` seconds; on a
timeout it kills the child, on a death it reads the exit signal, and either way it records the document as an
error and starts a fresh child for the next one.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

from detector.batch.work import Task, error_result, run_document
from detector.errors import UsageError

HEADER = struct.Struct("!Q")
WARMUP_TEXT = "一、收入支出决算总体情况说明\n2023年度收入总计100.00万元，其中：财政拨款收入60.00万元，其他收入40.00万元。\n"
STARTUP_TIMEOUT = 300.0  # seconds a fresh worker may take to import and warm up (a cold disk, a busy machine)
MIN_ROOM = 700 * 2**20  # address space a document may take above a resting worker, at the least
DEFAULT_ROOM = 2048 * 2**20  # … and by default (a 30-page PDF needs ~100 MB; 2 GB is for the monsters)


# ------------------------------------------------------------------------------------------ wire format


def _send(stream: BinaryIO, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _recv(stream: BinaryIO) -> object:
    head = _read_exact(stream, HEADER.size)
    return pickle.loads(_read_exact(stream, HEADER.unpack(head)[0]))


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("worker pipe closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


# ------------------------------------------------------------------------------------------ the child


def _watch_parent(parent: int) -> None:
    """Exit when the parent is gone (we get re-parented). Checked every half second from a daemon thread, so
    it works while the main thread is stuck inside a parser."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)


def _warm_up(rules_dir: str | None) -> None:
    """One document the way every document goes (read, check, rows encoded), so the imports, the rules and
    the allocators' first arenas are in place before the memory cap is set and the clock starts."""
    from detector.batch.walk import DocSource, FileRef

    with tempfile.TemporaryDirectory(prefix="gouji-warmup-") as tmp:
        path = Path(tmp) / "warmup.txt"
        path.write_text(WARMUP_TEXT, encoding="utf-8")
        source = DocSource(id="warmup", files=(FileRef(path=str(path), name="warmup.txt", size=path.stat().st_size),))
        result = run_document(Task(source, sha256="", rules_dir=rules_dir))
        if result["row"]["status"] != "ok":
            raise RuntimeError(result["row"]["error_message"])
    from detector import claims

    if hasattr(claims, "nlp"):
        # The claims cut some referents with jieba, whose dictionary loads on first use (~100 MB, seconds):
        # loaded now, or a worker's first real document pays it against --timeout.
        claims.nlp.tokens("年初预算为一般公共预算财政拨款支出")


def _limit_memory(max_bytes: int | None) -> str | None:
    """Cap the address space at ``max_bytes`` (None: resting + DEFAULT_ROOM; 0: no cap); return a message when
    the cap leaves a document less than MIN_ROOM."""
    if max_bytes == 0:
        return None
    import resource

    import psutil

    used = psutil.Process().memory_info().vms
    if max_bytes is None:
        max_bytes = used + DEFAULT_ROOM
    if max_bytes < used + MIN_ROOM:
        need = -(-(used + MIN_ROOM) // 2**20)
        return (f"--max-memory {max_bytes // 2**20} MB 太小：工作进程静止时已占约 {used // 2**20} MB 地址空间，"
                f"还需为文档留出 {MIN_ROOM // 2**20} MB，至少 {need} / too small: a resting worker holds about "
                f"{used // 2**20} MB of address space and a document needs {MIN_ROOM // 2**20} MB more; give at "
                f"least {need}")
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    return None


def child_main() -> None:
    """Entry point of a worker process (``python -m detector.batch.child RULES_DIR MAX_BYTES``)."""
    # The protocol owns the real stdout; anything a library prints goes to stderr (the workers' log).
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    proto_in = os.fdopen(os.dup(0), "rb")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    rules_dir = sys.argv[1] or None
    max_bytes = None if sys.argv[2] == "auto" else int(sys.argv[2])
    try:
        _warm_up(rules_dir)
    except Exception as exc:  # noqa: BLE001 — reported to the parent, which stops the scan with the reason
        _send(proto_out, ("failed", f"工作进程无法启动 / worker failed to start: {type(exc).__name__}: {exc}"))
        return
    problem = _limit_memory(max_bytes)
    if problem:
        _send(proto_out, ("failed", problem))
        return
    _send(proto_out, ("ready", os.getpid()))
    while True:
        try:
            task = _recv(proto_in)
        except EOFError:
            return
        result = run_document(task)
        _send(proto_out, ("done", result))
        if result.pop("fatal", False):
            return  # after a MemoryError the heap may be in pieces: a fresh worker takes over


# ------------------------------------------------------------------------------------------ the parent side


class Supervisor:
    """One supervised worker process, used by one thread at a time. Starts the child lazily and again after a
    timeout or a death. ``log`` is a file for the child's stderr (library warnings); None lets it inherit ours."""

    def __init__(self, rules_dir: str | None, timeout: float, max_memory: int | None, log: str | None = None):
        self.rules_dir = rules_dir
        self.timeout = timeout
        self.max_memory = max_memory  # bytes; None: the default cap; 0: none
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.ready = False  # the child said it is warm
        self.ready_at: float | None = None  # time.time() when it first did
        self.started = 0  # how many children this supervisor started (replacements included)

    def spawn(self) -> None:
        """Start a child without waiting for it to warm up (several warm up at once, and while the scan
        process walks and hashes the archive)."""
        stderr = open(self.log, "ab") if self.log else None  # noqa: SIM115 — handed to the child; None: inherit
        # Arrow's own allocator reserves a gigabyte of address space up front; under RLIMIT_AS that is a gigabyte
        # less for the document. The system allocator reserves nothing (the rows are small).
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONUNBUFFERED="1", ARROW_DEFAULT_MEMORY_POOL="system")
        cap = "auto" if self.max_memory is None else str(self.max_memory)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "detector.batch.child", self.rules_dir or "", cap],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env, start_new_session=True)
        finally:
            if stderr is not None:
                stderr.close()
        self.ready = False
        self.started += 1

    def _await_ready(self) -> None:
        msg = self._wait_message(STARTUP_TIMEOUT)
        if msg is None or msg[0] != "ready":
            self.stop()
            reason = msg[1] if msg else "工作进程启动超时或异常退出 / worker did not start (see workers.log)"
            raise UsageError(str(reason))
        self.ready = True
        self.ready_at = self.ready_at or time.time()

    def _start(self) -> None:
        self.spawn()
        self._await_ready()

    def _wait_message(self, timeout: float) -> tuple | None:
        """The child's next message, or None on timeout or death (then ``self.proc`` is still set)."""
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0.0))
        if not ready:
            return None
        try:
            return _recv(self.proc.stdout)  # type: ignore[return-value]
        except (EOFError, pickle.UnpicklingError):
            return None

    def run(self, task: Task) -> dict:
        """Check one document in the child; never raises for the document's sake."""
        for _attempt in range(2):  # a child that died while idle is replaced once
            if self.proc is not None and not self.ready:
                self._await_ready()  # spawned ahead of time
            if self.proc is None or self.proc.poll() is not None:
                self.stop()
                self._start()
            assert self.proc is not None and self.proc.stdin is not None
            try:
                _send(self.proc.stdin, task)
                break
            except OSError:
                self.stop()
        else:
            return error_result(task, "crash", "无法把文档交给工作进程 / could not hand the document to a worker")
        t0 = time.perf_counter()
        msg = self._wait_message(self.timeout)
        elapsed = time.perf_counter() - t0
        if msg is not None and msg[0] == "done":
            result = msg[1]
            if self.proc.poll() is None and result["row"].get("error_code") == "out_of_memory":
                self._reap()
            return result
        if msg is None and self.proc.poll() is None:
            self.stop()
            return error_result(task, "timeout", f"处理超时（超过 {self.timeout:g} 秒）/ timed out after "
                                                 f"{self.timeout:g} s", seconds=elapsed)
        code = self._reap()
        return error_result(task, *_death_reason(code), seconds=elapsed)

    def _reap(self) -> int | None:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.stop()
            code = None
        self.proc = None
        self.ready = False
        return code

    def stop(self) -> None:
        """Kill the child now (a hung parser does not listen to anything gentler)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()
        self.proc = None
        self.ready = False

    def close(self) -> None:
        """Let the child finish and exit by closing its stdin; kill it if it does not, or if it is still warming
        up (it would only notice after)."""
        if self.proc is None:
            return
        if not self.ready:
            self.stop()
            return
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            pass
        self.stop()


def _death_reason(code: int | None) -> tuple[str, str]:
    if code is not None and code < 0:
        sig = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        if -code == signal.SIGKILL:
            return "killed", f"工作进程被杀死（{sig}，多为系统内存不足）/ worker killed ({sig}, usually the OOM killer)"
        return "crash", f"工作进程崩溃（{sig}）/ worker crashed ({sig})"
    return "crash", f"工作进程意外退出（退出码 {code}）/ worker exited unexpectedly (exit code {code})"


if __name__ == "__main__":
    child_main()
