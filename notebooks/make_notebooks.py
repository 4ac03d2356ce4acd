"""Write the research notebooks (outputs stripped) from the cell sources below.

Why generated: a notebook's JSON is hard to review and merge; these cells are plain Python in a plain file,
and ``python notebooks/make_notebooks.py`` rewrites the .ipynb files. ``tests/test_notebooks.py`` checks the
committed notebooks equal what this script writes and executes them top to bottom.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''\
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

plt.rcParams["font.sans-serif"] = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "SimHei", "DejaVu Sans"]
warnings.filterwarnings("ignore", message="Glyph .* missing")  # a machine without CJK fonts still runs
plt.rcParams["axes.unicode_minus"] = False
pd.set_option("display.width", 160)

HERE = Path.cwd()
ROOT = HERE.parent if HERE.name == "notebooks" else HERE
SHARED = Path(os.environ.get("GOUJI_SHARED", ROOT.parent / "shared")) / "corpus"
# (name, folder, one document per folder?, gold) — the shared corpus when present, the shipped samples otherwise
if SHARED.is_dir():
    SETS = [("seeds", SHARED / "seeds", False, SHARED / "seeds" / "gold.jsonl"),
            ("jiangsu", SHARED / "jiangsu", True, SHARED / "jiangsu" / "gold.jsonl")]
else:
    SETS = [("samples", ROOT / "corpus" / "samples", False, ROOT / "corpus" / "samples" / "gold.jsonl")]
WORK = Path(tempfile.mkdtemp(prefix="gouji-notebook-"))


def gouji(*args):
    """Run a gouji command in a child process (the CLI is the interface researchers use too)."""
    done = subprocess.run([sys.executable, "-m", "detector.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"gouji {' '.join(map(str, args))} failed:\\n{done.stderr[-2000:]}")
    return done.stdout


print("sets:", [s[0] for s in SETS], "work folder:", WORK)
'''

NB01 = [
    ("md", "# 01 · Exploring a scan\n\nScan the corpus with `gouji scan`, turn it into a documented corpus with "
           "`gouji corpus build`, and look at what it says: how consistent the disclosures are by unit and year, "
           "which contradictions are most frequent, how much could be checked at all."),
    ("code", SETUP),
    ("md", "## Scan and build\nOne scan and one corpus per set (the Jiangsu set is one document per folder of PDFs)."),
    ("code", '''\
frames = {name: [] for name in ("documents", "claims", "checks", "findings", "metrics")}
for name, folder, per_folder, gold in SETS:
    scan = WORK / f"scan-{name}"
    gouji("scan", folder, "--out", scan, "-q", *(["--document-per-folder"] if per_folder else []))
    corpus = WORK / f"corpus-{name}"
    print(gouji("corpus", "build", scan, "--out", corpus).strip())
    for table in frames:
        frames[table].append(pd.read_parquet(corpus / f"{table}.parquet").assign(set=name))
documents, claims, checks, findings, metrics = (pd.concat(frames[t], ignore_index=True) for t in frames)
print(open(WORK / f"corpus-{SETS[0][0]}" / "README.md", encoding="utf-8").read()[:1500])
'''),
    ("md", "## The ledger: what could be checked\nEvery relation the detector tried, by kind and outcome."),
    ("code", '''\
ledger = checks.pivot_table(index="kind", columns="status", values="check", aggfunc="count", fill_value=0)
ledger["consistency"] = ledger.get("pass", 0) / (ledger.get("pass", 0) + ledger.get("fail", 0))
ledger.sort_values("pass", ascending=False)
'''),
    ("md", "## Consistency by unit and year\n`consistency` = passed / (passed + failed) per document (definitions "
           "in the corpus README)."),
    ("code", '''\
per_doc = metrics.merge(documents[["doc", "unit_name", "year", "doc_type"]], on="doc")
per_doc["unit_name"] = per_doc["unit_name"].fillna("（未识别）")
by_unit_year = per_doc.pivot_table(index="unit_name", columns="year", values="consistency", aggfunc="mean")
by_unit_year.round(3)
'''),
    ("code", '''\
fig, ax = plt.subplots(figsize=(9, 0.45 * len(by_unit_year) + 1.5))
by_unit_year.plot.barh(ax=ax)
ax.set_xlabel("consistency (passed / verifiable)")
ax.set_xlim(0, 1.05)
ax.set_title("Consistency by unit and year")
fig.tight_layout()
'''),
    ("md", "## Most frequent contradictions"),
    ("code", '''\
scored = findings[findings["severity"].isin(["error", "warning"])]
kinds = scored["kind"].value_counts()
fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(kinds), 1) + 1.5))
kinds.sort_values().plot.barh(ax=ax)
ax.set_xlabel("findings (error or warning)")
ax.set_title("Contradictions by kind")
fig.tight_layout()
kinds.to_frame("findings")
'''),
    ("code", '''\
scored.groupby(["kind", "rule"]).size().sort_values(ascending=False).head(15).to_frame("findings")
'''),
    ("md", "## Coverage, completeness, leftovers\nA document whose numbers cannot be tied together is opaque, "
           "not consistent: coverage says how much could be decided."),
    ("code", '''\
fig, ax = plt.subplots(figsize=(6, 4))
for name, group in per_doc.groupby(per_doc["doc"].map(dict(zip(documents["doc"], documents["set"])))):
    ax.scatter(group["coverage"], group["consistency"], label=name, alpha=0.7)
ax.set_xlabel("coverage (decided relations per claim)")
ax.set_ylabel("consistency")
ax.legend()
fig.tight_layout()
per_doc[["doc", "doc_type", "n_claims", "coverage", "consistency", "completeness", "sections_missing",
         "template_leftovers"]].sort_values("consistency")
'''),
]

NB02 = [
    ("md", "# 02 · Measuring the detector\n\nPrecision and recall against the gold labels, and recall against "
           "errors planted with `gouji corpus inject` (realistic slips whose contradiction an independent interval "
           "test certifies; see docs/inject.md). Scoring uses the project's own rule (`detector.evaluate`)."),
    ("code", SETUP),
    ("code", '''\
from detector.commands import gold_doc_id
from detector.evaluate import load_gold, score


def findings_of(folder, per_folder):
    """Run a scan and return its findings (the findings contract)."""
    out = WORK / f"scan-{abs(hash(str(folder)))}"
    gouji("scan", folder, "--out", out, "-q", *(["--document-per-folder"] if per_folder else []))
    lines = (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def scored(findings, gold):
    docs = {g["doc"] for g in gold}
    for f in findings:
        f["doc"] = gold_doc_id(f["doc"], docs)  # scan ids are paths; gold ids are file stems or folder names
    return score(findings, gold)


def per_kind(s):
    rows = [{"kind": k, "found": v[0], "total": v[1], "recall": v[0] / v[1]} for k, v in s.per_kind.items()]
    return pd.DataFrame(rows, columns=["kind", "found", "total", "recall"]).sort_values("kind")
'''),
    ("md", "## Against gold"),
    ("code", '''\
summary, kinds = [], []
for name, folder, per_folder, gold_path in SETS:
    s = scored(findings_of(folder, per_folder), load_gold(gold_path))
    summary.append({"set": name, "precision": s.precision, "recall": s.recall, "tp": s.tp, "fp": s.fp,
                    "duplicates": s.duplicates, "defect groups": s.groups})
    kinds.append(per_kind(s).assign(set=name))
gold_summary = pd.DataFrame(summary)
gold_kinds = pd.concat(kinds, ignore_index=True)
gold_summary
'''),
    ("code", '''\
fig, ax = plt.subplots(figsize=(6, 3.5))
gold_summary.set_index("set")[["precision", "recall"]].plot.bar(ax=ax, rot=0)
ax.set_ylim(0, 1.05)
ax.set_title("Against gold: precision and recall per set")
fig.tight_layout()
gold_kinds
'''),
    ("md", "## Against injected errors\nAt least ten slips per source document where the detector's ledger has "
           "enough passed relations to certify them (`short` lists the sources that have fewer)."),
    ("code", '''\
inj_summary, inj_kinds, inj_slips = [], [], []
for name, folder, _per_folder, gold_path in SETS:
    out = WORK / f"injected-{name}"
    report = json.loads(gouji("corpus", "inject", folder, "--out", out, "--per-doc", 10, "--seed", 1,
                              "--gold", gold_path))
    found = findings_of(out, False)
    planted = load_gold(out / "gold-injected.jsonl")
    s = scored([dict(f) for f in found], planted)
    p = scored([dict(f) for f in found], load_gold(out / "gold.jsonl"))
    inj_summary.append({"set": name, "planted": report["planted"], "short": report["short"],
                        "recall": s.recall, "precision (with the sources' own gold)": p.precision})
    inj_kinds.append(per_kind(s).assign(set=name))
    missed = {m["id"] for m in s.misses}
    inj_slips += [{"set": name, "slip": g["slip"], "found": g["id"] not in missed}
                  for g in planted if g["label"] == "defect"]
injected_summary = pd.DataFrame(inj_summary)
injected_kinds = pd.concat(inj_kinds, ignore_index=True)
by_slip = pd.DataFrame(inj_slips).groupby(["set", "slip"])["found"].agg(["sum", "count", "mean"])
injected_summary
'''),
    ("code", '''\
injected_kinds
'''),
    ("code", '''\
by_slip.rename(columns={"sum": "found", "count": "planted", "mean": "recall"})
'''),
    ("code", '''\
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
for ax, (title, table) in zip(axes, [("gold", gold_kinds), ("injected", injected_kinds)]):
    pivot = table.pivot_table(index="kind", columns="set", values="recall")
    pivot.plot.barh(ax=ax)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("recall")
    ax.set_title(f"Recall per kind — {title}")
fig.tight_layout()
'''),
]


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives the same file
    return nb


NOTEBOOKS = {"01_explore_scan.ipynb": NB01, "02_measure_detector.ipynb": NB02}


def render(name: str) -> str:
    return nbformat.writes(notebook(NOTEBOOKS[name]))


def main() -> int:
    for name in NOTEBOOKS:
        (HERE / name).write_text(render(name), encoding="utf-8")
        print(f"wrote notebooks/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
