"""Throughput of ``gouji scan``: documents/s and MB/s at ``--jobs 1`` and ``--jobs 2``, the speedup, and the
resident memory of each worker process.

Corpora:
  * text — 1000 disclosures (≥ 500) made from the shared seed texts (and the shipped samples), each one perturbed
    (year, one digit) so no two are equal and nothing is skipped as already done;
  * jiangsu — the 15 Jiangsu budget PDFs, ``--document-per-folder`` (narrative + table PDF per document).

Each run is the real command line (``python -m detector.cli scan``) into a fresh output folder. The machine this
runs on is shared, so the two configurations are run back to back as a pair, ``--repeats`` pairs, alternating
which goes first; the speedup is the median of the pairs' ratios, throughputs are medians over the runs.

Two figures per run:
  * wall — the whole command, start to exit (imports, walk, hashing, workers' start, checking, writing);
  * checking — from the moment documents could be handed out (hashing done and a worker warm) to the last
    committed document, read from the scan's own timestamps (``meta`` in ``scan.sqlite``). This is the rate an
    archive of thousands of documents sees for hours; the few seconds of start-up are paid once per scan.
The speedup target (≥ 1.7× at 2 jobs) is judged on documents/s while checking: the rate a scan of an archive runs
at for hours. The whole command's ratio is printed beside it, with what bounds it: the fixed part of a run (wall −
checking: start-up before the first document can be handed out, writing after the last), paid once per scan at
``--jobs 1`` as at ``--jobs 2``, and the balance bound of the checking phase, max(largest document, Σ documents /
2) — two workers cannot finish before their largest document does. The growth run repeats the pair on twice the
text documents, where the same fixed part weighs half as much: the whole-command ratio there shows the start-up
being amortised, not a rate that changes.
A timeline of the scan's own timestamps (median seconds since launch) shows where the start-up goes.

CPU: user + system seconds of the scan and its workers (``getrusage`` of reaped children), so a run slowed down
by other work on the machine shows as wall ≫ CPU / jobs. Workers busy: the documents' own seconds over
jobs × the checking phase — near 100 % means no worker waited for the scan process (for work or to hand results
back), so what is left of a missed speedup is cores the machine did not give. Memory: a sampler polls each worker's RSS every 0.1 s (workers are
the zygote's forks; the zygote itself is reported apart); reported is the peak per worker, with its peak USS
(what it holds alone: the rest is shared with the zygote copy-on-write), whether it is flat within a run (once documents are committed, RSS over the
last quarter of the samples within 15 % + 20 MB of RSS over the second quarter) and across corpus sizes (the peak with 2× the documents).
Targets: RSS per worker < 400 MB and flat.

Usage: ``python bench/bench_scan.py [--docs 1000] [--repeats 3] [--corpus text,jiangsu]``
"""

from __future__ import annotations

import argparse
import os
import random
import resource
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
    jobs: int
    wall: float
    checking: float  # documents could be handed out → last committed document
    docs: int
    cpu: float  # user + system seconds of the scan and its workers
    load: float  # 1-minute load average when the run ended
    busy: float  # Σ per-document seconds / (jobs × checking): how much of the checking phase workers were busy
    largest: float = 0.0  # seconds of the slowest document
    doc_seconds: float = 0.0  # Σ per-document seconds
    peak_rss: dict[int, float] = field(default_factory=dict)  # worker pid → MB
    peak_uss: dict[int, float] = field(default_factory=dict)  # worker pid → MB held by the worker alone
    zygote_rss: float = 0.0
    flat: dict[int, bool] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)  # start-up timeline: event → seconds since launch


def _committed(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5) as con:
            return con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return 0


