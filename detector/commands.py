"""The core commands: ``gouji check``, ``gouji eval`` and ``gouji rules``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from detector.errors import GoujiError, UsageError

SKIP_SUFFIXES = {".jsonl", ".json", ".md", ".yaml", ".yml", ".py", ".ipynb", ".parquet", ".sqlite", ".tsv", ".csv"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check documents and print findings / 检查文档",
        description="Check disclosure documents (TXT, DOCX, XLSX/XLS, HTML, PDF) and print findings.\n"
        "检查公开文本中的算术矛盾并输出发现。",
        epilog="examples:\n  gouji check 决算.txt\n  gouji check docs/ --format jsonl > findings.jsonl\n"
        "  gouji check --document-per-folder jiangsu/js-fy-2017-budget\n  gouji check a.pdf --fail-on error",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (folders are searched recursively)")
    p.add_argument("--format", choices=["text", "jsonl"], default="text", help="text: explained in Chinese (default); "
                   "jsonl: the findings contract, one JSON object per line")
    p.add_argument("--document-per-folder", action="store_true",
                   help="each folder given is one document made of all its files (id = folder name)")
    p.add_argument("--min-severity", choices=["error", "warning", "info"], default="warning",
                   help="lowest severity shown (default warning; info shows rounding slips)")
    p.add_argument("--fail-on", choices=["error", "warning"], help="exit 1 when a finding of this severity or worse exists")
    p.add_argument("--rules", metavar="DIR", help="a folder of your own concepts.yaml / identities.yaml / tables.yaml / "
                   "lexicon.txt merged over the shipped rules (aliases, identities, layouts)")
    p.set_defaults(func=run_check)

    e = sub.add_parser("eval", help="score findings against gold labels / 按金标准评估",
                       description="Run the checks on PATHs and score the findings against GOLD "
                       "(the rule of ../shared/corpus/README.md): precision, recall, per kind, misses, false positives.")
    e.add_argument("--gold", required=True, help="gold.jsonl in the shared gold format")
    e.add_argument("paths", nargs="+", metavar="PATH")
    e.add_argument("--document-per-folder", action="store_true")
    e.add_argument("--findings", help="score this findings .jsonl instead of running the checks")
    e.add_argument("--rules", metavar="DIR", help="your rules folder merged over the shipped rules")
    e.set_defaults(func=run_eval)

    r = sub.add_parser("rules", help="list every rule with its purpose and a worked example / 规则说明")
    r.add_argument("rule", nargs="?", help="show one rule in full")
    r.set_defaults(func=run_rules)


# ------------------------------------------------------------------------------------------------ inputs


def documents(paths: list[str], per_folder: bool) -> Iterator[tuple[str, list[Path]]]:
    """(document id, files) for every document the paths name."""
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"路径不存在 / no such file or folder: {raw}")
        if per_folder and path.is_dir():
            files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() not in SKIP_SUFFIXES)
            if files:
                yield path.name, files
        elif path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.is_file() and f.suffix.lower() not in SKIP_SUFFIXES and not f.name.startswith("."):
                    yield str(f.relative_to(path)), [f]
        else:
            yield path.name, [path]


def run_documents(args: argparse.Namespace) -> Iterator[tuple[str, object]]:
    """(doc id, Result or GoujiError) per document; errors are reported, never raised."""
    from detector.batch.progress import document_progress
    from detector.pipeline import check_paths, settle

    docs = list(documents(args.paths, args.document_per_folder))
    with document_progress(len(docs)) as advance:  # a bar on stderr when it is a terminal
        for n, (doc_id, files) in enumerate(docs):
            try:
                yield doc_id, check_paths(files, doc_id=doc_id, rules_dir=getattr(args, "rules", None))
            except GoujiError as exc:
                yield doc_id, exc
            if n == 0 and len(docs) > 1:
                settle()
            advance()


SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def run_check(args: argparse.Namespace) -> int:
    read = failed = 0
    worst = -1
    for doc_id, result in run_documents(args):
        if isinstance(result, GoujiError):
            failed += 1
            print(f"gouji: {doc_id}: {result.message}", file=sys.stderr)
            continue
        read += 1
        shown = [f for f in result.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[args.min_severity]]
        worst = max([worst] + [SEVERITY_RANK[f.severity] for f in shown])
        if args.format == "jsonl":
            for f in shown:
                sys.stdout.write(json.dumps(f.to_dict(), ensure_ascii=False) + "\n")
        else:
            print(explain(doc_id, result, shown))
    if read == 0:
        print(f"gouji: 没有可读取的文档 / no document could be read ({failed} failed)", file=sys.stderr)
        return 2
    if args.fail_on and worst >= SEVERITY_RANK[args.fail_on]:
        return 1
    return 0


def explain(doc_id: str, result, shown) -> str:
    """The text format: per finding, where it is, the arithmetic and the stated vs computed value."""
    counts = {"pass": 0, "fail": 0, "unverifiable": 0}
    for o in result.outcomes:
        counts[o.status] += 1
    lines = [f"━━ {doc_id}  发现 {len(shown)} 处 · 核对 {len(result.outcomes)} 项关系"
             f"（通过 {counts['pass']}，不符 {counts['fail']}，无法核实 {counts['unverifiable']}）"]
    for n, f in enumerate(shown, 1):
        page = next((e.page for e in f.evidence if e.page is not None), None)
        where = f"第{page}页 " if page else ""
        lines.append(f"[{n}] {where}{f.severity} · {f.rule} · {f.kind} · 置信度 {f.confidence:.2f}")
        lines.append(f"    {f.message}")
        lines.append(f"    文中 {f.stated}  计算 {f.expected}")
        for e in f.evidence:
            loc = f"表“{e.table}” 第{e.cell[0]}行第{e.cell[1]}列" if e.cell else f"段{e.block} [{e.start}:{e.end}]"
            text = e.text if len(e.text) <= 160 else e.text[:157] + "…"
            lines.append(f"    · {loc}: {text}")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- eval


def run_eval(args: argparse.Namespace) -> int:
    from detector import evaluate

    gold = evaluate.load_gold(args.gold)
    gold_docs = {g["doc"] for g in gold}
    findings: list[dict] = []
    if args.findings:
        with open(args.findings, encoding="utf-8") as fh:
            findings = [json.loads(line) for line in fh if line.strip()]
    else:
        for doc_id, result in run_documents(args):
            if isinstance(result, GoujiError):
                print(f"gouji: {doc_id}: {result.message}", file=sys.stderr)
                continue
            findings += [f.to_dict() for f in result.findings]
    for f in findings:
        f["doc"] = gold_doc_id(f["doc"], gold_docs)
    s = evaluate.score(findings, gold)
    print(evaluate.report(s))
    return 0


def gold_doc_id(doc: str, gold_docs: set[str]) -> str:
    """Gold ids are file names without extension or folder names; findings carry paths or file names."""
    path = Path(doc)
    for candidate in (doc, path.stem, path.name, path.parent.name):
        if candidate in gold_docs:
            return candidate
    return path.stem


# ------------------------------------------------------------------------------------------------- rules


def run_rules(args: argparse.Namespace) -> int:
    from detector.rules import load_rules

    checks = load_rules(getattr(args, "rules", None)).checks
    if args.rule:
        if args.rule not in checks:
            raise UsageError(f"没有这条规则 / no such rule: {args.rule} (see `gouji rules`)")
        from detector.report.rule_pages import rule_text

        print(rule_text(args.rule, checks[args.rule]))
        return 0
    for rule_id, spec in checks.items():
        print(f"{rule_id:24} {spec.get('purpose', '')}")
        if spec.get("example"):
            print(f"{'':24} 例: {spec['example']}")
    return 0
