"""Sentences and clauses of the narrative, and the heading each sentence sits under.

Only number-bearing sentences go on to claim extraction; the rest are skipped cheaply with one regex, which
is what keeps ``gouji check`` well above jieba's own speed.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex as re

from detector.model import Document, Paragraph, Sentence

SENTENCE_END = re.compile(r"[。！？!?]+")  # a run of end marks closes a sentence
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
    section, section_block = "", None
    for block in doc.blocks:
        if not isinstance(block, Paragraph):
            continue
        if is_heading(block.text):
            section, section_block = block.text.strip(), block.index
        yield from split_paragraph(block, section, section_block)


def split_paragraph(p: Paragraph, section: str = "", section_block: int | None = None) -> Iterator[Sentence]:
    if not HAS_DIGIT.search(p.text):
        return  # no sentence of it can bear a number (the pattern has no anchors: a match in a part is one in all)
    for span in _spans(p.text):
        pieces = [span] if span[1] - span[0] <= MAX_SENTENCE else list(_bounded(p.text, *span))
        for start, end in pieces:
            text = p.text[start:end]
            if not text.strip() or not HAS_DIGIT.search(text):
                continue
            yield Sentence(text=text, block=p.index, start=start, end=end, page=p.page, file=p.file,
                           section=section, section_block=section_block, cut=len(pieces) > 1)


# A sentence that only gives the reason for the one before it (「…增长1.66%。主要原因是政策性调资。」) belongs
# to it: an auditor reads the change and its explanation as one statement. (Matched at a sentence's start, so
# no ``^``: that would not match at a position inside the paragraph.)
REASON_START = re.compile(r"\s*(?:主要原因|原因是|原因为|主要是由于|主要由于)")


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """Sentence spans of a paragraph, a reason sentence joined to the sentence it explains."""
    current: tuple[int, int] | None = None
    for start, end in _sentence_spans(text):
        if current is not None and REASON_START.match(text, start, end):
            current = (current[0], end)
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current


def _sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Each sentence up to and including its run of end marks; the rest of the text, if any, is the last.
    Found by scanning for the end marks alone, which is several times faster than matching sentences."""
    start = 0
    for m in SENTENCE_END.finditer(text):
        yield start, m.end()
        start = m.end()
    if start < len(text):
        yield start, len(text)


# Real sentences of the genre stay well under this; a run-on text without 。 (a table flattened into one line,
# a garbled export) is cut at clause boundaries so that claim extraction, linear per sentence in most steps but
# quadratic in a few, stays bounded on any input.
MAX_SENTENCE = 1500
CLAUSE_END = re.compile(r"[；;，]|,(?!\d)")  # 1,012.86 is no clause boundary


def _bounded(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while end - start > MAX_SENTENCE:
        cut = max((m.end() for m in CLAUSE_END.finditer(text, start, start + MAX_SENTENCE)), default=start + MAX_SENTENCE)
        yield start, cut
        start = cut
    yield start, end
