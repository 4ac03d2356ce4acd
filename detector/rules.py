"""Domain knowledge from ``rules/`` (shipped as the ``gouji_rules`` package) plus an optional user folder.

Why data and not code: an accountant can read and extend a YAML list of aliases or identities without
reading Python. A user folder given with ``--rules DIR`` is merged over the shipped files, key by key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

RULE_FILES = ("concepts", "identities", "tables", "checks")


@dataclass(frozen=True)
class Concept:
    id: str
    name: str
    aliases: tuple[str, ...]
    side: str = ""  # income | expense | other
    parts: tuple[str, ...] = ()  # ids of concepts that make it up (informative)


@dataclass
class Rules:
    concepts: dict[str, Concept]
    identities: list[dict]
    tables: list[dict]
    checks: dict[str, dict]
    lexicon: list[str] = field(default_factory=list)
    source: str | None = None  # the user's rules folder merged over the shipped rules, if any

    def alias_index(self) -> list[tuple[str, str]]:
        """(alias, concept id) pairs, longest alias first, for greedy matching of referents."""
        pairs = [(a, c.id) for c in self.concepts.values() for a in (c.name, *c.aliases)]
        return sorted(set(pairs), key=lambda p: -len(p[0]))


def shipped_dir() -> Path:
    return Path(str(resources.files("gouji_rules")))


def _read_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def _merge(base: object, extra: object) -> object:
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(extra, list):
        return base + extra
    return extra


@lru_cache(maxsize=8)
def load_rules(extra_dir: str | None = None) -> Rules:
    """Load shipped rules, then merge ``extra_dir``'s files of the same names over them."""
    raw: dict[str, object] = {}
    for name in RULE_FILES:
        raw[name] = _read_yaml(shipped_dir() / f"{name}.yaml")
        if extra_dir and (Path(extra_dir) / f"{name}.yaml").exists():
            raw[name] = _merge(raw[name], _read_yaml(Path(extra_dir) / f"{name}.yaml"))
    concepts = {
        cid: Concept(
            id=cid,
            name=spec["name"],
            aliases=tuple(spec.get("aliases", [])),
            side=spec.get("side", ""),
            parts=tuple(spec.get("parts", [])),
        )
        for cid, spec in (raw["concepts"] or {}).items()
    }
    lexicon = _lexicon(extra_dir)
    return Rules(
        concepts=concepts,
        identities=list(raw["identities"] or []),
        tables=list(raw["tables"] or []),
        checks=dict(raw["checks"] or {}),
        lexicon=lexicon,
        source=extra_dir,
    )


def _lexicon(extra_dir: str | None) -> list[str]:
    words: list[str] = []
    for folder in (shipped_dir(), Path(extra_dir) if extra_dir else None):
        if folder and (folder / "lexicon.txt").exists():
            lines = (folder / "lexicon.txt").read_text(encoding="utf-8").splitlines()
            words += [w.strip() for w in lines if w.strip() and not w.startswith("#")]
    return words
