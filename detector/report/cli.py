"""``gouji report RESULTS --html out.html --xlsx out.xlsx``: reports for people from a scan folder or a jsonl."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from detector.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="HTML report and XLSX review sheet from scan results / 生成报告",
        description="Make a self-contained HTML report and/or an XLSX sheet (with a verdict column) from RESULTS: "
                    "a `gouji scan` folder or a findings .jsonl.",
    )
    p.add_argument("results", metavar="RESULTS", help="scan folder (findings.jsonl …) or a findings .jsonl file")
    p.add_argument("--html", metavar="OUT", help="write the HTML report here")
    p.add_argument("--xlsx", metavar="OUT", help="write the XLSX review sheet here")
    p.add_argument("--source", metavar="ROOT", help="folder the documents of a bare jsonl are relative to")
    p.add_argument("--db", metavar="PATH",
                   help="review database (gouji review) whose verdicts and comments the HTML report shows and the "
                        "XLSX verdict column is pre-filled with; default RESULTS/review.sqlite of a scan folder "
                        "when it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.html and not args.xlsx:
        raise UsageError("请指定 --html 或 --xlsx / give --html OUT and/or --xlsx OUT")
    from detector.report.results import load_results

    results = load_results(args.results, args.source)
    rules_dir = getattr(args, "rules", None)
    verdicts = review_verdicts(args.results, args.db)
    if args.html:
        from detector.report.html import write_html

        write_html(results, args.html, rules_dir, verdicts)
        print(f"HTML 报告 report: {args.html} ({len(results.findings)} findings)", file=sys.stderr)
    if args.xlsx:
        from detector.report.xlsx import write_xlsx

        prior = None if verdicts is None else {fp: (v or "", c) for fp, (v, c) in verdicts.items()}
        write_xlsx(results, args.xlsx, prior)
        print(f"XLSX 审阅表 sheet: {args.xlsx} ({len(results.findings)} findings)", file=sys.stderr)
    return 0


def review_verdicts(results: str, db: str | None) -> dict[str, tuple[str | None, str]] | None:
    """Verdicts of the review database: ``--db`` (which must exist), else the one ``gouji review`` keeps beside
    a scan folder (RESULTS/review.sqlite) when there is one; None when there is none."""
    from detector.review.db import ReviewDB, default_db_path

    if db:
        if not Path(db).is_file():
            raise UsageError(f"找不到审阅数据库 / no review database at {db}")
        return ReviewDB(db).verdicts()
    if Path(results).is_dir() and default_db_path(results).is_file():
        return ReviewDB(default_db_path(results)).verdicts()
    return None
