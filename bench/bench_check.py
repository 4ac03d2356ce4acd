"""Throughput and memory of `gouji check` on the seed texts, single core.

Prints the median MB/s over repeated passes (after one warm-up pass that loads jieba and spaCy), the cold
first-pass figure, and the peak RSS. Target: ≥ 2 MB/s per core, peak RSS < 400 MB.

Why two clocks: wall-clock MB/s is what a user waits for, but on a shared machine it also counts the time other
processes hold the core; process CPU time is the per-core figure the target speaks of. Both are printed."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "corpus" / "seeds"


def main() -> int:
    from detector import ingest
    from detector.pipeline import check_document
    from detector.rules import load_rules

    files = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else sorted((ROOT / "corpus" / "samples").glob("*.txt"))
    size = sum(f.stat().st_size for f in files)
    rules = load_rules()
    t0 = time.perf_counter()
    for f in files:
        check_document(ingest.load(f), rules)
    cold = time.perf_counter() - t0
    passes, cpu = [], []
    for _ in range(7):
        t, c = time.perf_counter(), time.process_time()
        for f in files:
            check_document(ingest.load(f), rules)
        passes.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    med = statistics.median(passes)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"check: {len(files)} documents, {size / 1e6:.3f} MB per pass")
    print(f"  median {size / 1e6 / med:.2f} MB/s wall clock (steady state, 7 passes)")
    print(f"  median {size / 1e6 / statistics.median(cpu):.2f} MB/s per core, CPU time (target >= 2 MB/s per core)")
    print(f"  cold first pass incl. jieba/spaCy load: {size / 1e6 / cold:.2f} MB/s ({cold:.2f} s)")
    print(f"  peak RSS {rss:.0f} MB (target < 400 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
