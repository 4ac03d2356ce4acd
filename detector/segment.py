"""Sentences and clauses of the narrative, and the heading each sentence sits under.

Only number-bearing sentences go on to claim extraction; the rest are skipped cheaply with one regex, which
is what keeps ``gouji check`` well above jieba's own speed.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex as re

from detector.model import Document, Paragraph, Sentence

SENTENCE_END = re.compile(r"[^。！？!?]*(?:[。！？!?]+|$)")
HAS_DIGIT = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千]+(?:万元|元|个)|百分之")
HEADING = re.compile(
    r"^\s*(?:第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\)|\d+[.、](?!\d))"
)
MAX_HEADING_LEN = 40


def is_heading(text: str) -> bool:
    """A short numbered line such as 三、支出决算情况说明 or （一）部门职责。"""
    stripped = text.strip()
    return len(stripped) <= MAX_HEADING_LEN and bool(HEADING.match(stripped)) and not HAS_DIGIT.search(
        HEADING.sub("", stripped)
    )


def sentences(doc: Document) -> Iterator[Sentence]:
    """Number-bearing sentences in document order, each with the nearest heading above it."""
    section = ""
    for block in doc.blocks:
        if not isinstance(block, Paragraph):
            continue
        if is_heading(block.text):
            section = block.text.strip()
        yield from split_paragraph(block, section)


def split_paragraph(p: Paragraph, section: str = "") -> Iterator[Sentence]:
    for m in SENTENCE_END.finditer(p.text):
        text = m.group(0)
        if not text.strip() or not HAS_DIGIT.search(text):
            continue
        yield Sentence(text=text, block=p.index, start=m.start(), end=m.end(), page=p.page, file=p.file,
                       section=section)
