"""``gouji review`` (the local review app) and ``gouji verdicts import|export`` (spreadsheet in, gold out)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from detector.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "review", help="local web app to review findings / 审阅发现",
        description="Serve a review queue for RESULTS (a scan folder or a findings .jsonl) on a local port. "
                    "Verdicts are stored by fingerprint in a SQLite database and survive re-scans.",
    )
    p.add_argument("results", metavar="RESULTS")
    p.add_argument("--db", metavar="PATH", help="review database (default RESULTS/review.sqlite, or "
                                                "~/.gouji/review.sqlite for a jsonl)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--source", metavar="ROOT", help="folder the documents of a bare jsonl are relative to")
    p.add_argument("--ranker", metavar="PATH",
                   help="finding ranker (gouji corpus train-ranker) that orders the queue, most likely real first; "
                        "default $GOUJI_HOME/ranker.joblib (~/.gouji/ranker.joblib) when it exists, 'none' for "
                        "none. Without a model: by severity, then confidence")
    p.set_defaults(func=run_review)

    v = subparsers.add_parser("verdicts", help="import verdicts from XLSX, export them as gold / 审阅结论")
    vsub = v.add_subparsers(dest="verdicts_command", metavar="ACTION")
    imp = vsub.add_parser("import", help="read the verdict column of a returned XLSX sheet into the database")
    imp.add_argument("xlsx", metavar="XLSX")
    imp.add_argument("--db", metavar="PATH", help="default: the database of the results the sheet was made from")
    imp.set_defaults(func=run_import)
    exp = vsub.add_parser("export", help="write verdicts in the shared gold format")
    exp.add_argument("--gold", metavar="OUT", required=True)
    exp.add_argument("--db", metavar="PATH", help="default ~/.gouji/review.sqlite ($GOUJI_HOME)")
    exp.set_defaults(func=run_export)
    v.set_defaults(func=lambda args: (v.print_help(), 2)[1])


def run_review(args: argparse.Namespace) -> int:
    from detector.review.app import ReviewApp, create_server
    from detector.review.db import ReviewDB, default_db_path
    from detector.review.rank import resolve_ranker

    ranker = resolve_ranker(args.ranker)
    db = ReviewDB(args.db or default_db_path(args.results))
    app = ReviewApp(args.results, db, source=args.source, rules_dir=getattr(args, "rules", None), ranker=ranker)
    server = create_server(app, args.host, args.port)
    host, port = server.server_address[:2]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"注意：绑定到 {args.host}，其他机器可访问 / warning: reachable from other machines", file=sys.stderr)
    order = f"ranker {ranker}" if ranker else "no ranker: severity, confidence"
    print(f"gouji review: http://{host}:{port}/  (db {db.path}; {order}; Ctrl-C 退出)", file=sys.stderr)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _db_for_sheet(results_key: str | None) -> Path:
    from detector.review.db import default_db_path

    if results_key and Path(results_key).name == "findings.jsonl" and Path(results_key).parent.is_dir():
        return default_db_path(Path(results_key).parent)
    return default_db_path(None)


def run_import(args: argparse.Namespace) -> int:
    from detector.report.xlsx import read_verdicts
    from detector.review.db import ReviewDB

    if not Path(args.xlsx).is_file():
        raise UsageError(f"找不到文件 / no such file: {args.xlsx}")
    rows, key = read_verdicts(args.xlsx)
    db = ReviewDB(args.db or _db_for_sheet(key))
    n = 0
    for row in rows:
        if row.finding is not None:
            db.remember(row.finding, key or "")
        if not db.known(row.fingerprint):
            print(f"跳过未知指纹 / skipped unknown fingerprint {row.fingerprint}", file=sys.stderr)
            continue
        db.set_verdict(row.fingerprint, row.verdict, row.comment, source="xlsx")
        n += 1
    print(f"导入 {n} 条结论 / imported {n} verdicts into {db.path}", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from detector.review.db import ReviewDB, default_db_path
    from detector.review.gold import export_gold

    path = Path(args.db) if args.db else default_db_path(None)
    if not path.exists():
        raise UsageError(f"找不到审阅数据库 / no review database at {path}")
    n = export_gold(ReviewDB(path), args.gold)
    print(f"导出 {n} 条 / exported {n} gold items to {args.gold}", file=sys.stderr)
    return 0
