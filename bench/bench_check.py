"""Throughput and memory of `gouji check` on the seed texts, single core.

Each pass checks the five seed texts once (ingest, claims, every check, findings), after one warm-up pass that
loads jieba and spaCy (then, as `gouji check` does, what is loaded is frozen out of the garbage collector's reach). Printed: median MB/s over the passes, the cold first pass, and the peak RSS.
Target: ≥ 2 MB/s per core, peak RSS < 400 MB.

Two kinds of pass, alternated:
  * fresh — every content cache (the ``functools.lru_cache`` of ≥ 1,024 entries in ``detector``: referent
    resolution, cell parsing, jieba tokens …) is emptied first, so nothing parsed in an earlier pass of the
    same files is reused: what one `gouji check seeds/*.txt` costs once the libraries are loaded. This is the
    figure of record;
  * warm — the caches kept: what a batch sees once the phrases of the genre recur across its documents
    (an upper bound, since here every phrase recurs).
Small per-process caches (the rules, the jieba pipeline) are kept in both: they are loaded once per process.

Two clocks: wall-clock MB/s is what a user waits for, but on a shared machine it also counts the time other
processes hold the core; process CPU time is the per-core figure the target speaks of. Both are printed.

A yardstick on the same machine at the same moment: jieba alone (``jieba.cut``) segmenting the same texts. The
ratio gouji / jieba depends little on how fast the machine is today (it moved with the code, not the load: 1.8–2.1×
on a busy machine with jieba at 0.7–0.85 MB/s, 1.7–2.0× on a quiet one with jieba at 1.8–1.9 MB/s), so it also
says what gouji would do on a machine where jieba runs at the issue's ~0.7 MB/s.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "corpus" / "seeds"
PASSES = 9
CONTENT_CACHE = 1024  # an lru_cache this large holds parsed content, not per-process setup


def content_caches() -> list[Callable]:
    """The detector's caches of parsed content (see the module docstring)."""
    found: dict[int, Callable] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("detector") or module is None:
            continue
        for obj in vars(module).values():
            params = getattr(obj, "cache_parameters", None)
            if params is not None and (params()["maxsize"] or 0) >= CONTENT_CACHE:
                found[id(obj)] = obj
    return list(found.values())


def jieba_mb_per_s(texts: list[str], size: int) -> float:
    import jieba

    jieba.initialize()
    times = []
    for _ in range(3):
        c = time.process_time()
        for text in texts:
            list(jieba.cut(text))
        times.append(time.process_time() - c)
    return size / 1e6 / statistics.median(times)


def main() -> int:
    from detector import ingest
    from detector.pipeline import check_document, settle
    from detector.rules import load_rules

    files = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else sorted((ROOT / "corpus" / "samples").glob("*.txt"))
    size = sum(f.stat().st_size for f in files)
    rules = load_rules()
    t0 = time.perf_counter()
    for f in files:
        check_document(ingest.load(f), rules)
    cold = time.perf_counter() - t0
    settle()  # as `gouji check` does after its first document
    caches = content_caches()
    wall: dict[str, list[float]] = {"fresh": [], "warm": []}
    cpu: dict[str, list[float]] = {"fresh": [], "warm": []}
    for _ in range(PASSES):
        for kind in ("fresh", "warm"):
            if kind == "fresh":
                for cache in caches:
                    cache.cache_clear()
            t, c = time.perf_counter(), time.process_time()
            for f in files:
                check_document(ingest.load(f), rules)
            wall[kind].append(time.perf_counter() - t)
            cpu[kind].append(time.process_time() - c)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    jieba_rate = jieba_mb_per_s([f.read_text(encoding="utf-8") for f in files], size)

    def rate(times: list[float]) -> float:
        return size / 1e6 / statistics.median(times)

    print(f"check: {len(files)} documents, {size / 1e6:.3f} MB per pass, {PASSES} passes of each kind")
    fresh, jieba_x = rate(cpu["fresh"]), rate(cpu["fresh"]) / jieba_rate
    print(f"  fresh caches: median {fresh:.2f} MB/s per core, CPU time (target ≥ 2 MB/s per core: "
          f"{'ok' if fresh >= 2 else 'MISSED'}); {rate(wall['fresh']):.2f} MB/s wall clock")
    print(f"  warm caches:  median {rate(cpu['warm']):.2f} MB/s per core, CPU time; "
          f"{rate(wall['warm']):.2f} MB/s wall clock")
    print(f"  yardstick: jieba.cut alone {jieba_rate:.2f} MB/s per core on the same texts now: gouji fresh = "
          f"{jieba_x:.1f}× jieba (where jieba runs at ~0.7 MB/s, that is ~{0.7 * jieba_x:.1f} MB/s)")
    print(f"  cold first pass incl. jieba/spaCy load: {size / 1e6 / cold:.2f} MB/s ({cold:.2f} s)")
    print(f"  peak RSS {rss:.0f} MB (target < 400 MB: {'ok' if rss < 400 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
