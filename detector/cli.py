"""The ``gouji`` command line. Each subcommand lives in the module that owns its work and registers itself
here through ``register(subparsers)``; heavy imports happen only when a subcommand runs, so ``--help`` is
instant."""

from __future__ import annotations

import argparse
import importlib
import sys

from detector.errors import GoujiError

# Modules with a ``register(subparsers)`` function, in the order their commands appear in --help.
COMMAND_MODULES = [
    "detector.commands",
    "detector.report.cli",
    "detector.review.cli",
    "detector.batch.cli",
    "detector.corpus.cli",
]

DESCRIPTION = """\
勾稽 gouji — 找出部门预算/决算公开文本中的算术矛盾。
Finds arithmetic contradictions in Chinese public-finance disclosures: narrative against itself,
narrative against tables, tables against themselves and each other.

examples:
  gouji check 决算公开.pdf                     findings, explained in Chinese
  gouji check docs/ --format jsonl > f.jsonl   the findings contract, one JSON object per line
  gouji check --document-per-folder jiangsu/*  a folder of PDFs is one document
  gouji eval --gold gold.jsonl docs/*.txt      precision and recall against gold labels
  gouji rules                                  every rule with its purpose and a worked example
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gouji", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", metavar="DIR", help="extra rules folder merged over the shipped rules/")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GoujiError as exc:
        print(f"gouji: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gouji: interrupted / 已中断", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
