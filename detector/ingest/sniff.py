"""Tell a file's format from its bytes. The extension is only a tie-breaker for plain text vs HTML."""

from __future__ import annotations

import codecs
import io
import unicodedata
import zipfile

from detector.errors import IngestError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# every byte but the control bytes _looks_binary counts: deleting these leaves just the control bytes, so one
# bytes.translate counts them in C (a per-byte Python loop cost ~0.5 ms per 10 kB of text)
_NOT_CONTROL = bytes([0, 9, 10, 12, 13, 27, *range(32, 256)])


def sniff(data: bytes, file: str = "") -> str:
    """Return one of ``pdf``, ``docx``, ``xlsx``, ``xls``, ``html``, ``text``; raise IngestError otherwise."""
    if not data.strip():
        raise IngestError("空文件 / empty file", path=file, code="empty")
    head = data[:1024]
    if head.lstrip()[:5] == b"%PDF-" or data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    if head[:4] == b"PK\x03\x04":
        return _sniff_zip(data, file)
    if head[:8] == OLE_MAGIC:
        if file.lower().endswith(".doc"):
            raise IngestError("旧版 Word（.doc）不受支持，请另存为 .docx / legacy .doc is not supported", path=file,
                              code="unsupported")
        return "xls"
    lowered = head.lower()
    if b"<html" in lowered or b"<!doctype html" in lowered or b"<table" in lowered:
        return "html"
    if _looks_binary(data[:65536]):
        raise IngestError("无法识别的二进制文件 / unrecognised binary file", path=file, code="binary")
    return "text"


def _sniff_zip(data: bytes, file: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError) as exc:  # zipfile raises all
        # of these on damaged directories (e.g. NotImplementedError "zip file version 8.4" for a flipped byte)
        raise IngestError(f"损坏的 ZIP 容器（DOCX/XLSX）/ broken zip container: {exc}", path=file,
                          code="corrupt") from exc
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise IngestError("ZIP 文件不是 DOCX 或 XLSX（压缩包请用 gouji scan 扫描）/ a zip that is neither DOCX nor XLSX",
                      path=file, code="unsupported")


def _looks_binary(sample: bytes) -> bool:
    """Binary if control bytes (other than whitespace, ESC, and the NULs of UTF-16) are frequent."""
    if sample[:2] in (b"\xff\xfe", b"\xfe\xff") or sample[:3] == b"\xef\xbb\xbf":
        return False
    nul = sample.count(0)
    if nul and utf16_without_bom(sample):
        return False
    ctrl = len(sample.translate(None, _NOT_CONTROL))
    return (ctrl + nul) / max(len(sample), 1) > 0.10


def utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when ``sample`` reads as UTF-16 without a byte-order mark, else None.

    Why alignment and not the share of NULs: in Chinese text only the ASCII characters (digits, tabs, line
    breaks) carry a NUL high byte, so a CJK-heavy UTF-16 file may have NULs in only a few percent of its bytes
    — but they mostly sit on one parity. Few aligned NULs are not enough alone (UTF-8 text may carry stray NULs):
    then the sample must also fail as UTF-8 and decode to sensible characters."""
    nul = sample.count(0)
    if nul < 2:
        return None
    even = sample[0::2].count(0)
    odd = nul - even
    if min(even, odd) > 0.25 * max(even, odd):  # CJK code points U+xx00 (一 is U+4E00) put a few on the other
        return None
    enc = "utf-16-be" if even > odd else "utf-16-le"
    if nul > len(sample) // 4:
        return enc
    if _decodes(sample, "utf-8"):
        return None
    text = _decodes(sample[: len(sample) // 2 * 2], enc)
    if not text:
        return None
    odd_chars = sum(1 for ch in text if unicodedata.category(ch) in ("Cn", "Co", "Cs")
                    or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\x1b\x00"))
    return enc if odd_chars <= 0.02 * len(text) else None


def _decodes(sample: bytes, encoding: str) -> str | None:
    """The decoded sample, tolerating a character cut at the sample's end; None if it does not decode."""
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None
