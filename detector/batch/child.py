"""Supervised worker processes: a document that hangs, crashes its parser or eats all memory costs one
worker process, never the scan.

Why a plain subprocess (``python -m detector.batch.child``) and not ``multiprocessing``: the same supervisor runs
inside the scan (local engine) and inside Dask workers, which are daemonic processes that ``multiprocessing``
forbids to have children. A subprocess that forks its own children is fine in both.

Why a zygote: starting a worker costs seconds of CPU (importing the pipeline, spaCy, jieba's dictionary, pandas
through pyarrow), and with N workers started at once N processes pay it together on the same cores while the scan
process walks and hashes. Instead the scan starts ONE process first thing, the zygote, which imports and warms up
once — overlapping the walk and the hashing — and then only forks. Each worker is a fork of the warm zygote:
ready in milliseconds, with jieba's dictionary and the libraries shared copy-on-write (``gc.freeze`` keeps the
collector from touching, hence copying, the warm objects). A worker killed after a timeout, a crash or running
out of memory is replaced by another fork in milliseconds, not by another cold start.

The zygote (:func:`zygote_main`):
 1. warms up (imports the pipeline, checks a two-line document, loads jieba) so the per-document timeout
    measures the document, not jieba loading its dictionary;
 2. checks the memory cap (``--max-memory``; by default what a worker holds at rest plus :data:`DEFAULT_ROOM`):
    a cap that leaves less than :data:`MIN_ROOM` above the resting worker is refused, since the libraries map
    far more address space than they use and a tight cap would fail ordinary documents, not runaway ones;
 3. then serves its control socket (a Unix ``SOCK_SEQPACKET`` pair, its stdin): ``fork`` comes with the two pipe
    ends of a new worker (``socket.send_fds``) and is answered with the worker's pid; ``kill`` kills a worker of
    its own; every worker's end is reported as ``exit`` with its exit code (negative: the signal). Reaping and
    killing happen in the zygote's one thread, so a pid is never killed after it was reaped and reused.
 It exits when the control socket closes or its parent disappears (checked twice a second).

A worker (:func:`_serve`) caps its address space with ``RLIMIT_AS``, so a runaway parser gets a MemoryError
instead of the machine's OOM killer picking a victim; answers tasks (length-prefixed pickles over its pipes)
until its task pipe closes; exits after a MemoryError (its heap may be in pieces); and exits by itself when its
parent disappears — so a scan killed with SIGKILL leaves no orphans: the zygote notices, then its workers do.

The :class:`Supervisor` in the parent sends one task at a time to its worker and waits at most ``timeout``
seconds; on a timeout it has the worker killed, on a death it reads the exit code the zygote reported, and
either way it records the document as an error and forks a fresh worker for the next one.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from detector.errors import UsageError

if TYPE_CHECKING:
    from detector.batch.work import Task

HEADER = struct.Struct("!Q")
WARMUP_TEXT = "一、收入支出决算总体情况说明\n2023年度收入总计100.00万元，其中：财政拨款收入60.00万元，其他收入40.00万元。\n"
STARTUP_TIMEOUT = 300.0  # seconds the zygote may take to import and warm up (a cold disk, a busy machine)
FORK_TIMEOUT = 60.0  # seconds for a fork to be answered (milliseconds normally)
MIN_ROOM = 700 * 2**20  # address space a document may take above a resting worker, at the least
DEFAULT_ROOM = 2048 * 2**20  # … and by default (a 30-page PDF needs ~100 MB; 2 GB is for the monsters)
CONTROL_BYTES = 1 << 16  # the largest control message (they are a few dozen bytes)


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


def _ctl_send(sock: socket.socket, obj: object, fds: list[int] | None = None) -> None:
    """One control message (a pickle, one datagram of the SEQPACKET socket), with file descriptors attached."""
    socket.send_fds(sock, [pickle.dumps(obj)], fds or [])


def _ctl_recv(sock: socket.socket) -> tuple[object, list[int]] | None:
    """The next control message and the descriptors that came with it; None when the other end closed."""
    data, fds, _flags, _addr = socket.recv_fds(sock, CONTROL_BYTES, 2)
    if not data:
        return None
    return pickle.loads(data), fds


# ------------------------------------------------------------------------------------------ the zygote


def _watch_parent(parent: int) -> None:
    """Exit when the parent is gone (we get re-parented). Checked every half second from a daemon thread, so
    it works while the main thread is stuck inside a parser."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)


def _warm_up(rules_dir: str | None) -> None:
    """One document the way every document goes (read, check, rows encoded), so the imports, the rules and
    the allocators' first arenas are in place before any worker is forked and its clock starts."""
    from detector.batch.walk import DocSource, FileRef
    from detector.batch.work import Task, run_document

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


