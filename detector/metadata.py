"""What a disclosure is about: the unit (预算单位) that published it, the fiscal year, and its kind
(预算 / 决算 / 绩效自评).

Why heuristics and not a model: these documents follow a handful of official templates, and each template states
its unit and year in one of a few fixed places — the title line (「X2021年部门整体支出绩效自评报告」), the
publishing sentence (「现将X2021年部门预算公开如下」), the scope sentence (「此次决算公开范围为X」) or the header row of
a standard table (「224X」 with the unit code in front, 「单位名称：X」). A small ranked list of those places is
transparent, testable on real texts and cheap enough to run on every document of an archive.

:func:`extract_metadata` is pure: same document in, same dict out; it never raises on odd text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import regex as re

from detector.model import Document

# How much text to look at: titles and table headers sit at the top; the scope sentence in the first pages.
HEAD_CHARS = 20000

YEAR = r"(20[0-4]\d)"
# A unit's name ends with what an organisation is called; 网信办, 法院, 委员会办公室 …
ORG_SUFFIX = (
    r"(?:办公室|网信办|委员会|人民法院|人民检察院|检察院|法院|政府|局|厅|署|委|办|部|院|中心|站|所|队|馆|校|大学|学院|"
    r"医院|协会|联合会|学会|研究会|社|台|处|科|会)"
)
UNIT_NAME = rf"(?P<unit>[\p{{Han}}A-Za-z0-9（）()]{{2,40}}?{ORG_SUFFIX})"

# Candidate places, best first: (pattern, weight). ``unit``/``year`` groups are read when present.
UNIT_PATTERNS: list[tuple[re.Pattern, int]] = [
    # 「单位名称：X」「编制单位：X」「部门名称：X」「预算单位：X」 in table headers and cover pages
    (re.compile(rf"(?:单位名称|编制单位|部门名称|预算单位|填报单位|公开单位|部门)[:：]{UNIT_NAME}(?=$|[，。,]|单位[:：]|{YEAR}年)",
                re.M), 50),
    # title line: 「X2021年部门整体支出绩效自评报告」「江苏省高级人民法院2019年度部门预算公开」
    (re.compile(rf"^{UNIT_NAME}{YEAR}年度?(?:部门|单位)?(?:整体支出|预算|决算|绩效|收支)", re.M), 40),
    # the same title broken after the unit, or with the year first: 「2017年度江苏省高级人民法院部门预算公开」
    (re.compile(rf"^{UNIT_NAME}\n{YEAR}年度?(?:部门|单位)?(?:整体支出|预算|决算|绩效)", re.M), 40),
    (re.compile(rf"^{YEAR}年度?{UNIT_NAME}(?:部门|单位)(?:整体支出|预算|决算|绩效)", re.M), 40),
    # publishing sentence: 「现将X2021年部门预算公开如下」
    (re.compile(rf"现将{UNIT_NAME}{YEAR}年度?(?:部门|单位)?(?:预算|决算|整体支出)"), 35),
    # header cell of a standard table: unit code in front of the name, 「224中共平乡县委…办公室」
    (re.compile(rf"^\d{{3,9}}{UNIT_NAME}$", re.M), 30),
    # scope sentence: 「此次决算公开范围为那曲市委网信办」「本次部门预算公开范围为X」
    (re.compile(rf"(?:预算|决算)(?:公开|编报)?范围(?:为|是|包括){UNIT_NAME}(?=[。，,；;、]|$)", re.M), 25),
]

SPACES = re.compile(r"[ \t\u3000\xa0]+")
# Words that end like a unit but name no one in particular.
GENERIC_UNITS = {"本部门", "本单位", "我办", "我局", "我委", "我院", "局机关", "机关", "本级", "部门", "单位", "委员会",
                 "办公室", "本局", "本委", "本办", "本院", "我单位", "我部门", "二级部门", "下属单位"}
# A leading phrase that a greedy match may swallow: 「根据X」「关于X」…
# and section numbering in front of a title: 「第二部分」「一、」「（一）」.
LEADING_NOISE = re.compile(
    r"^(?:根据|关于|按照|依据|为|由|是|对|经|现将|我们|本次|此次|第[一二三四五六七八九十\d]+(?:部分|章|节)|"
    r"[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．])+"
)

YEAR_PATTERNS: list[tuple[re.Pattern, int]] = [
    (re.compile(rf"(?:预算|决算)年度\s*[:：]\s*{YEAR}"), 50),
    (re.compile(rf"{YEAR}\s*年度?\s*(?:部门|单位)?\s*(?:整体支出)?\s*绩效自评"), 40),
    (re.compile(rf"{YEAR}\s*年度?\s*(?:部门|单位)\s*(?:预算|决算)"), 30),
    (re.compile(rf"{YEAR}\s*年度?\s*(?:预算|决算)(?:公开|情况|信息)"), 30),
    (re.compile(rf"{YEAR}\s*年度?(?:收入|支出)(?:预算|决算)?总计"), 10),
]

# Kind markers: phrases that name the document itself, not a figure inside it (年初预算 is in every 决算).
KIND_MARKERS: dict[str, list[str]] = {
    "绩效自评": ["绩效自评报告", "整体支出绩效自评", "绩效自评表", "部门整体绩效自评", "项目支出绩效自评"],
    "决算": ["部门决算", "单位决算", "决算公开", "决算情况说明", "收入决算", "支出决算", "决算表", "决算总表",
             "决算数", "年度决算"],
    "预算": ["部门预算", "单位预算", "预算公开", "预算收支总表", "收入预算", "支出预算", "预算情况说明",
             "预算年度", "预算安排", "预算信息公开"],
}
KINDS = ("预算", "决算", "绩效自评")


def extract_metadata(doc: Document) -> dict:
    """Return ``{"unit": str | None, "year": int | None, "kind": "预算" | "决算" | "绩效自评" | None}``.

    Reads the document's paragraphs, its tables' titles and first rows (standard tables carry the unit and
    year in their header row), and falls back on the file names for year and kind (「省法院2018年度部门预算公开.pdf」)."""
    head = _head_text(doc)
    names = "\n".join(doc.files or [doc.id])
    return {
        "unit": _unit(head),
        "year": _year(head) or _year(names),
        "kind": _kind(head) or _kind(names),
    }


def _head_text(doc: Document) -> str:
    """The first pages as lines: paragraphs in order, with each table's title and first three rows' cells."""
    lines: list[str] = []
    size = 0
    for block in doc.blocks:
        if size > HEAD_CHARS:
            break
        if hasattr(block, "rows"):
            parts: Iterable[str] = [block.title or "", *(c.text for r in block.rows[:3] for c in r)]
        else:
            parts = [block.text]
        for part in parts:
            # Chinese needs no spaces; PDFs put them everywhere (「部 门:」「2019 年度」), so drop them.
            text = SPACES.sub("", part).replace("\r", "").strip()
            if text:
                lines.append(text)
                size += len(text)
    return "\n".join(lines)


def _unit(text: str) -> str | None:
    votes: Counter[str] = Counter()
    for pattern, weight in UNIT_PATTERNS:
        for match in pattern.finditer(text):
            name = _clean_unit(match.group("unit"))
            if name:
                votes[name] += weight
    if not votes:
        return None
    # Highest score wins; on a tie the longer (more specific) name.
    return max(votes, key=lambda n: (votes[n], len(n)))


def _clean_unit(name: str) -> str | None:
    name = LEADING_NOISE.sub("", name.strip())
    name = re.sub(r"^[\d\s]+", "", name)
    if len(name) < 3 or name in GENERIC_UNITS or name.startswith(("我", "本")):
        return None
    return name


def _year(text: str) -> int | None:
    votes: Counter[int] = Counter()
    for pattern, weight in YEAR_PATTERNS:
        for match in pattern.finditer(text):
            votes[int(match.group(1))] += weight
    if not votes:
        return None
    return max(votes, key=lambda y: (votes[y], y))


def _kind(text: str) -> str | None:
    # The title line settles it when it names the kind; otherwise count the markers.
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    for kind in KINDS[::-1]:  # 绩效自评 first: a self-assessment mentions 预算 and 决算 too
        if any(m in first for m in KIND_MARKERS[kind]):
            return kind
    if any(text.count(m) for m in KIND_MARKERS["绩效自评"]):
        return "绩效自评"
    counts = {k: sum(text.count(m) for m in KIND_MARKERS[k]) for k in ("预算", "决算")}
    if not any(counts.values()):
        return None
    if counts["预算"] == counts["决算"]:
        return None
    return max(counts, key=lambda k: counts[k])
