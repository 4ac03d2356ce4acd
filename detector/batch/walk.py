"""Finding the documents of an archive: folders walked, .zip archives opened in place (never extracted).

Why a virtual tree: a zip is treated as one more folder, so ``--document-per-folder`` and document ids work the
same whether a unit's PDFs sit in ``2019/省法院/`` on disk or in ``2019.zip/省法院/``. A file is addressed by a
:class:`FileRef`: the file on disk plus the chain of member names inside (nested) zips.

Zip archives come from strangers, so every one is opened under :class:`ZipLimits` (members, total and per-member
uncompressed size, compression ratio, nesting depth). An archive or a member over a limit becomes a document
with an error — the scan reports it and goes on; nothing over a limit is ever decompressed.

What counts as a document: files with a document extension (.txt .pdf .docx .xlsx .xls .html .htm), and files
with any other extension whose first bytes are a PDF, an Office file or a zip (formats are sniffed from bytes;
the reader decides what the bytes are). Hidden files, Office lock files (``~$x.docx``) and the scan's own output
folder are skipped.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from detector.errors import IngestError, UsageError
from detector.ingest import MAX_FILE_BYTES

DOC_EXTS = {".txt", ".text", ".pdf", ".docx", ".xlsx", ".xls", ".html", ".htm"}
ARCHIVE_EXTS = {".zip"}
MAGICS = (b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
OFFICE_MARKERS = ("word/document.xml", "xl/workbook.xml")


@dataclass(frozen=True)
class ZipLimits:
    """Bounds on what a zip may make us decompress. Defaults fit real disclosure archives with a wide margin."""

    max_members: int = 20_000
    max_total_bytes: int = 4 * 1024**3  # uncompressed, whole archive including nested ones
    max_member_bytes: int = MAX_FILE_BYTES
    max_ratio: float = 200.0  # uncompressed / compressed, per member (text compresses ~10×, bombs ~1000×)
    max_depth: int = 2  # a zip in a zip is fine; a zip in a zip in a zip is not


@dataclass(frozen=True)
class FileRef:
    """One file of a document: ``path`` on disk, then ``members`` inside nested zips (outermost first).
    ``name`` is the virtual path relative to the scanned root (``a.zip/2019/x.pdf``)."""

    path: str
    name: str
    size: int
    members: tuple[str, ...] = ()

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name

    def read(self, limits: ZipLimits | None = None, zips: ZipCache | None = None) -> bytes:
        """The file's bytes, decompressing zip members under ``limits``; IngestError when it cannot be read.
        ``zips`` keeps archives open between reads (see :class:`ZipCache`)."""
        limits = limits or ZipLimits()
        try:
            if not self.members:
                with open(self.path, "rb") as fh:
                    # Size first: read(n) would reserve n bytes up front, and workers run under --max-memory.
                    if os.fstat(fh.fileno()).st_size > MAX_FILE_BYTES:
                        raise IngestError(f"文件过大（上限 {MAX_FILE_BYTES // 2**20} MB）/ file too large",
                                          path=self.name, code="too_large")
                    return fh.read()
            if zips is not None:
                return zips.read(self, limits)
            with zipfile.ZipFile(self.path) as outer:
                return _read_chain(outer, self.members, self.name, limits)
        except OSError as exc:
            raise IngestError(f"无法读取文件 / cannot read file: {exc.strerror or exc}", path=self.name,
                              code="unreadable") from exc
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
            # RuntimeError: encrypted member; NotImplementedError: unsupported compression method
            raise IngestError(f"压缩包成员无法解压 / cannot decompress archive member: {exc}", path=self.name,
                              code="archive") from exc


class ZipCache:
    """Archives kept open between reads of their members, the last few used.

    Why: opening a zip parses its whole central directory (≈ 30 µs a member in Python), so reading the 5,000
    members of one archive one open at a time costs 5,000 × 5,000 entries — minutes. The scan process reads
    members in id order while hashing (an archive's members are neighbours) and each worker keeps its own cache
    across documents. An archive changed on disk (another inode, size or mtime) is opened afresh. A zip inside a
    zip is kept too when it is small (its bytes are held in memory)."""

    INNER_MAX_BYTES = 64 * 2**20

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._open: dict[tuple, zipfile.ZipFile] = {}  # insertion order = use order

    def read(self, ref: FileRef, limits: ZipLimits) -> bytes:
        st = os.stat(ref.path)
        key: tuple = (ref.path, st.st_ino, st.st_size, st.st_mtime_ns)
        zf = self._get(key, lambda: zipfile.ZipFile(ref.path))
        for depth, member in enumerate(ref.members[:-1]):
            parent = zf
            key = (*key, member)
            data_of = lambda parent=parent, member=member: _read_chain(parent, (member,), ref.name, limits)  # noqa: E731
            if parent.getinfo(member).file_size > self.INNER_MAX_BYTES:
                return _read_chain(zipfile.ZipFile(io.BytesIO(data_of())), ref.members[depth + 1:], ref.name, limits)
            zf = self._get(key, lambda data_of=data_of: zipfile.ZipFile(io.BytesIO(data_of())))
        return _read_chain(zf, ref.members[-1:], ref.name, limits)

    def _get(self, key: tuple, opener) -> zipfile.ZipFile:
        zf = self._open.pop(key, None)
        if zf is None:
            zf = opener()
            while len(self._open) >= self.size:
                self._open.pop(next(iter(self._open))).close()
        self._open[key] = zf
        return zf

    def close(self) -> None:
        for zf in self._open.values():
            zf.close()
        self._open.clear()


@dataclass(frozen=True)
class DocSource:
    """A document to scan: its id (relative to the root) and its files, or the reason it cannot be scanned
    found during the walk (``error`` = (code, message), e.g. an archive over the zip limits)."""

    id: str
    files: tuple[FileRef, ...]
    error: tuple[str, str] | None = None

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass
class _Walk:
    limits: ZipLimits
    skip: Path | None
    entries: list[tuple[PurePosixPath, FileRef]] = field(default_factory=list)
    errors: list[DocSource] = field(default_factory=list)


def discover(roots: list[str | Path], *, document_per_folder: bool = False, limits: ZipLimits | None = None,
             skip: str | Path | None = None) -> list[DocSource]:
    """Every document under ``roots``, sorted by id; ids unique. ``skip`` is a folder never entered (the
    scan's output folder, when it sits inside a root)."""
    limits = limits or ZipLimits()
    walk = _Walk(limits=limits, skip=Path(skip).resolve() if skip else None)
    for root in roots:
        root = Path(root).absolute()  # documents.parquet's paths then open from any folder, not only the scan's cwd
        if not root.exists():
            raise UsageError(f"路径不存在 / no such file or folder: {root}")
        # One root: ids are relative to it. Several: relative to each root's parent, so they stay apart.
        label = PurePosixPath(root.resolve().name) if (len(roots) > 1 or root.is_file()) else PurePosixPath()
        if root.is_file():
            _add_file(walk, root, PurePosixPath(root.name))
        else:
            _walk_dir(walk, root, label)
    docs = _group(walk.entries, document_per_folder, single_dir_label=_single_dir_label(roots))
    docs += walk.errors
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            raise UsageError(f"两个文档的标识相同 / two documents share the id {doc.id!r}: scan the roots separately")
        seen.add(doc.id)
    return sorted(docs, key=lambda d: d.id)


def _single_dir_label(roots: list[str | Path]) -> str | None:
    """With one folder as root and --document-per-folder, files right in it form a document named after it."""
    if len(roots) == 1 and Path(roots[0]).is_dir():
        return Path(roots[0]).resolve().name
    return None


def _walk_dir(walk: _Walk, root: Path, label: PurePosixPath) -> None:
    def onerror(exc: OSError) -> None:
        rel = _rel(Path(exc.filename or root), root, label)
        walk.errors.append(DocSource(id=str(rel), files=(), error=("unreadable", f"无法读取文件夹 / cannot list folder: "
                                                                                 f"{exc.strerror}")))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and not (walk.skip and (here / d).resolve() == walk.skip))
        for name in sorted(filenames):
            if name.startswith((".", "~$")):
                continue
            path = here / name
            if path.is_file():
                _add_file(walk, path, _rel(path, root, label))


def _rel(path: Path, root: Path, label: PurePosixPath) -> PurePosixPath:
    return label / PurePosixPath(path.relative_to(root).as_posix()) if path != root else label


def _add_file(walk: _Walk, path: Path, rel: PurePosixPath) -> None:
    ext = path.suffix.lower()
    try:
        size = path.stat().st_size
        if ext not in DOC_EXTS:
            with open(path, "rb") as fh:
                head = fh.read(8)
            if ext not in ARCHIVE_EXTS and not head.startswith(MAGICS):
                return
            if ext in ARCHIVE_EXTS or head.startswith(b"PK"):
                _add_archive_file(walk, path, rel, size)
                return
    except OSError as exc:
        walk.errors.append(DocSource(id=str(rel), files=(), error=("unreadable", f"无法读取文件 / cannot read file: "
                                                                                f"{exc.strerror}")))
        return
    walk.entries.append((rel, FileRef(path=str(path), name=str(rel), size=size)))


def _add_archive_file(walk: _Walk, path: Path, rel: PurePosixPath, size: int) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            if _is_office(zf):  # a .docx/.xlsx under another name is a document, not an archive
                walk.entries.append((rel, FileRef(path=str(path), name=str(rel), size=size)))
                return
            _walk_zip(walk, zf, path, rel, (), depth=1, budget=[walk.limits.max_total_bytes])
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        walk.errors.append(DocSource(id=str(rel), files=(), error=("archive", f"压缩包已损坏 / broken zip archive: {exc}")))
    except _OverLimit as exc:
        walk.errors.append(DocSource(id=str(rel), files=(), error=("zip_limit", str(exc))))


class _OverLimit(Exception):
    """An archive as a whole is over the zip limits (too many members, too large in total, nested too deep)."""


def _is_office(zf: zipfile.ZipFile) -> bool:
    names = set(zf.namelist())
    return any(m in names for m in OFFICE_MARKERS)


def _walk_zip(walk: _Walk, zf: zipfile.ZipFile, path: Path, rel: PurePosixPath, chain: tuple[str, ...],
              depth: int, budget: list[int]) -> None:
    limits = walk.limits
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > limits.max_members:
        raise _OverLimit(f"压缩包成员过多（{len(infos)} 个，上限 {limits.max_members}）/ too many archive members")
    total = sum(i.file_size for i in infos)
    budget[0] -= total
    if budget[0] < 0:
        raise _OverLimit(f"压缩包解压后过大（上限 {limits.max_total_bytes // 2**20} MB）/ archive too large uncompressed")
    for info in sorted(infos, key=lambda i: i.filename):
        member = PurePosixPath(_member_name(info))
        if any(part.startswith((".", "~$", "__MACOSX")) for part in member.parts):
            continue
        mrel = rel / member
        ext = member.suffix.lower()
        ref = FileRef(path=str(path), name=str(mrel), size=info.file_size, members=(*chain, info.filename))
        problem = _member_problem(info, limits)
        if ext in ARCHIVE_EXTS or (ext not in DOC_EXTS and _member_head(zf, info, problem).startswith(b"PK")):
            if problem:
                walk.errors.append(DocSource(id=str(mrel), files=(), error=("zip_limit", problem)))
                continue
            data = zf.read(info)
            try:
                inner = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile as exc:
                walk.errors.append(DocSource(id=str(mrel), files=(), error=("archive", f"压缩包已损坏 / broken zip: {exc}")))
                continue
            with inner:
                if _is_office(inner):
                    walk.entries.append((mrel, ref))
                elif depth + 1 > limits.max_depth:
                    walk.errors.append(DocSource(id=str(mrel), files=(), error=(
                        "zip_limit", f"压缩包嵌套过深（上限 {limits.max_depth} 层）/ archives nested too deep")))
                else:
                    _walk_zip(walk, inner, path, mrel, ref.members, depth + 1, budget)
            continue
        if ext not in DOC_EXTS and not _member_head(zf, info, problem).startswith(MAGICS):
            continue
        if problem:
            walk.errors.append(DocSource(id=str(mrel), files=(), error=("zip_limit", problem)))
        else:
            walk.entries.append((mrel, ref))


def _member_name(info: zipfile.ZipInfo) -> str:
    """Member names from Chinese Windows zips are GBK without the UTF-8 flag; zipfile decodes them as cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("gbk")
    return name.lstrip("/")


def _member_problem(info: zipfile.ZipInfo, limits: ZipLimits) -> str | None:
    if info.file_size > limits.max_member_bytes:
        return f"压缩包成员过大（{info.file_size // 2**20} MB）/ archive member too large"
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > 1 << 20:
        ratio = info.file_size / info.compress_size
        return f"压缩比异常（{ratio:.0f}:1，上限 {limits.max_ratio:.0f}:1），疑似压缩炸弹 / suspicious compression ratio"
    return None


def _member_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, problem: str | None) -> bytes:
    if problem:  # never decompress what is over a limit, not even its first bytes' worth of a bomb
        return b""
    with zf.open(info) as fh:
        return fh.read(8)


def _read_chain(zf: zipfile.ZipFile, members: tuple[str, ...], name: str, limits: ZipLimits) -> bytes:
    info = zf.getinfo(members[0])
    problem = _member_problem(info, limits)
    if problem:
        raise IngestError(problem, path=name, code="zip_limit")
    with zf.open(info) as fh:  # zipfile stops at the declared size and checks the CRC: no more comes out
        data = fh.read()
    if len(members) == 1:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        return _read_chain(inner, members[1:], name, limits)


def _group(entries: list[tuple[PurePosixPath, FileRef]], per_folder: bool,
           single_dir_label: str | None) -> list[DocSource]:
    if not per_folder:
        return [DocSource(id=str(rel), files=(ref,)) for rel, ref in entries]
    by_dir: dict[PurePosixPath, list[FileRef]] = {}
    for rel, ref in entries:
        by_dir.setdefault(rel.parent, []).append(ref)
    # A leaf folder holds documents and no folder below it does.
    inner = {parent for folder in by_dir for parent in folder.parents}
    docs = []
    for folder, refs in by_dir.items():
        if folder not in inner:
            doc_id = str(folder) if str(folder) != "." else (single_dir_label or refs[0].basename)
            docs.append(DocSource(id=doc_id, files=tuple(sorted(refs, key=lambda r: r.name))))
        else:
            docs.extend(DocSource(id=r.name, files=(r,)) for r in refs)
    return docs