def _memory_cap(max_bytes: int | None) -> tuple[int | None, str | None]:
    """The address-space cap for a worker forked from this process (None: no cap) and a message when the cap
    leaves a document less than MIN_ROOM. ``max_bytes``: None for resting + DEFAULT_ROOM, 0 for no cap."""
    if max_bytes == 0:
        return None, None
    import psutil

    used = psutil.Process().memory_info().vms
    if max_bytes is None:
        max_bytes = used + DEFAULT_ROOM
    if max_bytes < used + MIN_ROOM:
        need = -(-(used + MIN_ROOM) // 2**20)
        return None, (f"--max-memory {max_bytes // 2**20} MB 太小：工作进程静止时已占约 {used // 2**20} MB 地址空间，"
                      f"还需为文档留出 {MIN_ROOM // 2**20} MB，至少 {need} / too small: a resting worker holds about "
                      f"{used // 2**20} MB of address space and a document needs {MIN_ROOM // 2**20} MB more; "
                      f"give at least {need}")
    return max_bytes, None


def zygote_main() -> None:
    """Entry point of the zygote (``python -m detector.batch.child RULES_DIR MAX_BYTES``, control socket on
    stdin): warm up, then fork workers on request until the socket closes or the parent is gone."""
    ctl = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # anything a library prints goes to stderr (the workers' log)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parent = os.getppid()
    rules_dir = sys.argv[1] or None
    # The warm-up makes a million objects that all live as long as the process: the cyclic collector would
    # scan them over and over for nothing (15 % of the warm-up's CPU). Off until they are frozen.
    gc.disable()
    try:
        _warm_up(rules_dir)
        cap, problem = _memory_cap(None if sys.argv[2] == "auto" else int(sys.argv[2]))
    except Exception as exc:  # noqa: BLE001 — reported to the parent, which stops the scan with the reason
        cap, problem = None, f"工作进程无法启动 / worker failed to start: {type(exc).__name__}: {exc}"
    if problem:
        _ctl_send(ctl, ("failed", problem))
        return
    gc.freeze()  # the warm objects live as long as every worker: never scanned, so never copied by a fork
    gc.enable()
    _ctl_send(ctl, ("ready", os.getpid()))
    _zygote_loop(ctl, parent, cap)
    sys.stderr.flush()
    os._exit(0)  # not a full interpreter shutdown of a warm heap: the scan waits for this exit


def _zygote_loop(ctl: socket.socket, parent: int, cap: int | None) -> None:
    """Serve fork and kill requests; report each worker's exit. A SIGCHLD wakes the loop through a pipe."""
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a Python handler, so the wakeup fd is written
    workers: set[int] = set()
    while os.getppid() == parent:
        ready, _, _ = select.select([ctl, wake_r], [], [], 0.5)
        if wake_r in ready:
            os.read(wake_r, 4096)
        _reap(ctl, workers)
        if ctl not in ready:
            continue
        msg = _ctl_recv(ctl)
        if msg is None:
            return  # the scan is done: idle workers see their task pipe close, the rest see us gone
        (kind, *args), fds = msg
        if kind == "fork":
            pid = _fork_worker(fds, cap, close=[ctl.fileno(), wake_r, wake_w])
            workers.add(pid)
            _ctl_send(ctl, ("forked", pid))
        elif kind == "kill" and args[0] in workers:  # not reaped yet, so the pid is still our worker's
            os.kill(args[0], signal.SIGKILL)


def _reap(ctl: socket.socket, workers: set[int]) -> None:
    """Collect the workers that ended and tell the parent how (exit code; negative: killed by that signal)."""
    while workers:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        workers.discard(pid)
        _ctl_send(ctl, ("exit", pid, os.waitstatus_to_exitcode(status)))


def _fork_worker(fds: list[int], cap: int | None, close: list[int]) -> int:
    """Fork a worker that serves the task pipe ``fds[0]`` and answers on ``fds[1]``; return its pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return pid
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in close:
            os.close(fd)
        _serve(fds[0], fds[1], cap)
        code = 0
    except BaseException:  # noqa: BLE001 — a fork must never return into the zygote's loop
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _serve(task_fd: int, result_fd: int, cap: int | None) -> None:
    """A worker: cap the address space, say ready, answer tasks until the task pipe closes."""
    from detector.batch.work import run_document

    proto_in = os.fdopen(task_fd, "rb")
    proto_out = os.fdopen(result_fd, "wb")
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    if cap is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _send(proto_out, ("ready", os.getpid()))
    while True:
        try:
            task = _recv(proto_in)
        except EOFError:
            return
        result = run_document(task)  # type: ignore[arg-type]
        _send(proto_out, ("done", result))
        if result.pop("fatal", False):
            return  # after a MemoryError the heap may be in pieces: a fresh fork takes over


# ------------------------------------------------------------------------------------------ the parent side


class Zygote:
    """The parent's handle on one zygote process. :meth:`spawn` starts it without waiting (it warms up while the
    scan walks and hashes); :meth:`fork` waits until it is warm, then returns a new worker in milliseconds. A
    reader thread takes the zygote's messages: fork answers, and the exit codes of workers, kept until asked."""

    def __init__(self, rules_dir: str | None, max_memory: int | None, log: str | None = None) -> None:
        self.rules_dir = rules_dir
        self.max_memory = max_memory  # bytes; None: the default cap; 0: none
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.state = "new"  # new → starting → ready | failed; dead once its socket closed
        self.failure: str | None = None
        self.ready_at: float | None = None  # time.time() when it was first warm
        self._cond = threading.Condition()
        self._forked: list[int] = []
        self._exits: dict[int, int] = {}
        self._fork_lock = threading.Lock()

    def spawn(self) -> None:
        """Start the zygote process (no wait)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr = open(self.log, "ab") if self.log else None  # noqa: SIM115 — handed to the child; None: inherit
        # Arrow's own allocator reserves a gigabyte of address space up front; under RLIMIT_AS that is a gigabyte
        # less for the document. The system allocator reserves nothing (the rows are small).
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONUNBUFFERED="1", ARROW_DEFAULT_MEMORY_POOL="system")
        cap = "auto" if self.max_memory is None else str(self.max_memory)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "detector.batch.child", self.rules_dir or "", cap],
                stdin=theirs, stdout=subprocess.DEVNULL, stderr=stderr, env=env, start_new_session=True)
        finally:
            theirs.close()
            if stderr is not None:
                stderr.close()
        with self._cond:
            self.sock, self.state, self._forked = ours, "starting", []
        threading.Thread(target=self._read, args=(ours,), daemon=True, name="gouji-zygote").start()

    def _read(self, sock: socket.socket) -> None:
        """The reader thread: every message of the zygote, until its socket closes."""
        while True:
            try:
                msg = _ctl_recv(sock)
            except OSError:
                msg = None
            with self._cond:
                if msg is None:
                    if self.sock is sock and self.state != "failed":
                        self.state = "dead"
                    self._cond.notify_all()
                    return
                self._take(msg[0])  # type: ignore[arg-type]
                self._cond.notify_all()

    def _take(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "ready":
            self.state = "ready"
            self.ready_at = self.ready_at or time.time()
        elif kind == "failed":
            self.state, self.failure = "failed", str(msg[1])
        elif kind == "forked":
            self._forked.append(msg[1])
        elif kind == "exit":
            self._exits[msg[1]] = msg[2]

    def _await_ready(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.state != "starting", STARTUP_TIMEOUT)
            state, failure = self.state, self.failure
        if state != "ready":
            self.close()
            raise UsageError(failure or "工作进程启动超时或异常退出 / worker did not start (see workers.log)")

    def fork(self) -> Worker:
        """A new warm worker. The zygote is started if it is not (or restarted if it died), and waited for."""
        with self._fork_lock:
            for _attempt in range(2):  # a zygote that died (the OOM killer's pick?) is restarted once
                if self.state in ("new", "dead"):
                    self.close()
                    self.spawn()
                self._await_ready()
                worker = self._request_fork()
                if worker is not None:
                    return worker
        raise UsageError("工作进程启动失败 / the worker zygote keeps dying (see workers.log)")

    def _request_fork(self) -> Worker | None:
        """Send the zygote a worker's two pipe ends and wait for the pid; None when the zygote died meanwhile."""
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        try:
            _ctl_send(self.sock, ("fork",), [task_r, result_w])  # type: ignore[arg-type]
            with self._cond:
                self._cond.wait_for(lambda: self._forked or self.state != "ready", FORK_TIMEOUT)
                pid = self._forked.pop(0) if self._forked else None
        except OSError:
            pid = None
        finally:
            os.close(task_r)
            os.close(result_w)
        if pid is None:
            os.close(task_w)
            os.close(result_r)
            with self._cond:
                self.state = "dead" if self.state == "ready" else self.state
            return None
        return Worker(self, pid, os.fdopen(task_w, "wb"), os.fdopen(result_r, "rb"))

    def kill(self, pid: int) -> None:
        try:
            if self.sock is not None:
                _ctl_send(self.sock, ("kill", pid))
        except OSError:
            pass  # the zygote is gone, and with it its workers (they exit when re-parented)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """The worker's exit code once the zygote reaped it; None if the zygote died first (the worker exits by
        itself then); subprocess.TimeoutExpired when it is still running after ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: pid in self._exits or self.state != "ready", timeout):
                raise subprocess.TimeoutExpired(f"worker {pid}", timeout or 0)
            return self._exits.pop(pid, None)

    def returncode(self, pid: int) -> int | None:
        """The exit code if the worker has ended (None: running, as far as the zygote has said)."""
        with self._cond:
            return self._exits.get(pid)

    def close(self) -> None:
        """Close the control socket (the zygote exits) and reap the zygote."""
        with self._cond:
            sock, self.sock = self.sock, None
            if self.state != "failed":
                self.state = "new"
            self._cond.notify_all()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Worker:
    """One forked worker as its supervisor sees it: its pipes and the zygote's word on whether it still runs
    (the subset of ``subprocess.Popen`` the supervisor uses)."""

    def __init__(self, zygote: Zygote, pid: int, stdin: BinaryIO, stdout: BinaryIO) -> None:
        self.zygote = zygote
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout

    def poll(self) -> int | None:
        return self.zygote.returncode(self.pid)

    def kill(self) -> None:
        self.zygote.kill(self.pid)

    def wait(self, timeout: float | None = None) -> int | None:
        return self.zygote.wait(self.pid, timeout)