def _meta(db: Path) -> dict[str, float]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT key, value FROM meta").fetchall()
    return {k: float(v) for k, v in rows if k != "format"}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_scan(root: Path, jobs: int, per_folder: bool) -> Run:
    out = Path(tempfile.mkdtemp(prefix="gouji-bench-out-"))
    cmd = [sys.executable, "-m", "detector.cli", "scan", str(root), "--out", str(out), "--jobs", str(jobs), "-q"]
    if per_folder:
        cmd.append("--document-per-folder")
    series: dict[int, list[tuple[int, float]]] = {}  # pid → [(documents committed, RSS MB)]
    uss: dict[int, float] = {}  # pid → peak USS MB
    zygote: list[float] = [0.0]
    stop = threading.Event()

    def sample(proc: psutil.Process) -> None:
        while not stop.is_set():
            done = _committed(out / "scan.sqlite")
            try:
                kids = proc.children(recursive=True)
            except psutil.Error:
                kids = []
            for kid in kids:
                try:
                    if "detector.batch.child" not in " ".join(kid.cmdline()):
                        continue
                    if kid.ppid() == proc.pid:  # the zygote; its forks are the workers
                        zygote[0] = max(zygote[0], kid.memory_info().rss / 2**20)
                        continue
                    mem = kid.memory_full_info()
                    series.setdefault(kid.pid, []).append((done, mem.rss / 2**20))
                    uss[kid.pid] = max(uss.get(kid.pid, 0.0), mem.uss / 2**20)
                except psutil.Error:
                    pass
            time.sleep(0.1)

    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    launched = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    sampler = threading.Thread(target=sample, args=(psutil.Process(proc.pid),), daemon=True)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    stop.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"scan failed ({code}): {' '.join(cmd)}")
    docs = _committed(out / "scan.sqlite")
    meta = _meta(out / "scan.sqlite")
    with sqlite3.connect(out / "scan.sqlite") as con:
        doc_seconds, largest = con.execute("SELECT SUM(json_extract(row, '$.seconds_total')), "
                                           "MAX(json_extract(row, '$.seconds_total')) FROM documents").fetchone()
    shutil.rmtree(out, ignore_errors=True)
    start = max(meta["planned"], meta["workers_ready"])
    checking = max(meta["last_commit"] - start, 1e-9)
    run = Run(jobs=jobs, wall=wall, checking=checking, docs=docs, cpu=cpu, load=psutil.getloadavg()[0],
              busy=(doc_seconds or 0.0) / (jobs * checking), largest=largest or 0.0, doc_seconds=doc_seconds or 0.0,
              peak_uss=uss, zygote_rss=zygote[0],
              marks={k: meta[k] - launched for k in TIMELINE if k in meta} | {"exit": wall})
    for pid, points in series.items():
        run.peak_rss[pid] = max(r for _, r in points)
        points = [(d, r) for d, r in points if d > 0]  # flatness over the documents, not the worker's start-up
        if len(points) >= 8:
            q = len(points) // 4
            early = statistics.median(r for _, r in points[q: 2 * q])
            late = statistics.median(r for _, r in points[-q:])
            run.flat[pid] = late <= early * 1.15 + 20
    return run


TIMELINE = {  # the scan's own timestamps (``meta``), in the order they normally happen
    "run_started": "command parsed, scan entered",
    "walked": "archive walked",
    "planned": "hashed, plan made",
    "workers_ready": "first worker warm",
    "workers_all_ready": "last worker warm",
    "first_commit": "first document committed",
    "last_commit": "last document committed",
    "written": "outputs written",
}


def print_timeline(runs: dict[int, list[Run]]) -> None:
    """Seconds since launch of each start-up event, median over the runs, one column per --jobs."""
    print("  timeline (s since launch, median): " + "  ".join(f"--jobs {j:<3}" for j in runs))
    for key, label in [*TIMELINE.items(), ("exit", "process exited")]:
        cells = [statistics.median(r.marks[key] for r in rs) if all(key in r.marks for r in rs) else None
                 for rs in runs.values()]
        print(f"    {label:<34}" + "  ".join(f"{c:9.2f}" if c is not None else f"{'–':>9}" for c in cells))


def print_bounds(runs: dict[int, list[Run]]) -> None:
    """The best whole-command ratio this corpus allows: the --jobs 1 wall over the fixed part of a --jobs 2
    run plus the checking phase at its balance bound, max(largest document, Σ document seconds / 2)."""
    one, two = runs[1], runs[2]
    wall1 = statistics.median(r.wall for r in one)
    fixed2 = statistics.median(r.wall - r.checking for r in two)
    docs = statistics.median(r.doc_seconds for r in one)
    largest = statistics.median(r.largest for r in one)
    best = wall1 / (fixed2 + max(largest, docs / 2))
    print(f"  bound: --jobs 1 wall {wall1:.2f} s / (--jobs 2 fixed part {fixed2:.2f} s + checking at best "
          f"max({largest:.2f}, {docs:.2f} / 2) s) = {best:.2f}× at most with this start-up")


