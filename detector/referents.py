"""What a number is about: the referent text in front of it, cleaned, and the concept it names.

「2023年度一般公共预算财政拨款支出1012.86万元」 → referent 一般公共预算财政拨款支出, concept gpb_expense,
year 2023. Concepts come from ``rules/concepts.yaml`` (aliases) and ``rules/subjects.csv`` (功能分类科目 names).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

import regex as re

from detector.rules import Rules, load_rules, shipped_dir

# Words between a referent and its number that are not part of the referent.
LINKING_WORDS = ("年初", "年末", "预算数", "决算数", "预算", "决算", "安排", "共计", "累计", "共", "为", "是", "达到", "达", "约",
                 "实际", "支出决算", "数", "金额", "总额", "各")
LINKING = re.compile("(?:" + "|".join(LINKING_WORDS) + ")*$")
# A text can end with linking words only if it ends with a character one of them ends with; testing that first
# spares the search, which tries every position of the text.
LINKING_LAST = frozenset(w[-1] for w in LINKING_WORDS)
LEADING = re.compile(
    r"^(?:[，,；;：:、。\s]|其中|主要包括|主要用于|主要是|包括|分别为|分别是|以及|及|和|与|另有|另外|此外|全年|共有|共)+"
)
YEAR = re.compile(r"(20\d\d|19\d\d)\s*年(?:度)?")
TIME_PREFIX = re.compile(r"^(?:(?:20|19)\d\d\s*年(?:度)?|本年度?|当年|上年度?|全年|年初|年末|截[止至]\S{0,12}?日)")
MARKER = re.compile(r"（[类款项]）|\([类款项]\)|[“”\"'《》]")
BRACKETED = re.compile(r"（[^（）]{0,40}）|\([^()]{0,40}\)")
MARKED = re.compile(r"[（(“”\"'《》]")  # a character MARKER or BRACKETED needs: without one they are not run
PRIOR = re.compile(r"上年|上一年|去年|前一年")
BUDGET_WORDS = re.compile(r"年初预算|预算数|预算为|预算安排|安排预算|预算收入|预算支出|支出预算|收入预算|部门预算|预算")
ACTUAL_WORDS = re.compile(r"决算|实际支出|实际完成|执行数|支出决算|实际")
BUDGET_STATED = re.compile(r"年初预算|预算数为")  # 「支出决算…年初预算为」: the figure right after is the budget


@dataclass(frozen=True)
class Referent:
    text: str  # cleaned referent as it reads
    concept: str | None
    confidence: float
    year: int | None


BOOKMARK = re.compile(r"\[[^\]]{0,60}\]")
LIST_MARKER = re.compile(r"^\d+[.、．]\s*")
NUMBERED = re.compile(r"^[（(]?[一二三四五六七八九十\d]+[)）]\s*")
SPACES = re.compile(r"\s+")


# The characters each anchored pattern can start with: a text opening with none of them is left as it is
# without running the pattern (a referent passes through five of them; most open with none).
LEADING_OPENS = frozenset("，,；;：:、。其主包分以及和与另此全共")
TIME_OPENS = frozenset("21本当上全年截")
NUMBERED_OPENS = frozenset("（(一二三四五六七八九十")


def _strip_open(pattern: re.Pattern, opens: frozenset[str], text: str) -> str:
    """``pattern`` (anchored at the start) removed from ``text``. Spaces and digits may open any of them."""
    if text and (text[0] in opens or text[0].isspace() or text[0].isdigit()):
        return pattern.sub("", text)
    return text


def clean(raw: str) -> str:
    """Strip separators, list words, time prefixes and linking verbs around a referent."""
    text = (BOOKMARK.sub("", raw) if "[" in raw else raw).strip()  # export bookmarks: [bookmark: _Toc…], [_GoBack]
    text = _strip_open(LEADING, LEADING_OPENS, text)
    text = _strip_open(LIST_MARKER, NUMBERED_OPENS, text)  # list marker "2."
    text = _strip_open(NUMBERED, NUMBERED_OPENS, text)
    # 「全年共」「本年度其中」: time words and list words, in either order; a round that removes nothing leaves
    # nothing for the next one either
    for _ in range(2):
        before = text
        text = _strip_open(TIME_PREFIX, TIME_OPENS, text).strip()
        text = _strip_open(LEADING, LEADING_OPENS, text)
        if text == before:
            break
    return strip_linking(text).strip(" ：:，,")


def strip_linking(text: str) -> str:
    """「…支出决算为」 → 「…支出」: the linking words a referent ends with."""
    return LINKING.sub("", text) if text and text[-1] in LINKING_LAST else text


def canonical(text: str) -> str:
    """The form concepts are matched on: markers, quotes, brackets and spaces removed."""
    if MARKED.search(text):
        text = BRACKETED.sub("", MARKER.sub("", text))
    # str.split() splits at every character regex's \s matches (and a few control characters more)
    return SPACES.sub("", text) if text.split() != [text] else text


@lru_cache(maxsize=4)
def _alias_index(rules_key: str | None) -> dict[str, list[tuple[int, str, str]]]:
    """Aliases by their first character, each with its rank: longest first, then by text, so that the first
    best match is the same in every process (a set's order is not)."""
    rules = load_rules(rules_key)
    pairs = [(canonical(a), cid) for a, cid in rules.alias_index()]
    pairs += [(canonical(name), f"subject:{code}") for code, name in subjects().items()]
    index: dict[str, list[tuple[int, str, str]]] = {}
    for rank, (alias, cid) in enumerate(sorted(set(pairs), key=lambda p: (-len(p[0]), p))):
        if alias:
            index.setdefault(alias[0], []).append((rank, alias, cid))
    return index


@lru_cache(maxsize=1)
def subjects() -> dict[str, str]:
    """功能分类科目: code → name, from rules/subjects.csv."""
    path = shipped_dir() / "subjects.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


def resolve(raw: str, rules: Rules | None = None, rules_key: str | None = None) -> Referent:
    """Clean the raw text before a number and find its concept.

    Confidence is 1.0 when the whole cleaned referent is an alias, 0.8 when it ends with one (「辽宁省援藏资金」
    does not; 「其他收入」 does), and 0.5 when an alias only occurs inside it. The aliases are those of the
    rules given (a user's rules folder included)."""
    return _resolve(raw, rules.source if rules is not None else rules_key)


@lru_cache(maxsize=1 << 14)
def _resolve(raw: str, rules_key: str | None) -> Referent:
    """Cached: the same clause words recur across a document and a batch, and a Referent is frozen."""
    year_m = YEAR.search(raw) if "年" in raw else None
    year = int(year_m.group(1)) if year_m else None
    text = clean(raw)
    code = CODE_LINE.match(text) if text[:3].isdigit() else None
    if code:
        return Referent(code.group(2).strip(), f"subject:{code.group(1)}", 1.0, year)
    canon = canonical(text)
    best = _match(canon, rules_key)
    # the words kept with their time prefix (「上年结转」 is a name of its own, not 结转 of last year)
    kept = _strip_open(LEADING, LEADING_OPENS, raw.strip())
    with_time = canonical(strip_linking(YEAR.sub("", kept) if year_m else kept).strip())
    if with_time != canon:
        best = max(best, _match(with_time, rules_key))
    if best[0] < 1.0:
        best = _fund_total(canon, rules_key) or best
    return Referent(text, best[1], best[0], year)


# 「其他资金收入预算总计」 is the total of 其他资金, not the department's 收入总计 it happens to end with.
TOTAL_SUFFIX = re.compile(r"(?:收入|支出|收支)?(?:预算)?(?:总计|合计|总额)$")


def _fund_total(canon: str, rules_key: str | None) -> tuple[float, str | None] | None:
    m = TOTAL_SUFFIX.search(canon) if canon.endswith(("计", "额")) else None
    if m is None or m.start() == 0:
        return None
    head = _match(canon[: m.start()], rules_key)
    return (0.8, head[1]) if head[0] == 1.0 else None


CODE_LINE = re.compile(r"^(\d{3}|\d{5}|\d{7})\s+(\S.*)$")


def _match(canon: str, rules_key: str | None) -> tuple[float, str | None]:
    if not canon:
        return (0.0, None)
    best: tuple[float, str | None] = (0.0, None)
    index = _alias_index(rules_key)
    # only aliases starting with a character of ``canon`` can occur in it; those that do, in rank order
    hits = sorted(entry for ch in set(canon) for entry in index.get(ch, ()) if entry[1] in canon)
    for _rank, alias, cid in hits:
        if canon == alias:
            return (1.0, cid)
        score = 0.8 if canon.endswith(alias) else 0.5
        if canon.endswith(alias + "支出") or canon.endswith(alias + "收入"):
            score = 0.8
        if score > best[0]:
            best = (score, cid)
    return best


def is_prior(context: str) -> bool:
    return bool(PRIOR.search(context))


FUND_NAMES = re.compile(r"一般公共预算|政府性基金预算|国有资本经营预算|社会保险基金预算|部门预算|预算单位|预算管理|财政预算")


def measure_of(context: str, default: str) -> str:
    """budget / actual from the words right in front of a number, else the document's default. The names of
    the budget funds (一般公共预算 …) say nothing about the measure and are removed first."""
    if "预算" in context:  # every fund name holds it
        context = FUND_NAMES.sub("", context)
    if ACTUAL_WORDS.search(context) and not BUDGET_STATED.search(context[-8:]):
        return "actual"
    if BUDGET_WORDS.search(context):
        return "budget"
    return default
