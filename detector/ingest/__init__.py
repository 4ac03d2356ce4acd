"""Ingestion: bytes of one or more files → one :class:`~detector.model.Document`.

Each format has a small module with ``read(data: bytes, file: str) -> FileContent``. The format is sniffed
from the bytes (:mod:`detector.ingest.sniff`), never trusted from the extension. Readers raise
:class:`~detector.errors.IngestError` with a clear message for anything they cannot read.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import regex as re

from detector.errors import IngestError
from detector.ingest.sniff import sniff
from detector.model import Block, Document, Paragraph, Table

MAX_FILE_BYTES = 200 * 1024 * 1024  # a disclosure above 200 MB is not a disclosure


@dataclass
class FileContent:
    """What one reader returns: blocks in reading order (indexes local to the file) and what it learned."""

    blocks: list[Block]
    meta: dict = field(default_factory=dict)
    # the reader searched its whole text once for lone surrogates and found none: the per-block scrub is skipped
    # (a plain-text file is one string already in memory, so one search costs no copy)
    no_surrogates: bool = False


READERS = {
    "text": "detector.ingest.text",
    "pdf": "detector.ingest.pdf",
    "docx": "detector.ingest.docx",
    "xlsx": "detector.ingest.xlsx",
    "xls": "detector.ingest.xlsx",
    "html": "detector.ingest.html",
}


def read_bytes(data: bytes, file: str) -> FileContent:
    """Read one file's bytes with the reader its sniffed format calls for."""
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(
            f"文件过大（{len(data) / 1e6:.0f} MB，上限 {MAX_FILE_BYTES / 1e6:.0f} MB） / file too large", path=file,
            code="too_large",
        )
    fmt = sniff(data, file)
    module = importlib.import_module(READERS[fmt])
    content: FileContent = module.read(data, file)
    content.meta.setdefault("format", fmt)
    if not content.no_surrogates:
        _scrub_surrogates(content.blocks)
    return content


# A lone UTF-16 surrogate is no character: a damaged PDF's text layer can yield one, and it breaks every later
# encoder (spaCy's string store, JSON lines on stdout). Found by the fuzzer; U+FFFD keeps every offset.
SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub_surrogates(blocks: list[Block]) -> None:
    for block in blocks:
        if isinstance(block, Paragraph):
            block.text = _without_surrogates(block.text)
        elif SURROGATE.search("\n".join(_table_texts(block))):  # one search per table, not one per cell
            block.title, block.notes = _without_surrogates(block.title), [_without_surrogates(n) for n in block.notes]
            for row in block.rows:
                for cell in row:
                    cell.text = _without_surrogates(cell.text)


def _without_surrogates(text: str | None) -> str | None:
    return SURROGATE.sub("\ufffd", text) if text and SURROGATE.search(text) else text


def _table_texts(table: Table) -> Iterator[str]:
    """Every text of a table: title, notes and cells."""
    yield table.title or ""
    yield from (n or "" for n in table.notes)
    for row in table.rows:
        for cell in row:
            yield cell.text or ""


def load(paths: list[str | Path] | str | Path, doc_id: str | None = None) -> Document:
    """Load one document from one or more files (a narrative PDF and a table PDF make one document).

    Blocks are renumbered in document order, files in the order given."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    files: list[tuple[str, bytes]] = []
    for path in paths:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise IngestError(f"无法读取文件 / cannot read file: {exc.strerror}", path=str(path), code="unreadable") from exc
    return load_bytes(files, doc_id or paths[0].name)


def load_bytes(files: list[tuple[str, bytes]], doc_id: str) -> Document:
    """One document from its files' (name, bytes), as :func:`load` makes it from paths: blocks renumbered in
    document order, files in the order given. For bytes that are not a file on disk, e.g. zip members read in
    place by ``gouji scan``."""
    blocks: list[Block] = []
    metas: list[dict] = []
    for name, data in files:
        content = read_bytes(data, name)
        for block in content.blocks:
            block.index = len(blocks)
            if not block.file:
                block.file = name
            blocks.append(block)
        metas.append(content.meta)
    return Document(id=doc_id, blocks=blocks, files=[name for name, _ in files], meta=_merge_meta(metas))


def _merge_meta(metas: list[dict]) -> dict:
    merged: dict = {"formats": [m.get("format") for m in metas]}
    merged["format"] = metas[0].get("format") if len(metas) == 1 else "+".join(sorted(set(merged["formats"])))
    merged["pages"] = sum(m.get("pages") or 0 for m in metas) or None
    for m in metas:
        for k, v in m.items():
            merged.setdefault(k, v)
    return merged


def from_text(text: str, doc_id: str = "text") -> Document:
    """A document from a str (tests, the API, the review app's previews)."""
    content = read_bytes(text.encode("utf-8"), doc_id)
    for i, b in enumerate(content.blocks):
        b.index = i
    return Document(id=doc_id, blocks=content.blocks, files=[doc_id], meta=content.meta)


__all__ = ["FileContent", "load", "load_bytes", "read_bytes", "from_text", "Paragraph", "Table"]