def bench(name: str, root: Path, size: int, per_folder: bool, repeats: int) -> dict:
    print(f"\n== {name}: {root} ({size / 1e6:.1f} MB){' --document-per-folder' if per_folder else ''}", flush=True)
    runs: dict[int, list[Run]] = {1: [], 2: []}
    wall_ratios, check_ratios = [], []
    for r in range(repeats):
        order = (1, 2) if r % 2 == 0 else (2, 1)  # alternate, so a drift in load favours neither
        pair = {jobs: run_scan(root, jobs, per_folder) for jobs in order}
        for jobs, run in pair.items():
            runs[jobs].append(run)
        wall_ratios.append(pair[1].wall / pair[2].wall)
        check_ratios.append(pair[1].checking / pair[2].checking)
        print(f"  pair {r + 1}: --jobs 1 wall {pair[1].wall:.1f} s (checking {pair[1].checking:.1f} s, CPU "
              f"{pair[1].cpu:.1f} s), --jobs 2 wall {pair[2].wall:.1f} s (checking {pair[2].checking:.1f} s, CPU "
              f"{pair[2].cpu:.1f} s) → {wall_ratios[-1]:.2f}× wall, {check_ratios[-1]:.2f}× checking; "
              f"load {pair[order[-1]].load:.1f}", flush=True)
    for jobs, rs in runs.items():
        docs = rs[0].docs
        wall = statistics.median(r.wall for r in rs)
        checking = statistics.median(r.checking for r in rs)
        cpu = statistics.median(r.cpu for r in rs)
        busy = statistics.median(r.busy for r in rs)
        print(f"  --jobs {jobs}: {docs} docs; wall {wall:.2f} s → {docs / wall:.1f} docs/s, {size / 1e6 / wall:.2f} MB/s;"
              f" checking {checking:.2f} s → {docs / checking:.1f} docs/s, {size / 1e6 / checking:.2f} MB/s;"
              f" CPU {cpu:.1f} s; workers busy {busy:.0%} of the checking phase")
        peaks = [p for r in rs for p in r.peak_rss.values()]
        flats = [f for r in rs for f in r.flat.values()]
        if peaks:
            uss = [u for r in rs for u in r.peak_uss.values()]
            print(f"           peak RSS per worker: median {statistics.median(peaks):.0f} MB, max {max(peaks):.0f} MB"
                  f" (target < {TARGET_RSS_MB} MB: {'ok' if max(peaks) < TARGET_RSS_MB else 'MISSED'}), of it its own"
                  f" (USS) median {statistics.median(uss):.0f} MB; zygote {max(r.zygote_rss for r in rs):.0f} MB;"
                  f" flat within the run: {sum(flats)}/{len(flats)} workers")
        fixed = statistics.median(r.wall - r.checking for r in rs)
        print(f"           fixed part (wall − checking) {fixed:.2f} s; largest document {max(r.largest for r in rs):.2f}"
              f" s of Σ {statistics.median(r.doc_seconds for r in rs):.2f} s document seconds")
    print_timeline(runs)
    print_bounds(runs)
    wall_x, check_x = statistics.median(wall_ratios), statistics.median(check_ratios)
    verdict = "ok" if check_x >= TARGET_SPEEDUP else "MISSED"
    print(f"  speedup at 2 jobs (median of {repeats} back-to-back pairs): {check_x:.2f}× documents/s while checking "
          f"(target ≥ {TARGET_SPEEDUP}×: {verdict}); {wall_x:.2f}× whole command, start-up included "
          f"[pairs: {', '.join(f'{x:.2f}' for x in check_ratios)} / {', '.join(f'{x:.2f}' for x in wall_ratios)}]")
    return {"runs": runs, "speedup": check_x, "wall_speedup": wall_x,
            "peak": max((p for rs in runs.values() for r in rs for p in r.peak_rss.values()), default=0.0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1000, help="text documents to generate (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="back-to-back pairs per corpus; medians reported")
    parser.add_argument("--corpus", default="text,jiangsu,growth",
                        help="which: text, jiangsu, growth (a pair on 2× the text documents: peak RSS, ratios)")
    args = parser.parse_args()
    cores, load = psutil.cpu_count(), psutil.getloadavg()[0]
    print(f"cores: {cores} logical ({os.cpu_count()} usable), load average {load:.2f}")
    if load > 0.5 * cores:
        print("note: the machine is busy with other work; wall times are inflated, ratios are taken pair by pair")
    wanted = set(args.corpus.split(","))
    text_peak = None
    if "text" in wanted:
        with tempfile.TemporaryDirectory(prefix="gouji-bench-text-") as tmp:
            size = make_text_corpus(Path(tmp), args.docs)
            text_peak = bench(f"text, {args.docs} documents", Path(tmp), size, False, args.repeats)["peak"]
    if "jiangsu" in wanted:
        js = SHARED / "jiangsu"
        if not js.is_dir():
            print(f"\n== jiangsu: skipped, {js} not found")
        else:
            size = sum(p.stat().st_size for p in js.rglob("*.pdf"))
            bench("jiangsu PDFs", js, size, True, args.repeats)
    if "growth" in wanted and text_peak:
        n = 2 * args.docs
        with tempfile.TemporaryDirectory(prefix="gouji-bench-text2-") as tmp:
            make_text_corpus(Path(tmp), n)
            pair = {jobs: run_scan(Path(tmp), jobs, False) for jobs in (1, 2)}
        peak = max(pair[2].peak_rss.values())
        flat = peak <= text_peak * 1.15 + 20
        print(f"\n== growth: {n} text documents: peak RSS per worker {peak:.0f} MB vs {text_peak:.0f} MB with "
              f"{args.docs} ({'flat' if flat else 'GROWS'}); --jobs 2 {pair[2].docs / pair[2].checking:.1f} docs/s "
              f"while checking; at 2 jobs {pair[1].checking / pair[2].checking:.2f}× while checking, "
              f"{pair[1].wall / pair[2].wall:.2f}× whole command (wall {pair[1].wall:.1f} s → {pair[2].wall:.1f} s; "
              f"whole-command target ≥ {TARGET_SPEEDUP}×: {'ok' if pair[1].wall / pair[2].wall >= TARGET_SPEEDUP else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
