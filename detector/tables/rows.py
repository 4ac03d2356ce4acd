"""Data rows of one half: label, subject code, outline marker, level, total rows and outline parents.

Why both codes and outline markers: tables by subject carry codes (类 201 ⊃ 款 20137 ⊃ 项 2013701, economic
301 ⊃ 30101) and their hierarchy is read from the code prefix; 收支总表-style tables carry 一、（一）1. markers
instead, and their hierarchy is read from the markers, a total row closing the rows above it.
"""

from __future__ import annotations

from functools import lru_cache

import regex as re

from detector.tables.layout import CODE_RE
from detector.tables.model import Row
from detector.tables.vocab import Vocab, norm

_CN = "一二三四五六七八九十"
MARKERS: list[tuple[int, re.Pattern]] = [
    (1, re.compile(rf"^([{_CN}]+)[、.．]")),
    (2, re.compile(rf"^[（(]([{_CN}]+)[）)]")),
    (3, re.compile(r"^(\d{1,2})[、.．](?!\d)")),
    (4, re.compile(r"^[（(](\d{1,2})[）)]")),
]
CODE_IN_LABEL = re.compile(r"^[\[【]?(\d{3}(?:\d{2}){0,2})[\]】]?(?=[^\d.年月%])\s*(.+)$")
QIZHONG = re.compile(r"^其中[:：]?")
# what every marker and 其中 starts with: most labels start otherwise, and one match turns them away
MAY_MARK = re.compile(rf"[{_CN}（(其]|\d")


@lru_cache(maxsize=65536)
def split_label(text: str) -> tuple[str | None, str]:
    """A label with a leading code ("2013701 行政运行", "[201]一般公共服务支出") → (code, name)."""
    t = (text or "").strip()
    m = CODE_IN_LABEL.match(t)
    if m:
        return m.group(1), m.group(2).strip()
    return None, t


def marker(label: str) -> tuple[int, str] | None:
    """The outline level and ordinal of a label's leading marker: 一、→ (1, 一), （二）→ (2, 二), 3. → (3, 3)."""
    t = norm(label)
    if not MAY_MARK.match(t):
        return None
    for level, pat in MARKERS:
        m = pat.match(t)
        if m:
            return level, m.group(1)
    return None


@lru_cache(maxsize=65536)
def strip_marker(label: str) -> str:
    """The label without its outline marker or 其中 prefix: the words a concept alias can match."""
    t = norm(label)
    if not MAY_MARK.match(t):
        return t
    for _, pat in MARKERS:
        t = pat.sub("", t, count=1)
    return QIZHONG.sub("", t)


@lru_cache(maxsize=1 << 14)
def is_total_label(label: str, v: Vocab) -> bool:
    """合计, 本年支出合计, 一、收入总计 …: a label that names a total row (cached: labels recur)."""
    t = strip_marker(label)
    return bool(t) and t.endswith(v.ending("total_row_words"))  # is or ends with a total word


def outline(rows: list[Row], v: Vocab) -> None:
    """Give each code-less row its level and outline parent (index in ``rows``), in place.

    A numbered run that restarts at 一 right after an unnumbered row (年初结转和结余 / 一、一般公共预算拨款 …)
    belongs to that row. 其中 rows are children of the row above, marked by level only (not exhaustive)."""
    stack: list[int] = []  # indexes of open ancestors
    seen_top = False
    anchor: int | None = None
    for i, r in enumerate(rows):
        if r.code:
            continue
        if r.is_total:
            r.level = 1
            stack = []
            anchor = None
            continue
        mk = marker(r.label)
        if QIZHONG.match(norm(r.label)) and i > 0:
            r.level = rows[i - 1].level + 1
            r.parent = None
            r.number = "其中"
            continue
        if mk is None:
            r.level = 1
            stack = [i]
            anchor = None
            continue
        level, ordinal = mk
        r.number = ordinal
        if level == 1 and ordinal == "一" and seen_top and i > 0 and rows[i - 1].number is None and not rows[i - 1].is_total:
            anchor = i - 1
        if level == 1:
            seen_top = True
        base = 1 if anchor is not None else 0
        r.level = level + base
        while stack and rows[stack[-1]].level >= r.level:
            stack.pop()
        if anchor is not None and not stack:
            stack = [anchor]
        r.parent = stack[-1] if stack and rows[stack[-1]].level < r.level else None
        stack.append(i)


@lru_cache(maxsize=65536)
def code_of(text: str) -> str | None:
    t = norm(text)
    return t if CODE_RE.match(t) else None
