"""Fuzzing the whole pipeline with mutated real documents: ``python -m detector.fuzz --inputs N``.

Why mutate real documents rather than generate random bytes: random bytes stop at the format sniffer, while a
disclosure with one flipped byte, a cut tail, shuffled lines, edited digits or the wrong encoding reaches the
readers, the number parser, the claim frames and the checks — where the unhandled exceptions hide. Each base
text is also rendered as DOCX, XLSX and HTML, and container mutations edit the XML inside the ZIP (then
re-zip it), so the XML parsers are exercised, not just the CRC check. Real PDFs (the Jiangsu disclosures,
when the shared corpus is present) are mutated as bytes.

Every input is checked by :func:`detector.pipeline.check_paths` under a time limit. An :class:`IngestError`
is a handled outcome; any other exception, or running past the limit, is a failure. Inputs are derived
deterministically from ``(seed, index)``, so a failure is reproduced by its index; failing inputs are saved
with their traceback. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import io
import random
import signal
import sys
import tempfile
import traceback
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import regex as re

from detector.errors import IngestError
from detector.ingest.text import decode, parse_text
from detector.model import Block, Paragraph, Table

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
DEFAULT_CORPUS = [ROOT / "corpus" / "samples", SHARED / "seeds", SHARED / "jiangsu"]
# Real disclosure PDFs join the corpus as they are (their text cannot be re-rendered faithfully); only the
# smaller ones, so that PDFs stay a share of the inputs and a 10,000-input run keeps its pace.
MAX_PDF_BYTES = 300_000
Sample = tuple[str, bytes]  # file name (its extension matters to the sniffer's tie-breaks), bytes
Mutator = Callable[[bytes, str, random.Random], tuple[bytes, str]]


# ------------------------------------------------------------------------------------------------ corpus


def load_corpus(folders: list[Path]) -> list[Sample]:
    """Text documents of ``folders`` (absent folders are skipped), each also rendered as DOCX, XLSX, HTML, and
    the PDFs of ``folders`` and their subfolders up to :data:`MAX_PDF_BYTES`."""
    samples: list[Sample] = []
    for folder in folders:
        for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
            data = path.read_bytes()
            blocks = parse_text(decode(data, path.name)[0], path.name)
            samples += [(path.name, data), (f"{path.stem}.docx", render_docx(blocks)),
                        (f"{path.stem}.xlsx", render_xlsx(blocks)), (f"{path.stem}.html", render_html(blocks))]
        for path in sorted(folder.rglob("*.pdf")) if folder.is_dir() else []:
            if path.stat().st_size <= MAX_PDF_BYTES:
                samples.append((path.name, path.read_bytes()))
    return samples


def _tables(blocks: list[Block]) -> Iterator[Table]:
    return (b for b in blocks if isinstance(b, Table))


def render_docx(blocks: list[Block]) -> bytes:
    import docx

    d = docx.Document()
    for block in blocks:
        if isinstance(block, Paragraph):
            d.add_paragraph(_xml_safe(block.text))
        elif block.n_rows and block.n_cols:
            t = d.add_table(rows=block.n_rows, cols=block.n_cols)
            for r, row in enumerate(block.rows):
                for cell in row:
                    t.cell(r, cell.col).text = _xml_safe(cell.text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def render_xlsx(blocks: list[Block]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for i, table in enumerate(_tables(blocks)):
        ws = wb.create_sheet(f"表{i + 1}")
        for row in table.rows:
            for cell in row:
                text = _xml_safe(cell.text)
                ws.cell(row=cell.row + 1, column=cell.col + 1, value=_number_or_text(text))
    if not wb.worksheets:
        wb.create_sheet("说明")["A1"] = "无表格"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_html(blocks: list[Block]) -> bytes:
    from html import escape

    parts = ["<html><head><meta charset='utf-8'><script>var x = '<p>不是正文</p>';</script></head><body>"]
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append(f"<p>{escape(block.text)}</p>")
        else:
            rows = "".join("<tr>" + "".join(f"<td>{escape(c.text)}</td>" for c in row) + "</tr>" for row in block.rows)
            parts.append(f"<table>{rows}</table>")
    return ("".join(parts) + "</body></html>").encode("utf-8")


def _xml_safe(text: str) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ", text)


def _number_or_text(text: str) -> float | str:
    return float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else text


# ---------------------------------------------------------------------------------------------- mutators


def byte_flip(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out), name


def truncate(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    return data[: rng.randrange(len(data) + 1)], name


def line_shuffle(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    lines = data.split(b"\n")
    start = rng.randrange(len(lines))
    window = lines[start : start + rng.randint(2, 30)]
    rng.shuffle(window)
    return b"\n".join(lines[:start] + window + lines[start + len(window) :]), name


DIGIT_RE = re.compile(rb"\d")


def digit_edit(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    """Change, drop or double digits, or put a separator beside one: numbers that no longer agree."""
    out = bytearray(data)
    spots = [m.start() for m in DIGIT_RE.finditer(data)]
    for pos in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 6))), reverse=True):
        choice = rng.choice([str(rng.randrange(10)).encode(), b"", out[pos : pos + 1] * 2,
                             out[pos : pos + 1] + b".", b",", "万".encode(), b"%"])
        out[pos : pos + 1] = choice
    return bytes(out), name


def encoding_swap(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    """Re-encode the text (lossy where the target lacks a character), or put a wrong byte-order mark on it."""
    text = data.decode("utf-8", errors="replace")
    enc = rng.choice(["gbk", "gb18030", "big5", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
    encoded = text.encode(enc, errors="replace")
    if rng.random() < 0.2:
        encoded = rng.choice([b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"]) + data
    return encoded, name


def splice(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    """Delete, duplicate, or insert random bytes at a random place."""
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.randint(1, 4096))
    op = rng.randrange(3)
    if op == 0:
        return data[:a] + data[b:], name
    if op == 1:
        return data[:b] + data[a:b] * rng.randint(1, 50) + data[b:], name
    return data[:a] + rng.randbytes(rng.randint(1, 64)) + data[a:], name


def rename(data: bytes, name: str, rng: random.Random) -> tuple[bytes, str]:
    """The wrong extension: the format must be sniffed from the bytes."""
    return data, f"{Path(name).stem}.{rng.choice(['pdf', 'docx', 'xlsx', 'xls', 'html', 'txt', 'doc', ''])}"


BYTE_MUTATORS: dict[str, Mutator] = {"byte_flip": byte_flip, "truncate": truncate, "line_shuffle": line_shuffle,
                                     "digit_edit": digit_edit, "encoding_swap": encoding_swap, "splice": splice,
                                     "rename": rename}
INNER_MUTATORS = ("byte_flip", "truncate", "line_shuffle", "digit_edit", "encoding_swap", "splice")


def in_member(data: bytes, name: str, rng: random.Random, mutate: Mutator) -> tuple[bytes, str]:
    """Mutate one XML part inside a DOCX/XLSX and re-zip, so the damage passes the ZIP layer's CRC checks."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError, NotImplementedError, RuntimeError):
        return mutate(data, name, rng)  # an earlier mutation already broke the container: mutate its bytes
    xml = [i for i, (n, _) in enumerate(members) if n.endswith((".xml", ".rels"))]
    if not xml:
        return mutate(data, name, rng)
    k = rng.choice(xml)
    members[k] = (members[k][0], mutate(members[k][1], name, rng)[0])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, content in members:  # a fixed timestamp keeps the input a function of (seed, index)
            zf.writestr(zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0)), content, zipfile.ZIP_DEFLATED)
    return out.getvalue(), name


