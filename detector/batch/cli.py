"""``gouji scan ROOT... --out DIR``: check every document of whole archives, resumably, in parallel."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from detector.errors import UsageError

EPILOG = """\
输出 / outputs in DIR:
  documents.parquet  one row per document: id, path, sha256, format, pages, unit, year, kind (预算/决算/绩效自评),
                     status ok/error with error_code and error_message, timings, checks by outcome, findings
                     by severity
  claims.parquet     every claim read from the narrative
  checks.parquet     every relation checked, with its outcome pass / fail / unverifiable
  findings.parquet   the findings, flat;  findings.jsonl  the findings contract, one JSON object per line
  scan.sqlite        the store the files are made from (one transaction per document); workers.log

resume / 断点续扫: run the same command again. Documents already done (same content sha256, same gouji and rules) are
  skipped, those in flight when the scan stopped are redone, changed files are rescanned.

examples:
  gouji scan archive/ --out out/                         every .txt .pdf .docx .xlsx .xls .html, also in .zip
  gouji scan jiangsu/ --document-per-folder --out out/   each leaf folder's files are one document
  gouji scan a.zip b/ --out out/ --jobs 8 --timeout 60 --max-memory 4000
  gouji scan big/ --out out/ --engine dask --scheduler tcp://10.0.0.5:8786
  duckdb -c "select kind, count(*), sum(findings_error) from 'out/documents.parquet' group by kind"
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan", help="scan folders and .zip archives into Parquet/JSONL, resumable / 批量扫描",
        description="批量扫描文件夹和 .zip 压缩包中的全部文档，结果可断点续扫。\n"
                    "Check every document under ROOT (folders and .zip archives, read in place) with parallel "
                    "workers; a document that crashes, hangs or runs out of memory is recorded as an error and "
                    "the scan goes on.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("roots", nargs="+", metavar="ROOT", type=Path, help="folders, .zip archives or single files")
    p.add_argument("--out", required=True, metavar="DIR", type=Path,
                   help="output folder; rerun with the same DIR to resume / 输出目录，重跑即续扫")
    p.add_argument("--document-per-folder", action="store_true",
                   help="each leaf folder is one document, id = its path relative to ROOT (narrative PDF + table "
                        "PDF of one unit) / 每个末级文件夹为一份文档")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: %(default)s, the number of cores)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="per-document time limit; a document over it is recorded as error 'timeout' "
                        "(default: %(default)g)")
    p.add_argument("--max-memory", type=int, default=None, metavar="MB",
                   help="address-space limit per worker (RLIMIT_AS) in MB; a document over it is recorded as "
                        "error 'out_of_memory'. A resting worker holds ~600 MB of address space and a document "
                        "gets at least 700 more, so the least accepted is ~1300 (default: resting + 2048; "
                        "0: no limit)")
    p.add_argument("--rehash", action="store_true",
                   help="read and hash every file instead of trusting the cache of (size, mtime, ctime, inode) "
                        "— for file systems that do not keep ctime / 不信任文件时间戳，全部重新计算哈希")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local process pool (default) or Dask: a LocalCluster, or the cluster of --scheduler")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="address of a running `dask scheduler` (with --engine dask); workers must see ROOT "
                        "at the same path")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from detector.batch.scan import ScanOptions, progress_wanted, scan

    if args.jobs < 1:
        raise UsageError("--jobs 至少为 1 / --jobs must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout 必须为正数 / --timeout must be positive")
    if args.max_memory is not None and args.max_memory < 0:
        raise UsageError("--max-memory 以 MB 计，不能为负 / --max-memory is in MB, not negative")
    opts = ScanOptions(
        roots=args.roots, out=args.out, jobs=args.jobs, engine=args.engine, scheduler=args.scheduler,
        timeout=args.timeout, max_memory=None if args.max_memory is None else args.max_memory * 2**20,
        document_per_folder=args.document_per_folder, rules_dir=getattr(args, "rules", None),
        progress=progress_wanted(args.quiet), rehash=args.rehash,
    )
    summary = scan(opts)
    if not args.quiet:
        print(summary.line(), file=sys.stderr)
    # The process is about to exit: frozen, the objects of pyarrow, pandas and the rest are not collected once
    # more on the way out (0.2 s of a short scan's wall time).
    gc.freeze()
    return 0