class Supervisor:
    """One supervised worker, used by one thread at a time. Forks it from ``zygote`` lazily and again after a
    timeout or a death. Without a zygote given, the supervisor starts its own (``log``: a file for its stderr,
    library warnings; None lets it inherit ours)."""

    def __init__(self, rules_dir: str | None, timeout: float, max_memory: int | None, log: str | None = None,
                 zygote: Zygote | None = None) -> None:
        self.rules_dir = rules_dir
        self.timeout = timeout
        self.max_memory = max_memory  # bytes; None: the default cap; 0: none
        self.own_zygote = zygote is None
        self.zygote = zygote or Zygote(rules_dir, max_memory, log)
        self.proc: Worker | None = None
        self.ready_at: float | None = None  # time.time() when its first worker was ready
        self.started = 0  # how many workers this supervisor forked (replacements included)

    def _start(self) -> None:
        self.proc = self.zygote.fork()
        self.started += 1
        msg = self._wait_message(FORK_TIMEOUT)
        if msg is None or msg[0] != "ready":
            self.stop()
            raise UsageError("工作进程启动失败 / a worker failed to start (see workers.log)")
        self.ready_at = self.ready_at or time.time()

    def _wait_message(self, timeout: float) -> tuple | None:
        """The worker's next message; None on timeout; ``("died",)`` when its pipe closed (it ended)."""
        assert self.proc is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0.0))
        if not ready:
            return None
        try:
            return _recv(self.proc.stdout)  # type: ignore[return-value]
        except (EOFError, pickle.UnpicklingError):
            return ("died",)

    def run(self, task: Task) -> dict:
        """Check one document in the worker; never raises for the document's sake."""
        from detector.batch.work import error_result

        for _attempt in range(2):  # a worker that died while idle is replaced once
            if self.proc is None or self.proc.poll() is not None:
                self.stop()
                self._start()
            assert self.proc is not None
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
        if msg is None:
            self.stop()
            return error_result(task, "timeout", f"处理超时（超过 {self.timeout:g} 秒）/ timed out after "
                                                 f"{self.timeout:g} s", seconds=elapsed)
        if msg[0] == "done":
            result = msg[1]
            if result["row"].get("error_code") == "out_of_memory":
                self._reap()  # the worker exits after a MemoryError
            return result
        return error_result(task, *_death_reason(self._reap()), seconds=elapsed)

    def _reap(self) -> int | None:
        """Wait for the worker's end (it is ending), forget it, return its exit code."""
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.stop()
            return None
        self._drop()
        return code

    def _drop(self) -> None:
        assert self.proc is not None
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        self.proc = None

    def stop(self) -> None:
        """Kill the worker now (a hung parser does not listen to anything gentler) and wait for its end."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._drop()

    def close(self) -> None:
        """Let the worker finish and exit by closing its task pipe; kill it if it does not. A supervisor that
        started its own zygote closes it too."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
                self._drop()
            except (subprocess.TimeoutExpired, OSError):
                self.stop()
        if self.own_zygote:
            self.zygote.close()


def _death_reason(code: int | None) -> tuple[str, str]:
    if code is not None and code < 0:
        sig = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        if -code == signal.SIGKILL:
            return "killed", f"工作进程被杀死（{sig}，多为系统内存不足）/ worker killed ({sig}, usually the OOM killer)"
        return "crash", f"工作进程崩溃（{sig}）/ worker crashed ({sig})"
    return "crash", f"工作进程意外退出（退出码 {code}）/ worker exited unexpectedly (exit code {code})"


if __name__ == "__main__":
    zygote_main()