def mutate(sample: Sample, rng: random.Random) -> tuple[bytes, str, list[str]]:
    """One to three stacked mutations; for a ZIP container, each goes inside an XML part two times in three."""
    name, data = sample
    applied: list[str] = []
    for _ in range(rng.randint(1, 3)):
        if data[:2] == b"PK" and rng.random() < 0.67:
            key = rng.choice(INNER_MUTATORS)
            data, name = in_member(data, name, rng, BYTE_MUTATORS[key])
            applied.append(f"xml:{key}")
        else:
            key = rng.choice(list(BYTE_MUTATORS))
            data, name = BYTE_MUTATORS[key](data, name, rng)
            applied.append(key)
    return data, name, applied


# ---------------------------------------------------------------------------------------------- running


@dataclass
class Failure:
    index: int
    base: str
    mutations: list[str]
    error: str
    trace: str


@dataclass
class FuzzReport:
    counts: Counter = field(default_factory=Counter)  # ok / ingest_error / unhandled / timeout
    mutations: Counter = field(default_factory=Counter)
    ingest_codes: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def summary(self) -> str:
        lines = [f"inputs: {sum(self.counts.values())}  " + "  ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())),
                 "ingest errors by code: " + ", ".join(f"{k} {v}" for k, v in self.ingest_codes.most_common()),
                 "mutations: " + ", ".join(f"{k} {v}" for k, v in sorted(self.mutations.items()))]
        lines += [f"FAIL #{f.index} {f.base} {'+'.join(f.mutations)}: {f.error}" for f in self.failures[:50]]
        return "\n".join(lines)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_CORPUS: list[Sample] = []


