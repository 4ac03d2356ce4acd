"""Scoring findings against gold labels, exactly as ../shared/corpus/README.md fixes it.

- normalise: remove whitespace and the separators ,，|:：;；、
- a finding matches a gold item when the normalised quote is in the normalised text of one evidence item; or
  else when every gold value occurs among the numbers of the evidence texts and, if the quote has a run of ≥2
  Chinese characters, its longest such run is in one of them (a quote of bare numbers needs ≥2 values)
- only findings of severity error/warning are scored; groups count once for recall
- TP: matches a defect not yet matched; duplicate: matches only already-matched defects; a finding matching
  only `rounding` items is ignored; anything else is a false positive
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import regex as re

SEPARATORS = re.compile(r"[\s,，|:：;；、]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
HAN_RUN = re.compile(r"\p{Han}{2,}")


def normalize(text: str) -> str:
    return SEPARATORS.sub("", text or "")


def _numbers(text: str) -> set[str]:
    return {_canon_number(n) for n in NUMBER.findall(normalize(text))}


def _canon_number(n: str) -> str:
    n = n.replace(",", "").rstrip("%")
    if "." in n:
        n = n.rstrip("0").rstrip(".")
    return n.lstrip("0") or "0"


def matches(finding: dict, gold: dict) -> bool:
    texts = [normalize(e.get("text", "")) for e in finding.get("evidence", [])]
    quote = normalize(gold.get("quote", ""))
    if quote and any(quote in t for t in texts):
        return True
    values = [_canon_number(normalize(v)) for v in gold.get("values") or []]
    if not values:
        return False
    runs = HAN_RUN.findall(gold.get("quote", ""))
    if not runs and len(values) < 2:
        return False
    found = set().union(*[_numbers(e.get("text", "")) for e in finding.get("evidence", [])]) if texts else set()
    if not all(v in found for v in values):
        return False
    if runs:
        longest = max(runs, key=len)
        return any(longest in t for t in texts)
    return True


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    duplicates: int = 0
    groups: int = 0
    found_groups: int = 0
    per_kind: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # kind → [found, total]
    misses: list = field(default_factory=list)
    false_positives: list = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.found_groups / self.groups if self.groups else 1.0


def load_gold(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(findings: list[dict], gold: list[dict]) -> Score:
    s = Score()
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for g in gold:
        by_doc[g["doc"]].append(g)
    groups: dict[str, list[dict]] = defaultdict(list)
    for g in gold:
        if g.get("label") == "defect":
            groups[g.get("group") or g["id"]].append(g)
    matched: set[str] = set()
    for f in findings:
        if f.get("severity") not in ("error", "warning"):
            continue
        items = [g for g in by_doc.get(f["doc"], []) if g.get("label") in ("defect", "rounding", "acceptable")
                 and matches(f, g)]
        defects = [g for g in items if g["label"] == "defect"]
        new = [g for g in defects if g["id"] not in matched]
        if new:
            s.tp += 1
            matched.update(g["id"] for g in defects)
        elif defects:
            s.duplicates += 1
        elif items and all(g["label"] == "rounding" for g in items):
            continue
        else:
            s.fp += 1
            s.false_positives.append(f)
    for _key, members in groups.items():
        kind = members[0].get("kind") or "other"
        s.groups += 1
        s.per_kind[kind][1] += 1
        if any(m["id"] in matched for m in members):
            s.found_groups += 1
            s.per_kind[kind][0] += 1
        else:
            s.misses.extend(members[:1])
    return s


def report(s: Score) -> str:
    lines = ["Misses:"]
    lines += [f"  {g['id']} [{g.get('kind')}] «{g.get('quote')}» — {g.get('explanation', '')[:80]}" for g in s.misses] or [
        "  (none)"]
    lines.append("False positives:")
    lines += [f"  {f['doc']} {f['rule']} — {f['message'][:100]}" for f in s.false_positives] or ["  (none)"]
    lines.append("Per kind (found/total):")
    lines += [f"  {k:22} {v[0]}/{v[1]}" for k, v in sorted(s.per_kind.items())]
    lines.append(f"duplicates: {s.duplicates}")
    lines.append(f"TP {s.tp}  FP {s.fp}  groups found {s.found_groups}/{s.groups}")
    lines.append(f"precision {s.precision:.3f}  recall {s.recall:.3f}")
    return "\n".join(lines)
