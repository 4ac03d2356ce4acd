"""Throughput of ``gouji scan``: documents/s and MB/s at ``--jobs 1`` and ``--jobs 2``, the speedup, and the
resident memory of each worker process over the run.

Two corpora:
  * text — ≥ 500 disclosures made from the shared seed texts (and the shipped samples), each one perturbed
    (year, unit name, one digit) so no two are equal and nothing is skipped as already done;
  * jiangsu — the 15 Jiangsu budget PDFs, ``--document-per-folder``.

Each configuration runs the real command line (``python -m detector.cli scan``) in a fresh output folder, and a
sampler polls the worker processes' RSS with psutil every 0.1 s. Reported per configuration, median over
``--repeats`` runs: wall time; documents/s and MB/s over the wall time (what a user waits for) and over the
checking phase (first to last committed document: the worker start-up of a few seconds left out); the peak RSS
of each worker; and whether RSS stays flat, i.e. a worker's RSS after the last quarter of its documents is within
15 % (+ 20 MB) of its RSS after the first quarter. Targets: speedup ≥ 1.7× at 2 jobs, RSS per worker < 400 MB.

Usage: ``python bench/bench_scan.py [--docs 500] [--repeats 3] [--corpus text,jiangsu]``
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
TARGET_SPEEDUP = 1.7
TARGET_RSS_MB = 400


def make_text_corpus(dest: Path, n: int) -> int:
    """Write ``n`` perturbed disclosures into ``dest``; return their total size in bytes."""
    sources = sorted((SHARED / "seeds").glob("*.txt")) + sorted((ROOT / "corpus" / "samples").glob("*.txt"))
    if not sources:
        raise SystemExit(f"no seed texts under {SHARED / 'seeds'} or corpus/samples")
    texts = [p.read_text(encoding="utf-8") for p in sources]
    rng = random.Random(20240501)
    total = 0
    for i in range(n):
        text = texts[i % len(texts)]
        year = str(2016 + rng.randrange(9))
        text = text.replace("2023", year).replace("2021", year)
        pos = [k for k, ch in enumerate(text) if ch in "123456789"]
        k = rng.choice(pos)
        text = f"第{i}号文件\n" + text[:k] + rng.choice("123456789") + text[k + 1:]
        data = text.encode("utf-8")
        (dest / f"{i // 100:02d}").mkdir(exist_ok=True)
        (dest / f"{i // 100:02d}" / f"doc{i:04d}.txt").write_bytes(data)
        total += len(data)
    return total


@dataclass
class Run:
    wall: float
    phase: float  # first to last committed document
    docs: int
    peak_rss: dict[int, float] = field(default_factory=dict)  # worker pid → MB
    flat: dict[int, bool] = field(default_factory=dict)


def _committed(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5) as con:
            return con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return 0


def run_scan(root: Path, jobs: int, per_folder: bool) -> Run:
    out = Path(tempfile.mkdtemp(prefix="gouji-bench-out-"))
    cmd = [sys.executable, "-m", "detector.cli", "scan", str(root), "--out", str(out), "--jobs", str(jobs), "-q"]
    if per_folder:
        cmd.append("--document-per-folder")
    series: dict[int, list[tuple[int, float]]] = {}  # pid → [(documents committed, RSS MB)]
    first = last = None
    stop = threading.Event()

    def sample(proc: psutil.Process) -> None:
        nonlocal first, last
        while not stop.is_set():
            done = _committed(out / "scan.sqlite")
            now = time.perf_counter()
            if done and first is None:
                first = now
            try:
                kids = proc.children(recursive=True)
            except psutil.Error:
                kids = []
            for kid in kids:
                try:
                    if "detector.batch.child" in " ".join(kid.cmdline()):
                        series.setdefault(kid.pid, []).append((done, kid.memory_info().rss / 2**20))
                except psutil.Error:
                    pass
            last = now if done else last
            time.sleep(0.1)

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    sampler = threading.Thread(target=sample, args=(psutil.Process(proc.pid),), daemon=True)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"scan failed ({code}): {' '.join(cmd)}")
    docs = _committed(out / "scan.sqlite")
    shutil.rmtree(out, ignore_errors=True)
    run = Run(wall=wall, phase=max((last or t0 + wall) - (first or t0), 1e-9), docs=docs)
    for pid, points in series.items():
        run.peak_rss[pid] = max(r for _, r in points)
        if len(points) >= 8:
            q = len(points) // 4
            early = statistics.median(r for _, r in points[q: 2 * q])
            late = statistics.median(r for _, r in points[-q:])
            run.flat[pid] = late <= early * 1.15 + 20
    return run


def bench(name: str, root: Path, size: int, per_folder: bool, repeats: int) -> dict[int, dict]:
    print(f"\n== {name}: {root} ({size / 1e6:.1f} MB){' --document-per-folder' if per_folder else ''}")
    results: dict[int, dict] = {}
    for jobs in (1, 2):
        runs = [run_scan(root, jobs, per_folder) for _ in range(repeats)]
        docs = runs[0].docs
        wall = statistics.median(r.wall for r in runs)
        phase = statistics.median(r.phase for r in runs)
        peaks = [p for r in runs for p in r.peak_rss.values()]
        flats = [f for r in runs for f in r.flat.values()]
        results[jobs] = {"wall": wall, "phase": phase, "docs": docs}
        print(f"  --jobs {jobs}: {docs} docs, wall {wall:.2f} s → {docs / wall:.1f} docs/s, {size / 1e6 / wall:.2f} MB/s;"
              f" checking phase {phase:.2f} s → {docs / phase:.1f} docs/s, {size / 1e6 / phase:.2f} MB/s")
        if peaks:
            print(f"           peak RSS per worker: median {statistics.median(peaks):.0f} MB, max {max(peaks):.0f} MB"
                  f" (target < {TARGET_RSS_MB} MB: {'ok' if max(peaks) < TARGET_RSS_MB else 'MISSED'});"
                  f" flat over the run: {sum(flats)}/{len(flats)} workers")
    one, two = results[1], results[2]
    wall_speedup = one["wall"] / two["wall"]
    phase_speedup = one["phase"] / two["phase"]
    verdict = "ok" if phase_speedup >= TARGET_SPEEDUP else "MISSED"
    print(f"  speedup at 2 jobs: {wall_speedup:.2f}× wall, {phase_speedup:.2f}× checking phase"
          f" (target ≥ {TARGET_SPEEDUP}×: {verdict})")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=500, help="text documents to generate (default 500)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration; medians are reported")
    parser.add_argument("--corpus", default="text,jiangsu", help="which corpora: text, jiangsu or both")
    args = parser.parse_args()
    cores, load = psutil.cpu_count(), psutil.getloadavg()[0]
    print(f"cores: {cores} logical, load average {load:.2f}")
    if load > 0.5 * cores:
        print("note: the machine is busy with other work; throughput and speedup below are lower bounds")
    wanted = set(args.corpus.split(","))
    if "text" in wanted:
        with tempfile.TemporaryDirectory(prefix="gouji-bench-text-") as tmp:
            size = make_text_corpus(Path(tmp), args.docs)
            bench(f"text, {args.docs} documents", Path(tmp), size, False, args.repeats)
    if "jiangsu" in wanted:
        js = SHARED / "jiangsu"
        if not js.is_dir():
            print(f"\n== jiangsu: skipped, {js} not found")
        else:
            size = sum(p.stat().st_size for p in js.rglob("*.pdf"))
            bench("jiangsu PDFs", js, size, True, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
