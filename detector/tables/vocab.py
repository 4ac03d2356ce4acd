"""The table vocabulary of ``rules/tables.yaml``, read once per Rules object.

Why typed entries in one list: the rules loader concatenates a user's lists over the shipped ones, so a user can
add a column word or a table layout with one more entry, without repeating the shipped file.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import lru_cache

import regex as re

from detector.rules import Rules


@dataclass(frozen=True)
class RoleSpec:
    role: str
    words: tuple[str, ...]
    total: bool = False
    additive: bool = True
    scope: str | None = None
    period: str = "current"
    concept: str | None = None
    measure: str = "unknown"


@dataclass(frozen=True)
class TableSpec:
    id: str
    name: str
    titles: tuple[re.Pattern, ...]
    scope: str = "all"
    side: str = ""
    halves: bool = False
    empty_is_zero: bool = True
    total_concept: str | None = None
    grand_concept: str | None = None
    codes: str = "functional"


@dataclass(eq=False)  # hashable by identity: content caches (lru_cache) take the vocabulary as an argument
class Vocab:
    settings: dict
    roles: list[RoleSpec]
    tables: list[TableSpec]
    unit_re: re.Pattern = field(init=False)

    def __post_init__(self) -> None:
        self.unit_re = re.compile(self.settings.get("unit_pattern", r"单位[:：]\s*(万元|千元|亿元|元)"))

    def words(self, key: str) -> list[str]:
        """The word list of a setting, built once per key (callers only read it)."""
        made = memo_on(self, "_words")
        if key not in made:
            made[key] = [str(w) for w in self.settings.get(key, [])]
        return made[key]

    def normed(self, key: str) -> list[str]:
        """The word list of a setting normalised (:func:`norm`), built once per key: matched against normalised
        cells, row after row."""
        made = memo_on(self, "_normed")
        if key not in made:
            made[key] = [norm(w) for w in self.words(key)]
        return made[key]

    def ending(self, key: str) -> tuple[str, ...]:
        """The word list of a setting as a tuple, built once per key: ``text.endswith(v.ending(key))`` asks in
        one call whether a text is or ends with one of the words."""
        made = memo_on(self, "_ending")
        if key not in made:
            made[key] = tuple(self.words(key))
        return made[key]

    def contains_any(self, key: str, text: str) -> bool:
        """Whether ``text`` contains one of the words of a setting: one search of their alternation, compiled
        once per key, instead of one ``in`` per word."""
        made = memo_on(self, "_finders")
        if key not in made:
            words = self.words(key)
            made[key] = re.compile("|".join(re.escape(w) for w in words)) if words else None
        finder = made[key]
        return finder is not None and finder.search(text) is not None

    def _role_index(self) -> dict[str, list[tuple[int, str, RoleSpec]]]:
        """Every role word normalised, by its first character: (its place in the order of the rules, the word,
        its role). Built once: role_of runs for every new header, and only the words that can start at each
        character of the header are tried there."""
        hit = self.__dict__.get("_roles_by_char")  # beside the fields: not in repr
        if hit is None:
            hit = {}
            place = 0
            for spec in self.roles:
                for w in spec.words:
                    nw = norm(w)
                    hit.setdefault(nw[:1], []).append((place, nw, spec))
                    place += 1
            self.__dict__["_roles_by_char"] = hit
        return hit

    def unit_scale(self, unit: str | None) -> int | None:
        return self.settings.get("units", {}).get(unit) if unit else None

    def identify(self, title: str) -> TableSpec | None:
        """The first standard table whose title pattern matches (spaces removed)."""
        t = norm(title)
        for spec in self.tables:
            if any(p.search(t) for p in spec.titles):
                return spec
        return None

    def role_of(self, header: str) -> RoleSpec | None:
        """The role whose word matches the header best: an exact match first, then the longest contained word."""
        h = norm(header)
        if not h:
            return None
        index = self._role_index()
        # the word contained in the header that the rules' order reaches first among the longest (an exact match
        # is the longest there can be, and the first one reached wins as well)
        best: tuple[int, int, RoleSpec] | None = None  # (length, −place, role)
        for w_place, _w, spec in index.get("", ()):  # a word normalised to nothing is in every header
            if best is None or (0, -w_place) > best[:2]:
                best = (0, -w_place, spec)
        for i, ch in enumerate(h):
            for w_place, w, spec in index.get(ch, ()):
                if h.startswith(w, i) and (best is None or (len(w), -w_place) > best[:2]):
                    best = (len(w), -w_place, spec)
        return best[2] if best else None


def memo_on(obj: object, name: str) -> dict:
    """A private memo dict kept on ``obj`` itself (an UnderstoodTable or a Vocab: unhashable dataclasses), so it
    lives and dies with the object it caches for and never shows in its fields, repr or equality."""
    memo = obj.__dict__.get(name)
    if memo is None:
        memo = obj.__dict__[name] = {}
    return memo


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Header/label text without whitespace (PDF and word-processor exports break words with spaces)."""
    return "".join((text or "").split())


_CACHE: dict[int, tuple[weakref.ref, Vocab]] = {}


def vocab(rules: Rules) -> Vocab:
    """The vocabulary of one Rules object, built once. Keyed by identity with a weak reference beside it: a
    freed Rules object's id may be reused by another one (other rules folder), which must not get its words."""
    hit = _CACHE.get(id(rules))
    if hit is None or hit[0]() is not rules:
        hit = (weakref.ref(rules), _build(rules.tables))
        _CACHE[id(rules)] = hit
    return hit[1]


def _build(entries: list[dict]) -> Vocab:
    settings: dict = {}
    roles: list[RoleSpec] = []
    tables: dict[str, TableSpec] = {}
    for e in entries:
        if not isinstance(e, dict):
            continue
        if "settings" in e:
            for k, v in (e["settings"] or {}).items():
                settings[k] = settings.get(k, []) + v if isinstance(v, list) and k in settings else v
        elif "column_role" in e:
            roles.append(
                RoleSpec(
                    role=e["column_role"],
                    words=tuple(str(w) for w in e.get("words", [])),
                    total=bool(e.get("total", False)),
                    additive=bool(e.get("additive", True)),
                    scope=e.get("scope"),
                    period=e.get("period", "current"),
                    concept=e.get("concept"),
                    measure=e.get("measure", "unknown"),
                )
            )
        elif "table" in e:
            tables[e["table"]] = TableSpec(
                id=e["table"],
                name=e.get("name", e["table"]),
                titles=tuple(re.compile(p) for p in e.get("titles", [])),
                scope=e.get("scope", "all"),
                side=e.get("side", ""),
                halves=bool(e.get("halves", False)),
                empty_is_zero=bool(e.get("empty_is_zero", True)),
                total_concept=e.get("total_concept"),
                grand_concept=e.get("grand_concept"),
                codes=e.get("codes", "functional"),
            )
    return Vocab(settings=settings, roles=roles, tables=list(tables.values()))
