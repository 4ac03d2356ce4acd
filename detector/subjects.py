"""Subject scopes: which 功能分类科目 a figure belongs to when the sentence itself does not say.

Disclosures write the subject once, as a heading or a label, and the figures under it with generic words:

    1.一般公共服务（类）人大事务（款）行政运行（项）。
    年初预算为1012.86万元，支出决算为1012.86万元……

    检察（款）:2018年预算支出合计16,444.36万元。

The names are walked down the code hierarchy (类 3 digits ⊃ 款 5 ⊃ 项 7) using the document's own code lists
(its tables and narrative code lines, exact for its year) and ``rules/subjects.csv``. A name that cannot be
placed stops the walk: the figure is then known to lie *within* the deepest code placed, which is still enough
to say it cannot exceed that code's own figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex as re

from detector.model import Document
from detector.referents import CODE_LINE, canonical, subjects
from detector.tables.layout import CODE_RE
from detector.tables.rows import split_label

LEVEL_DIGITS = {"类": 3, "款": 5, "项": 7}
LEVEL_MARK = re.compile(r"[（(]([类款项])[）)]")
NAME_NOISE = re.compile(r"^[\s\d.、．，,：:；;。]+|^[（(][一二三四五六七八九十\d]+[）)]|[\s。，,：:；;]+$")
# Words a figure is written with when its subject was named above it: 「年初预算为」「预算支出合计」「支出决算为」.
NAME_END = re.compile(r"\s{2,}|\d")  # a code line's name ends at a wide space or its figure
COLON = re.compile(r"[：:]")
GENERIC = re.compile(r"^(?:本年|年初|全年)?(?:预算|决算)?(?:支出|收入)?(?:预算|决算)?(?:合计|总计|小计|总额)?(?:数|为)?$")


@dataclass(frozen=True)
class Scope:
    """Where a heading or label places a figure: its code when every name was placed, else ``within``."""

    names: tuple[tuple[str, str], ...]  # (name, level) as written
    code: str | None  # the figure's own code, when the whole path resolved
    within: str | None  # the deepest code placed


def document_subjects(doc: Document) -> dict[str, str]:
    """code → name from the document's tables (a code cell followed by its label, or "2010101 行政运行")
    and from narrative code lines, over the shipped list."""
    names = dict(subjects())
    for table in doc.tables:
        for row in table.rows:
            for i, cell in enumerate(row):
                t = cell.text.strip()
                if not (t[:3].isdigit() or t[:1] in ("[", "【")):
                    continue  # a code, alone or leading a label, opens with three digits or a bracket
                code, name = split_label(t)
                if code is None and CODE_RE.match(t) and i + 1 < len(row):
                    code, name = t, row[i + 1].text.strip()
                if code and name and not CODE_RE.match(name):
                    names.setdefault(code, name)
                    break
    for block in doc.paragraphs:
        for line in block.text.splitlines():
            line = line.strip()
            m = CODE_LINE.match(line) if line[:3].isdigit() else None  # 「2010101 行政运行」: three digits first
            if m:
                names.setdefault(m.group(1), NAME_END.split(m.group(2).strip(), maxsplit=1)[0])
    return names


def marked_names(text: str) -> list[tuple[str, str]]:
    """「1.一般公共服务（类）人大事务（款）行政运行（项）。」 → [(一般公共服务, 类), (人大事务, 款), (行政运行, 项)]."""
    out: list[tuple[str, str]] = []
    last = 0
    for m in LEVEL_MARK.finditer(text):
        name = NAME_NOISE.sub("", text[last : m.start()])
        if name:
            out.append((name, m.group(1)))
        last = m.end()
    return out


def resolve_scope(names: list[tuple[str, str]], known: dict[str, str]) -> Scope | None:
    """Walk the marked names down the code hierarchy."""
    if not names:
        return None
    code: str | None = None
    placed = False
    for name, level in names:
        found = _place(name, LEVEL_DIGITS[level], code, known)
        placed = found is not None
        code = found or code  # a 款 missing from the lists may still have its 项 found under the 类 …
    return Scope(names=tuple(names), code=code if placed else None, within=code)


def _consistent(code: str, parent: str | None, known: dict[str, str]) -> bool:
    """… but only where the levels in between are not listed under another name: 人大事务（款）行政运行（项）
    is not 2013701, whose 款 20137 is 网信事务."""
    if parent is None:
        return True
    skipped = [code[:n] for n in (3, 5) if len(parent) < n < len(code)]
    return all(c not in known for c in skipped)


def _place(name: str, digits: int, parent: str | None, known: dict[str, str]) -> str | None:
    """The one code of this length (under ``parent``, if known) whose name is ``name`` (支出 optional)."""
    want = _bare(name)
    under = [(c, _bare(n)) for c, n in known.items() if len(c) == digits and (parent is None or c.startswith(parent))
             and _consistent(c, parent, known)]
    hits = [c for c, n in under if n == want]
    if not hits and parent is not None:
        # words swapped in the narrative (一般行政事务管理 for 一般行政管理事务): the same characters, once
        hits = [c for c, n in under if sorted(n) == sorted(want)]
    return hits[0] if len(hits) == 1 else None


def _bare(name: str) -> str:
    text = canonical(name)
    return text[:-2] if text.endswith("支出") and len(text) > 3 else text


def is_generic(referent: str) -> bool:
    """A figure's own words say nothing of its subject (「预算支出合计」「年初预算为」)."""
    return bool(GENERIC.match(canonical(referent)))


def sentence_label(text: str) -> str:
    """「检察（款）:2018年预算支出合计…」: the subject label a sentence opens with, before its colon."""
    head = COLON.split(text, maxsplit=1)
    return head[0] if len(head) == 2 and LEVEL_MARK.search(head[0]) else ""
