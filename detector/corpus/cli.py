"""``gouji corpus build|inject|train-ranker|metrics`` — the researchers' commands.

Heavy imports (pandas, scikit-learn, the detector) happen inside each command, so ``gouji --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from detector.errors import UsageError

HELP = """\
examples:
  gouji scan archive/ --out scan/ && gouji corpus build scan/ --out corpus/ --verdicts scan/review.sqlite
  gouji corpus inject seeds/*.txt --out injected/ --per-doc 10 --seed 1 --gold seeds/gold.jsonl
  gouji eval --gold injected/gold.jsonl injected/*.txt
  gouji corpus train-ranker corpus/      model → ~/.gouji/ranker.joblib, which gouji review then uses
  gouji corpus metrics corpus/            per-document disclosure-quality metrics
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("corpus", help="research corpus: build, inject errors, train the ranker / 研究语料",
                              description="Research corpus commands.", epilog=HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda _args: p.print_help() or 2)

    b = sub.add_parser("build", help="a documented Parquet corpus from a gouji scan output")
    b.add_argument("scan", metavar="SCAN_OUT", help="the --out folder of gouji scan")
    b.add_argument("--out", required=True, metavar="CORPUS", help="folder for the corpus tables and README.md")
    b.add_argument("--verdicts", metavar="DB", help="the review app's SQLite database")
    b.add_argument("--gold", action="append", default=[], metavar="GOLD",
                   help="gold.jsonl to derive verdicts from (defect → confirmed, else dismissed); repeatable")
    b.set_defaults(func=_build)

    i = sub.add_parser("inject", help="plant realistic numeric slips in real documents, with gold labels")
    i.add_argument("sources", nargs="+", metavar="SRC", help="text files, folders of them, or folders of PDFs")
    i.add_argument("--out", required=True, metavar="DIR")
    i.add_argument("--per-doc", type=int, default=10, metavar="N", help="slips per source document (default 10)")
    i.add_argument("--seed", type=int, default=0, metavar="S")
    i.add_argument("--gold", action="append", default=[], metavar="GOLD",
                   help="the sources' own gold: its figures are left alone and its labels carried over")
    i.set_defaults(func=_inject)

    t = sub.add_parser("train-ranker", help="learn a finding ranker from the corpus verdicts")
    t.add_argument("corpus", nargs="+", metavar="CORPUS", help="one or more corpus folders, pooled")
    t.add_argument("--out", metavar="MODEL",
                   help="where to write the model (default $GOUJI_HOME/ranker.joblib, i.e. ~/.gouji/ranker.joblib, "
                        "where gouji review looks for it)")
    t.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--repeats", type=int, default=5,
                   help="repeat the cross-validation with this many shuffles (seeds S, S+1, …) and pool the folds: "
                        "with few dismissed findings one shuffle gives few usable folds (default 5)")
    t.set_defaults(func=_train)

    m = sub.add_parser("metrics", help="per-document disclosure-quality metrics of a corpus")
    m.add_argument("corpus", metavar="CORPUS")
    m.add_argument("--format", choices=["text", "csv", "json"], default="text")
    m.set_defaults(func=_metrics)


def _build(args: argparse.Namespace) -> int:
    from detector.corpus.build import build

    counts = build(args.scan, args.out, args.verdicts, args.gold)
    print(" ".join(f"{k}={v}" for k, v in counts.items()), f"→ {args.out}")
    return 0


def _inject(args: argparse.Namespace) -> int:
    from detector.corpus.inject import inject

    if args.per_doc < 1:
        raise UsageError("--per-doc 至少为 1 / must be at least 1")
    summary = inject(args.sources, args.out, args.per_doc, args.seed, args.gold)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def training_set(corpora: list[str | Path]) -> tuple[list[dict], list[int]]:
    """Findings with a verdict (confirmed → 1, dismissed → 0) from one or more corpora; a person's verdict
    overrides one derived from gold, and unsure verdicts are left out."""
    import pandas as pd

    findings = pd.concat([pd.read_parquet(Path(c) / "findings.parquet") for c in corpora], ignore_index=True)
    verdicts = pd.concat([pd.read_parquet(Path(c) / "verdicts.parquet") for c in corpora], ignore_index=True)
    verdicts = verdicts[verdicts["verdict"].isin(["confirmed", "dismissed"])]
    verdicts = verdicts.assign(prio=verdicts["source"].map({"review": 0, "gold": 1}).fillna(2))
    verdicts = verdicts.sort_values("prio").drop_duplicates("fingerprint")
    joined = findings.merge(verdicts[["fingerprint", "verdict"]], on="fingerprint", how="inner")
    X = joined.drop(columns=["verdict"]).to_dict("records")  # noqa: N806
    y = (joined["verdict"] == "confirmed").astype(int).tolist()
    return X, y


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from detector.corpus.ranker import FindingRanker, cross_validate_ranker, save_model, source_document
    from detector.review.rank import default_ranker_path

    out = Path(args.out) if args.out else default_ranker_path()
    X, y = training_set(args.corpus)  # noqa: N806
    groups = [source_document(str(x["doc"])) for x in X]
    cv: dict[str, list[float]] = {"roc_auc": [], "average_precision": []}
    try:
        for seed in range(args.seed, args.seed + max(args.repeats, 1)):
            for k, v in cross_validate_ranker(X, y, folds=args.folds, seed=seed, groups=groups).items():
                cv[k] += v
    except ValueError as exc:
        raise UsageError(f"无法训练排序模型 / cannot train the ranker: {exc}") from exc
    model = FindingRanker().fit(X, y)
    summary = {k: {"mean": float(np.mean(v)), "sd": float(np.std(v)), "folds": v} for k, v in cv.items()}
    meta = {"n": len(y), "confirmed": int(sum(y)), "dismissed": len(y) - int(sum(y)), "cv": summary}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, out, meta)
    print(f"findings with a verdict: {len(y)} (confirmed {sum(y)}, dismissed {len(y) - sum(y)}) from "
          f"{len(set(groups))} source documents")
    print(f"stratified {args.folds}-fold CV grouped by source document, {max(args.repeats, 1)} shuffles: "
          f"{len(cv['roc_auc'])} test folds held both classes")
    for k, v in summary.items():
        print(f"  {k:18} {v['mean']:.3f} ± {v['sd']:.3f}")
    weights = sorted(model.feature_weights().items(), key=lambda kv: -abs(kv[1]))[:6]
    print("  strongest features: " + ", ".join(f"{name} {w:+.2f}" for name, w in weights))
    print(f"model → {out}")
    return 0


def _metrics(args: argparse.Namespace) -> int:
    import pandas as pd

    path = Path(args.corpus) / "metrics.parquet"
    if not path.is_file():
        raise UsageError(f"{args.corpus} 中没有 metrics.parquet（先运行 gouji corpus build）/ not a corpus folder")
    df = pd.read_parquet(path)
    if args.format == "csv":
        df.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(df.to_json(orient="records", force_ascii=False))
    else:
        cols = ["doc", "n_claims", "coverage", "consistency", "n_findings", "completeness", "template_leftovers"]
        with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 40):
            print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0
