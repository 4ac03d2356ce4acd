"""Where documents are checked: a local pool of supervised worker processes (the default), or Dask.

Both engines take the same :class:`~detector.batch.work.Task` list and hand each result to ``on_result`` in the
calling thread, in completion order — the caller commits it to the store. Both run each document through a
:class:`~detector.batch.child.Supervisor`, so timeouts, crashes and memory limits behave the same on one laptop
and on a cluster. Locally all workers are forks of one warm zygote; on Dask each Dask worker process has its
own zygote and worker (Dask workers are daemonic: a plain subprocess that forks is what they may have).
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from detector.batch.child import Supervisor, Zygote

if TYPE_CHECKING:
    from detector.batch.work import Task

OnResult = Callable[[dict], None]


@dataclass(frozen=True)
class WorkerSettings:
    """What every worker process needs to know."""

    rules_dir: str | None
    timeout: float
    max_memory: int | None  # bytes of address space per worker; None: the default cap; 0: no cap


class LocalPool:
    """``jobs`` supervised worker processes on this machine, forked from one zygote. :meth:`start` launches the
    zygote without waiting: it imports and warms up (a few seconds, once) while the scan process walks and hashes
    the archive. :meth:`run` then drives one worker per thread; the threads only wait on pipes."""

    def __init__(self, jobs: int, settings: WorkerSettings, log: str | None = None) -> None:
        self.zygote = Zygote(settings.rules_dir, settings.max_memory, log)
        self.supervisors = [Supervisor(settings.rules_dir, settings.timeout, settings.max_memory, zygote=self.zygote)
                            for _ in range(max(1, jobs))]

    def start(self) -> None:
        self.zygote.spawn()

    @property
    def first_ready(self) -> float | None:
        """When the first worker was warm (time.time()), if one was."""
        return min((s.ready_at for s in self.supervisors if s.ready_at), default=None)

    @property
    def last_ready(self) -> float | None:
        """When the last worker that was ever warm got warm (time.time())."""
        return max((s.ready_at for s in self.supervisors if s.ready_at), default=None)

    def close(self) -> None:
        for sup in self.supervisors:
            sup.close()
        self.zygote.close()

    def run(self, tasks: list[Task], on_result: OnResult) -> None:
        """Check ``tasks`` in the order given; ``on_result`` is called in this thread, in completion order."""
        todo: queue.SimpleQueue[Task] = queue.SimpleQueue()
        for task in tasks:
            todo.put(task)
        done: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
        stop = threading.Event()
        used = self.supervisors[: max(1, min(len(self.supervisors), len(tasks)))]
        for sup in self.supervisors[len(used):]:
            sup.close()  # more workers than documents

        def drive(sup: Supervisor) -> None:
            try:
                while not stop.is_set():
                    try:
                        task = todo.get_nowait()
                    except queue.Empty:
                        return
                    result = sup.run(task)
                    if not stop.is_set():
                        done.put(("result", result))
            except BaseException as exc:  # noqa: BLE001 — handed to the main thread, which re-raises it
                done.put(("fatal", exc))
            finally:
                sup.close()
                done.put(("exit", None))

        threads = [threading.Thread(target=drive, args=(s,), daemon=True, name=f"gouji-worker-{i}")
                   for i, s in enumerate(used)]
        for t in threads:
            t.start()
        running = len(threads)
        try:
            while running:
                kind, payload = done.get()
                if kind == "result":
                    on_result(payload)  # type: ignore[arg-type]
                elif kind == "fatal":
                    raise payload  # type: ignore[misc]
                else:
                    running -= 1
        finally:
            stop.set()
            for sup in used:
                sup.stop()
            for t in threads:
                t.join(timeout=10)


def run_local(tasks: list[Task], jobs: int, settings: WorkerSettings, on_result: OnResult,
              log: str | None = None) -> None:
    """Check ``tasks`` with ``jobs`` supervised worker processes started now."""
    pool = LocalPool(jobs, settings, log)
    try:
        pool.run(tasks, on_result)
    finally:
        pool.close()


# ------------------------------------------------------------------------------------------ Dask

_local = threading.local()


def dask_run(task: Task, settings: WorkerSettings) -> dict:
    """The Dask task: the same supervised child as the local engine, one per Dask worker thread, kept alive
    between tasks (a worker process pays the pipeline's warm-up once, not per document)."""
    sup = getattr(_local, "supervisor", None)
    if sup is None or (sup.rules_dir, sup.timeout, sup.max_memory) != (
            settings.rules_dir, settings.timeout, settings.max_memory):
        if sup is not None:
            sup.close()
        sup = _local.supervisor = Supervisor(settings.rules_dir, settings.timeout, settings.max_memory)
    return sup.run(task)


def run_dask(tasks: list[Task], jobs: int, settings: WorkerSettings, on_result: OnResult,
             scheduler: str | None = None) -> None:
    """Check ``tasks`` on a Dask cluster: the one at ``scheduler`` (``tcp://host:8786``), or a LocalCluster of
    ``jobs`` single-threaded worker processes. Every worker must see the documents at the same paths."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        from detector.errors import UsageError

        raise UsageError("--engine dask 需要 dask[distributed] / needs dask: pip install 'gouji[dask]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                               memory_limit=0)
        client = Client(cluster)
    try:
        slots = max(1, sum(client.nthreads().values()))
        pending = iter(tasks)
        window = as_completed()
        owner: dict[str, Task] = {}

        def submit(n: int) -> None:
            for task in itertools.islice(pending, n):
                # pure=False: a rerun must recompute, and two identical files are still two documents.
                future = client.submit(dask_run, task, settings, pure=False, retries=0)
                owner[future.key] = task
                window.add(future)

        submit(2 * slots)  # a small window keeps every worker busy without a million futures in memory
        for future in window:
            task = owner.pop(future.key)
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 — a Dask worker lost with the document (KilledWorker …)
                from detector.batch.work import error_result

                result = error_result(task, "crash", f"Dask 任务失败 / Dask task failed: {type(exc).__name__}: {exc}")
            on_result(result)
            future.release()
            submit(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