def _init(corpus: list[Sample]) -> None:
    global _CORPUS
    _CORPUS = corpus


def run_one(index: int, seed: int, timeout: float, save: Path | None) -> tuple[str, str, list[str], Failure | None]:
    """Build input ``index`` and check it: (outcome, ingest error code, mutations, failure or None)."""
    from detector.pipeline import check_paths

    rng = random.Random(f"{seed}:{index}")
    base = rng.choice(_CORPUS)
    data, name, applied = mutate(base, rng)
    with tempfile.TemporaryDirectory(prefix="gouji-fuzz-") as tmp:
        path = Path(tmp) / (name or "input")
        path.write_bytes(data)
        try:
            with time_limit(timeout):
                check_paths([path], doc_id=name)
            return "ok", "", applied, None
        except IngestError as exc:
            return "ingest_error", exc.code, applied, None
        except TimeoutError as exc:
            outcome, error, trace = "timeout", str(exc), traceback.format_exc()
        except Exception as exc:  # the point of fuzzing: anything else is a bug to report, not to crash on
            outcome, error, trace = "unhandled", f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc()
    failure = Failure(index=index, base=base[0], mutations=applied, error=error, trace=trace)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"fail-{seed}-{index}-{Path(name).name or 'input'}").write_bytes(data)
        (save / f"fail-{seed}-{index}.txt").write_text(f"{base[0]} {applied}\n{failure.trace}", encoding="utf-8")
    return outcome, "", applied, failure


def run(inputs: int, seed: int = 0, corpus: list[Sample] | None = None, jobs: int = 1, timeout: float = 30.0,
        save: Path | None = None) -> FuzzReport:
    corpus = corpus if corpus is not None else load_corpus(DEFAULT_CORPUS)
    if not corpus:
        raise IngestError("没有可用于模糊测试的文档 / no documents to mutate", code="empty")
    report = FuzzReport()
    if jobs <= 1:
        _init(corpus)
        results: Iterator = (run_one(i, seed, timeout, save) for i in range(inputs))
        _collect(report, results)
    else:
        with ProcessPoolExecutor(jobs, initializer=_init, initargs=(corpus,)) as pool:
            n = range(inputs)
            _collect(report, pool.map(run_one, n, [seed] * inputs, [timeout] * inputs, [save] * inputs,
                                      chunksize=8))
    return report


def _collect(report: FuzzReport, results: Iterator) -> None:
    for outcome, code, applied, failure in results:
        report.counts[outcome] += 1
        report.mutations.update(m.split(":")[-1] for m in applied)
        if code:
            report.ingest_codes[code] += 1
        if failure is not None:
            report.failures.append(failure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detector.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000, help="how many mutated inputs to check")
    parser.add_argument("--seed", type=int, default=0, help="inputs are derived from (seed, index)")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per CPU)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per input")
    parser.add_argument("--corpus", type=Path, action="append", help="folder of .txt documents (repeatable)")
    parser.add_argument("--save", type=Path, default=Path("out/fuzz"), help="where failing inputs are written")
    args = parser.parse_args(argv)
    import os

    corpus = load_corpus(args.corpus or DEFAULT_CORPUS)
    report = run(args.inputs, args.seed, corpus, jobs=args.jobs or os.cpu_count() or 1, timeout=args.timeout,
                 save=args.save)
    print(report.summary())
    if report.failed:
        print(f"{len(report.failures)} failing inputs saved in {args.save}", file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
