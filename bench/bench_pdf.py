"""PDF speed end to end: ``gouji check`` (read, claims, tables, checks) against a bare pdfplumber pass.

Why this benchmark: the issue's target is gouji end to end at least 3× faster per page than a bare pdfplumber
``extract_text`` + ``extract_tables`` pass, which is what peers checking these documents run. Both sides run
on one core (CPU affinity pinned) in their own child process, so each side's peak RSS is its own.

Prints, per side, the median ms/page over the files (each file timed alone, gouji the median of ``--repeat`` after one warm-up document), the
ratio of the medians, and the peak RSS. Exits non-zero when the corpus is missing (``make bench`` then fails
loudly instead of printing nothing).

    python bench/bench_pdf.py [--corpus DIR] [--repeat N] [--limit N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "jiangsu"


def _pin_one_core() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[0]})


def _peak_rss_mb() -> float:
    # ru_maxrss is kilobytes on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _gouji(files: list[str], repeat: int) -> tuple[list[tuple[str, int, float]], float]:
    _pin_one_core()
    sys.path.insert(0, str(ROOT))
    from detector.ingest import load
    from detector.pipeline import check_document
    from detector.rules import load_rules

    rules = load_rules()
    check_document(load([files[0]]), rules)  # warm-up: imports, jieba's dictionary, rules (once per process)
    out = []
    for f in files:
        times = []
        pages = 1
        for _ in range(repeat):
            t = time.perf_counter()
            doc = load([f])
            check_document(doc, rules)  # end to end: read, claims, tables, every check, findings
            times.append(time.perf_counter() - t)
            pages = doc.meta.get("pages") or 1
        out.append((f, pages, statistics.median(times) * 1000 / pages))
    return out, _peak_rss_mb()


def _pdfplumber(files: list[str], repeat: int) -> tuple[list[tuple[str, int, float]], float]:
    _pin_one_core()
    import pdfplumber

    out = []
    for f in files:
        t = time.perf_counter()
        with pdfplumber.open(f) as pdf:
            pages = len(pdf.pages)
            for page in pdf.pages:
                page.extract_text()
                page.extract_tables()
                page.close()  # what a careful caller does; keeps pdfplumber's memory per page
        out.append((f, pages, (time.perf_counter() - t) * 1000 / max(pages, 1)))
    return out, _peak_rss_mb()


def _run(fn, files: list[str], repeat: int):
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, (files, repeat))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("GOUJI_JIANGSU", str(DEFAULT_CORPUS)))
    ap.add_argument("--repeat", type=int, default=3, help="gouji runs per file (median kept)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (quick runs)")
    args = ap.parse_args(argv)
    files = sorted(str(p) for p in Path(args.corpus).glob("*/*.pdf"))
    if args.limit:
        files = files[: args.limit]
    if not files:
        print(f"no PDFs under {args.corpus}", file=sys.stderr)
        return 2

    g_rows, g_rss = _run(_gouji, files, args.repeat)
    p_rows, p_rss = _run(_pdfplumber, files, 1)
    pages = sum(n for _, n, _ in g_rows)
    print(f"{len(files)} PDFs, {pages} pages, one core")
    print(f"{'file':<48} {'pages':>5} {'gouji ms/p':>11} {'pdfplumber ms/p':>16}")
    for (f, n, g), (_, _, p) in zip(g_rows, p_rows, strict=True):
        print(f"{Path(f).parent.name + '/' + Path(f).name[:24]:<48} {n:>5} {g:>11.1f} {p:>16.1f}")
    g_med = statistics.median(g for _, _, g in g_rows)
    p_med = statistics.median(p for _, _, p in p_rows)
    g_total = sum(g * n for _, n, g in g_rows) / pages
    p_total = sum(p * n for _, n, p in p_rows) / pages
    print(f"median ms/page  gouji {g_med:.1f}   pdfplumber {p_med:.1f}   ratio {p_med / g_med:.1f}x")
    print(f"mean ms/page    gouji {g_total:.1f}   pdfplumber {p_total:.1f}   ratio {p_total / g_total:.1f}x")
    print(f"peak RSS        gouji {g_rss:.0f} MB   pdfplumber {p_rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
