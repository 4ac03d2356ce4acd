"""``gouji scan`` on a generated archive of real disclosure text in every format: every document accounted for
exactly once with the right status, broken and hostile inputs recorded as errors, a SIGKILLed scan resumed to the
same outputs, and Dask producing what the local pool produces.

The archive is built from the shared seed texts (perturbed so that no two documents are equal), written as
text in three encodings, DOCX (python-docx), PDF (reportlab, STSong-Light) and XLSX (openpyxl); some files are
corrupted, some sit in a zip (and a zip in that zip), one zip is a bomb, and one document is genuinely slow: the
seed text a thousand times over (26 MB), which the pipeline needs minutes for — the scan runs with a short
``--timeout`` that every other document meets by a wide margin.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from detector.batch.scan import ScanOptions, scan
from detector.batch.store import Store, encode_tables
from detector.batch.walk import ZipLimits, discover

ROOT = Path(__file__).resolve().parents[1]
SCAN_TIMEOUT = 20.0  # seconds; ordinary documents take under 0.5 s (a few when busy), the slow one minutes


# ------------------------------------------------------------------------------------------ building archives


def _perturb(text: str, n: int) -> str:
    """A distinct but realistic variant of a seed: another year, another unit, one amount changed."""
    rng = random.Random(n)
    year = str(2015 + n % 9)
    out = text.replace("2023", year).replace("2021", year)
    out = out.replace("网信办", f"网信办第{n}分部", 1) if "网信办" in out else f"第{n}号\n{out}"
    digits = [i for i, ch in enumerate(out) if ch.isdigit()]
    i = rng.choice(digits)
    return out[:i] + str((int(out[i]) + 1 + n % 8) % 10) + out[i + 1:]


def _narrative(text: str, limit: int = 25) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("\t")][:limit]


def _docx(lines: list[str]) -> bytes:
    import docx

    d = docx.Document()
    for line in lines[:-4]:
        d.add_paragraph(line)
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate([["项目", "预算数", "决算数"], ["基本支出", "100.00", "98.00"], ["合计", "100.00", "98.00"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _pdf(lines: list[str]) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 10)
    y = 800
    for line in lines:
        for k in range(0, len(line), 48):
            c.drawString(40, y, line[k:k + 48])
            y -= 14
            if y < 60:
                c.showPage()
                c.setFont("STSong-Light", 10)
                y = 800
    c.save()
    return buf.getvalue()


def _xlsx(n: int) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "收支总表"
    ws.append([f"第{n}单位部门收支预算总表"])
    ws.append(["单位：万元"])
    ws.append(["项目", "预算数"])
    parts = [round(10 + n * 1.5 + i, 2) for i in range(3)]
    for i, v in enumerate(parts):
        ws.append([f"支出{i + 1}", v])
    ws.append(["合计", round(sum(parts), 2)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def build_archive(root: Path, seeds: Path) -> dict[str, str]:
    """Write the archive; return doc id → expected status ("ok", or "error:<code>" / "error" for any code)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))]
    expected: dict[str, str] = {}

    def put(rel: str, data: bytes, status: str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[rel] = status

    for n in range(150):
        text = _perturb(texts[n % len(texts)], n)
        encoding = "gb18030" if n % 15 == 3 else "utf-16" if n % 25 == 7 else "utf-8"
        put(f"text/{n // 50}/doc{n:03d}.txt", text.encode(encoding), "ok")
    for n in range(15):
        put(f"docx/单位{n:02d}.docx", _docx(_narrative(_perturb(texts[n % 5], 200 + n))), "ok")
    for n in range(6):
        put(f"pdf/决算{n}.pdf", _pdf(_narrative(_perturb(texts[n % 5], 300 + n), 12)), "ok")
    for n in range(10):
        put(f"xlsx/表{n}.xlsx", _xlsx(n), "ok")
    # A PDF under a misleading extension: the format is sniffed from the bytes.
    put("pdf/really-a-pdf.dat", _pdf(_narrative(texts[0], 6)), "ok")
    # Broken inputs: each one is recorded as an error and the scan goes on.
    real_pdf = _pdf(_narrative(texts[1], 6))
    put("corrupt/empty.txt", b"", "error")
    put("corrupt/truncated.pdf", real_pdf[: len(real_pdf) // 3], "error")
    put("corrupt/garbage.pdf", b"%PDF-1.4\n" + random.Random(1).randbytes(4000), "error")
    put("corrupt/broken.docx", b"PK\x03\x04" + random.Random(2).randbytes(3000), "error")
    put("corrupt/noise.txt", random.Random(3).randbytes(5000), "error")
    put("corrupt/not-office.xlsx", _zip({"readme.txt": "不是表格".encode()}), "error")
    # Genuinely slow: the seed a thousand times over.
    put("slow/huge.txt", (texts[0] * 1000).encode("utf-8"), "error:timeout")
    # A zip of documents, with a zip inside it, a broken member and a zip nested one level too deep.
    inner = {f"inner/n{i}.txt": _perturb(texts[i % 5], 400 + i).encode() for i in range(5)}
    deepest = _zip({"d.txt": texts[3].encode()})
    members = {f"bundle/m{i:02d}.txt": _perturb(texts[i % 5], 500 + i).encode() for i in range(20)}
    members["bundle/w.docx"] = _docx(_narrative(_perturb(texts[2], 600)))
    members["bundle/bad.pdf"] = b"%PDF-1.7\n" + random.Random(4).randbytes(2000)
    members["bundle/nested.zip"] = _zip(inner | {"too/deep.zip": _zip({"deeper.zip": deepest})})
    put("archive/bundle.zip", _zip(members), "")
    del expected["archive/bundle.zip"]
    for name in members:
        if name != "bundle/nested.zip":
            expected[f"archive/bundle.zip/{name}"] = "error" if name.endswith("bad.pdf") else "ok"
    for name in inner:
        expected[f"archive/bundle.zip/bundle/nested.zip/{name}"] = "ok"
    expected["archive/bundle.zip/bundle/nested.zip/too/deep.zip"] = "error:zip_limit"
    # A zip bomb: 60 MB of one character in a few dozen kilobytes.
    put("archive/bomb.zip", _zip({"zeros.txt": b"0" * (60 << 20)}), "")
    del expected["archive/bomb.zip"]
    expected["archive/bomb.zip/zeros.txt"] = "error:zip_limit"
    # Not documents: skipped by the walk.
    (root / "notes.md").write_text("# 说明", encoding="utf-8")
    (root / "text" / ".hidden.txt").write_text("隐藏", encoding="utf-8")
    (root / "docx" / "~$单位00.docx").write_bytes(b"lock")
    return expected


@pytest.fixture(scope="session", autouse=True)
def pinned_code_key() -> Iterator[None]:
    """Results are keyed by gouji's code and rules, which other work may edit while these tests run; pinned, a
    rerun skips what the first run did whatever happens to the tree meanwhile (subprocesses inherit it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GOUJI_CODE_KEY", "test_scan")
        yield


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory, seeds: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("archive")
    return root, build_archive(root, seeds)


@pytest.fixture(scope="session")
def full_scan(archive: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, _ = archive
    out = tmp_path_factory.mktemp("full")
    scan(ScanOptions(roots=[root], out=out, jobs=2, timeout=SCAN_TIMEOUT, progress=False))
    return out


def comparable(out: Path) -> dict[str, object]:
    """A scan's outputs without what may differ between runs (timings)."""
    docs = pd.read_parquet(out / "documents.parquet")
    docs = docs[[c for c in docs.columns if not c.startswith("seconds_")]].sort_values("doc").reset_index(drop=True)
    findings = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    return {
        "documents": docs.to_json(orient="records", force_ascii=False),
        "fingerprints": sorted(f["fingerprint"] for f in findings),
        "claims": pd.read_parquet(out / "claims.parquet").to_json(orient="records", force_ascii=False),
        "checks": pd.read_parquet(out / "checks.parquet").to_json(orient="records", force_ascii=False),
        "findings": pd.read_parquet(out / "findings.parquet").to_json(orient="records", force_ascii=False),
    }


# ------------------------------------------------------------------------------------------ the big archive


@pytest.mark.slow
def test_every_document_accounted_for_once_with_its_status(archive, full_scan: Path) -> None:
    _, expected = archive
    assert len(expected) >= 200
    docs = pd.read_parquet(full_scan / "documents.parquet")
    assert docs["doc"].is_unique
    assert set(docs["doc"]) == set(expected)
    wrong = []
    for row in docs.itertuples():
        want = expected[row.doc]
        got = row.status if row.status == "ok" else f"error:{row.error_code}"
        if not (got == want or (want == "error" and got.startswith("error:"))):
            wrong.append((row.doc, want, got, row.error_message))
    assert not wrong
    errors = docs[docs.status == "error"]
    assert errors["error_message"].str.len().min() > 5  # every error says why
    ok = docs[docs.status == "ok"]
    assert ok["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert ok["sha256"].is_unique  # perturbed: no two documents are equal
    assert set(ok["format"]) >= {"text", "docx", "pdf", "xlsx"}
    assert ok.loc[ok.doc == "pdf/really-a-pdf.dat", "format"].item() == "pdf"
    assert all(Path(p).is_absolute() for paths in docs["path"] for p in paths)  # a report opens them anywhere


@pytest.mark.slow
def test_outputs_agree_with_each_other(full_scan: Path) -> None:
    docs = pd.read_parquet(full_scan / "documents.parquet").set_index("doc")
    checks = pd.read_parquet(full_scan / "checks.parquet")
    claims = pd.read_parquet(full_scan / "claims.parquet")
    findings = [json.loads(line) for line in (full_scan / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert findings, "perturbed seeds carry the seeds' defects"
    assert {f["doc"] for f in findings} <= set(docs.index)
    by_status = checks.groupby(["doc", "status"]).size().unstack(fill_value=0)
    for doc, row in by_status.iterrows():
        assert docs.loc[doc, "checks_pass"] == row.get("pass", 0)
        assert docs.loc[doc, "checks_fail"] == row.get("fail", 0)
    assert (claims.groupby("doc").size() == docs.loc[claims["doc"].unique(), "claims"]).all()
    per_doc = pd.Series([f["doc"] for f in findings]).value_counts()
    totals = docs[["findings_error", "findings_warning", "findings_info"]].sum(axis=1)
    assert (totals[per_doc.index] == per_doc).all()
    flat = pd.read_parquet(full_scan / "findings.parquet")
    assert sorted(flat["fingerprint"]) == sorted(f["fingerprint"] for f in findings)
    for f in findings[:20]:
        assert {"doc", "rule", "kind", "severity", "confidence", "message", "evidence", "fingerprint"} <= set(f)
    # the seeds' metadata flows into the document table
    meta = docs[docs.index.str.startswith("text/")]
    assert set(meta["kind"].dropna()) >= {"预算", "决算", "绩效自评"}
    assert meta["year"].notna().mean() > 0.9


@pytest.mark.slow
def test_a_rerun_skips_everything_done(archive, full_scan: Path, tmp_path: Path) -> None:
    root, _ = archive
    out = tmp_path / "out"
    # Work on a copy of the store so the session's full scan stays as it is.
    out.mkdir()
    for name in ("scan.sqlite",):
        src = sqlite3.connect(full_scan / name)
        dst = sqlite3.connect(out / name)
        src.backup(dst)
        src.close()
        dst.close()
    first = scan(ScanOptions(roots=[root], out=out, jobs=2, timeout=SCAN_TIMEOUT, progress=False))
    # Errors from the walk (bombs, nesting) are re-recorded, not re-run; everything else is skipped.
    walk_errors = [d for d in discover([root]) if d.error]
    assert walk_errors
    assert (first.skipped, first.scanned) == (first.documents - len(walk_errors), len(walk_errors))
    assert comparable(out) == comparable(full_scan)


# ------------------------------------------------------------------------------------------ kill and resume


def _committed(out: Path) -> int:
    try:
        with sqlite3.connect(f"file:{out / 'scan.sqlite'}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def frozen_gouji(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A copy of gouji's code and shipped rules, and the environment that runs it: three scans compared with
    each other must run the same gouji, even when the working tree is edited while the test runs."""
    from detector.rules import shipped_dir

    snap = tmp_path_factory.mktemp("gouji")
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "detector", snap / "detector", ignore=skip)
    shutil.copytree(shipped_dir(), snap / "gouji_rules", ignore=skip)
    env = {k: v for k, v in os.environ.items() if k != "GOUJI_CODE_KEY"} | {"PYTHONPATH": str(snap)}
    where = subprocess.run([sys.executable, "-c", "import detector, gouji_rules; print(detector.__file__, "
                            "gouji_rules.__file__)"], cwd=snap, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.split() == [str(snap / "detector" / "__init__.py"), str(snap / "gouji_rules" / "__init__.py")]
    return snap, env


@pytest.mark.slow
def test_sigkill_mid_scan_then_resume_gives_the_same_outputs(archive, frozen_gouji, tmp_path: Path) -> None:
    import psutil

    root, expected = archive
    snap, env = frozen_gouji

    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "detector.cli", "scan", str(root), "--out", str(out), "--jobs", "2",
                "--timeout", str(SCAN_TIMEOUT)]

    uninterrupted = tmp_path / "uninterrupted"
    subprocess.run([*command(uninterrupted), "-q"], cwd=snap, env=env, check=True, timeout=900)
    out = tmp_path / "killed"
    proc = subprocess.Popen([*command(out), "-q"], cwd=snap, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300  # a busy machine may take a while to start the workers
    while _committed(out) < 40 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    workers = [c for c in psutil.Process(proc.pid).children(recursive=True)
               if "detector.batch.child" in " ".join(c.cmdline())]
    assert workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _committed(out)
    assert 40 <= partial < len(expected)
    assert not (out / "documents.parquet").exists()  # nothing half-written in place of the outputs
    # The killed scan's workers notice their parent is gone and exit.
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive
    with Store(out) as store:
        before = store.done()
    resumed = subprocess.run(command(out), cwd=snap, env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    # It resumed: what was committed before the kill is skipped (walk errors are re-recorded, they cost nothing),
    # the rest — what was in flight and what had not started — is done now.
    skipped = int(re.search(r"skipped (\d+)", resumed.stderr).group(1))
    walk_errors = sum(1 for d in discover([root]) if d.error)
    assert partial - walk_errors <= skipped <= partial
    assert comparable(out) == comparable(uninterrupted)
    with Store(out) as store:
        after = store.done()
    assert len(after) == len(expected)
    assert all(after[doc] == key for doc, key in before.items())  # nothing committed before the kill was redone


# ------------------------------------------------------------------------------------------ hostile documents


def _resting_address_space() -> int:
    """What a warm worker holds of address space before any document (the libraries' mappings)."""
    import psutil

    from detector.batch.child import Supervisor

    probe = Supervisor(None, 10, 0)
    probe._start()
    try:
        return psutil.Process(probe.proc.pid).memory_info().vms
    finally:
        probe.close()


@pytest.mark.slow
def test_a_worker_out_of_memory_is_an_error_and_the_scan_goes_on(archive, tmp_path: Path) -> None:
    from detector.batch.child import MIN_ROOM

    root, _ = archive
    docs = tmp_path / "docs"
    docs.mkdir()
    # A text export gone wrong: 94 million one-digit lines (180 MB, under the 200 MB file limit). Reading it
    # as paragraphs needs gigabytes; the smallest cap gouji accepts leaves 700 MB.
    (docs / "lines.txt").write_bytes(b"1\n" * (90 << 20))
    for i in range(3):
        (docs / f"small{i}.txt").write_bytes((root / "text" / "0" / f"doc{i:03d}.txt").read_bytes())
    cap = _resting_address_space() + MIN_ROOM + (32 << 20)  # workers differ by a few MB at rest
    out = tmp_path / "out"
    summary = scan(ScanOptions(roots=[docs], out=out, jobs=1, timeout=300, max_memory=cap, progress=False))
    rows = pd.read_parquet(out / "documents.parquet").set_index("doc")
    assert rows.loc["lines.txt", "status"] == "error"
    assert rows.loc["lines.txt", "error_code"] == "out_of_memory"
    assert "out of memory" in rows.loc["lines.txt", "error_message"]
    assert (rows.drop("lines.txt")["status"] == "ok").all()  # the next documents got a fresh worker
    assert summary.statuses == {"ok": 3, "error": 1}


@pytest.mark.slow
def test_workers_are_capped_by_default_with_room_for_a_document() -> None:
    from detector.batch.child import DEFAULT_ROOM, Supervisor

    sup = Supervisor(None, 10, None)
    sup._start()
    try:
        import psutil

        resting = psutil.Process(sup.proc.pid).memory_info().vms
        soft, _hard = psutil.Process(sup.proc.pid).rlimit(psutil.RLIMIT_AS)
    finally:
        sup.close()
    assert soft - resting >= DEFAULT_ROOM - (64 << 20)


def test_max_memory_leaving_no_room_is_a_usage_error(tmp_path: Path) -> None:
    from detector.errors import UsageError

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("2023年度收入总计100万元。", encoding="utf-8")
    for mb in (8, 900):  # below a resting worker; above it but with less than 700 MB left for the document
        with pytest.raises(UsageError, match="give at least"):
            scan(ScanOptions(roots=[tmp_path / "docs"], out=tmp_path / f"out{mb}", jobs=1, max_memory=mb * 2**20,
                             progress=False))


# ------------------------------------------------------------------------------------------ workers: forks of a zygote


def _comparable_result(result: dict) -> dict:
    """A worker's result without what differs between runs (timings) and with its Arrow blobs decoded."""
    from detector.batch.arrow import decode

    row = {k: v for k, v in result["row"].items() if not k.startswith("seconds_")}
    tables = {t: decode(b).to_pylist() if isinstance(b, bytes) else b for t, b in result["tables"].items()}
    return {"row": row, "tables": tables}


@pytest.mark.slow
def test_a_worker_replaced_after_a_timeout_or_a_crash_is_a_fork_that_works(seeds: Path, tmp_path: Path) -> None:
    """A timeout kills the worker, a segfault kills it too; each time the next document gets a fresh fork of the
    same warm zygote (not a cold start), which checks it exactly as the first worker did."""
    import threading

    import psutil

    from detector.batch.child import Supervisor
    from detector.batch.work import Task

    seed = next(seeds.glob("000_*.txt")).read_bytes()
    (tmp_path / "seed.txt").write_bytes(seed)
    (tmp_path / "huge.txt").write_bytes(seed * 1000)  # minutes of work
    docs = {d.id: d for d in discover([tmp_path])}
    normal, huge = Task(docs["seed.txt"], sha256="s"), Task(docs["huge.txt"], sha256="h")
    sup = Supervisor(None, timeout=2.0, max_memory=None)
    parents, results = [], {}
    try:
        for name, task, timeout in [("first", normal, 120.0), ("timeout", huge, 2.0), ("after timeout", normal, 120.0),
                                    ("crash", huge, 600.0), ("after crash", normal, 120.0)]:
            sup.timeout = timeout
            if name == "crash":  # a segfault in the middle of a document, as a broken PDF library would
                threading.Timer(1.0, lambda: os.kill(sup.proc.pid, signal.SIGSEGV)).start()
            results[name] = sup.run(task)
            if sup.proc is not None:
                parents.append(psutil.Process(sup.proc.pid).ppid())
        zygote = sup.zygote.proc.pid
    finally:
        sup.close()
    assert results["timeout"]["row"]["error_code"] == "timeout"
    assert results["crash"]["row"]["error_code"] == "crash"
    assert "SIGSEGV" in results["crash"]["row"]["error_message"]
    assert results["first"]["row"]["status"] == "ok"
    assert _comparable_result(results["after timeout"]) == _comparable_result(results["first"])
    assert _comparable_result(results["after crash"]) == _comparable_result(results["first"])
    assert sup.started == 3  # the first worker and two replacements …
    assert parents == [zygote] * 3  # … all forks of the one zygote


FRESH_INTERPRETER = """
import json, sys
from detector.batch.walk import discover
from detector.batch.work import Task, run_document
from pathlib import Path
roots, target = [Path(p) for p in json.loads(sys.argv[1])], Path(sys.argv[2])
with target.open("w", encoding="utf-8") as fh:
    for src in discover(roots):
        result = run_document(Task(src, sha256=""))
        tables = {t: b.hex() if isinstance(b, bytes) else b for t, b in result["tables"].items()}
        fh.write(json.dumps({"row": result["row"], "tables": tables}, ensure_ascii=False, default=str) + "\\n")
"""


@pytest.mark.slow
def test_forked_workers_give_what_a_fresh_interpreter_gives(archive, tmp_path: Path) -> None:
    """Workers forked from a warm zygote (copy-on-write, frozen heap) check documents exactly as a plain cold
    interpreter does — as workers did before there was a zygote. Every format, errors included."""
    root, _ = archive
    subset = [root / "docx", root / "pdf", root / "xlsx", root / "corrupt", root / "text" / "0"]
    out = tmp_path / "out"
    scan(ScanOptions(roots=subset, out=out, jobs=2, progress=False))
    target = tmp_path / "fresh.jsonl"
    subprocess.run([sys.executable, "-c", FRESH_INTERPRETER, json.dumps([str(p) for p in subset]), str(target)],
                   cwd=ROOT, check=True, timeout=900)
    fresh = {}
    for line in target.read_text(encoding="utf-8").splitlines():
        result = json.loads(line)
        result["tables"] = {t: bytes.fromhex(b) if t in ("claims", "checks", "findings") and b else b
                            for t, b in result["tables"].items()}
        fresh[result["row"]["doc"]] = _comparable_result(result) | {"sha256": None}
    with Store(out) as store:
        ids = [d.id for d in discover(subset)]
        forked = {}
        for row in store.document_rows(ids):
            blobs = dict(store.db.execute("SELECT tbl, data FROM blobs WHERE doc = ?", (row["doc"],)).fetchall())
            tables = {t: blobs.get(t) for t in ("claims", "checks", "findings")} | {"contract": blobs.get("contract", "")}
            forked[row["doc"]] = _comparable_result({"row": row, "tables": tables}) | {"sha256": None}
    for result in (*fresh.values(), *forked.values()):
        result["row"].pop("sha256", None)
        result["row"] = json.loads(json.dumps(result["row"], ensure_ascii=False, default=str))
    assert len(forked) == len(ids) == 15 + 7 + 10 + 6 + 50
    assert forked == fresh


# ------------------------------------------------------------------------------------------ Dask


@pytest.mark.slow
def test_dask_local_cluster_gives_what_the_process_pool_gives(archive, tmp_path: Path) -> None:
    root, _ = archive
    subset = [root / "docx", root / "xlsx", root / "archive" / "bundle.zip"]
    local = tmp_path / "local"
    dask = tmp_path / "dask"
    scan(ScanOptions(roots=subset, out=local, jobs=2, progress=False))
    scan(ScanOptions(roots=subset, out=dask, jobs=2, engine="dask", progress=False))
    a, b = comparable(local), comparable(dask)
    assert a == b
    assert len(pd.read_parquet(dask / "documents.parquet")) == 15 + 10 + 22 + 5 + 1


# ------------------------------------------------------------------------------------------ small and fast


def test_changed_file_is_rescanned_unchanged_skipped_removed_dropped(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("2023年度收入总计100万元，其中财政拨款60万元，其他收入40万元。", encoding="utf-8")
    (docs / "b.txt").write_text("2023年度支出总计80万元，其中基本支出50万元，项目支出30万元。", encoding="utf-8")
    out = tmp_path / "out"
    first = scan(ScanOptions(roots=[docs], out=out, jobs=1, progress=False))
    assert (first.scanned, first.skipped) == (2, 0)
    (docs / "b.txt").write_text("2023年度支出总计80万元，其中基本支出50万元，项目支出20万元。", encoding="utf-8")
    (docs / "a.txt").unlink()
    (docs / "c.txt").write_text("2023年度收入总计90万元。", encoding="utf-8")
    second = scan(ScanOptions(roots=[docs], out=out, jobs=1, progress=False))
    assert (second.scanned, second.skipped) == (2, 0)
    rows = pd.read_parquet(out / "documents.parquet")
    assert list(rows["doc"]) == ["b.txt", "c.txt"]
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [f["doc"] for f in findings] == ["b.txt"]  # 50 + 20 ≠ 80, found after the edit
    third = scan(ScanOptions(roots=[docs], out=out, jobs=1, progress=False))
    assert (third.scanned, third.skipped) == (0, 2)


def test_a_second_scan_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    from detector.errors import UsageError

    with Store(tmp_path) as _, pytest.raises(UsageError, match="another scan"):
        Store(tmp_path)


def test_store_commits_a_document_whole_and_replaces_it(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.put("a", "s1", "c", {"doc": "a", "status": "ok"},
                  encode_tables({"claims": [{"doc": "a", "n": 1}, {"doc": "a", "n": 2}]}))
        store.put("a", "s2", "c", {"doc": "a", "status": "ok"}, encode_tables({"claims": [{"doc": "a", "n": 3}]}))
        assert store.done() == {"a": ("s2", "c")}
        assert list(store.table_rows("claims", ["a"])) == [{"doc": "a", "n": 3}]
        assert list(store.table_rows("claims", ["b"])) == []


def test_walk_document_per_folder_and_what_is_not_a_document(tmp_path: Path) -> None:
    (tmp_path / "2019" / "省法院").mkdir(parents=True)
    (tmp_path / "2019" / "省法院" / "b-表.pdf").write_bytes(b"%PDF-1.4 x")
    (tmp_path / "2019" / "省法院" / "a-文.pdf").write_bytes(b"%PDF-1.4 y")
    (tmp_path / "2019" / "说明.txt").write_text("x", encoding="utf-8")
    (tmp_path / "2019" / "list.csv").write_text("a,b", encoding="utf-8")
    (tmp_path / "2019" / "scan-no-extension").write_bytes(b"%PDF-1.5 z")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "findings.txt").write_text("ours", encoding="utf-8")
    docs = discover([tmp_path], document_per_folder=True, skip=tmp_path / "out")
    assert [(d.id, [f.basename for f in d.files]) for d in docs] == [
        ("2019/scan-no-extension", ["scan-no-extension"]),
        ("2019/省法院", ["a-文.pdf", "b-表.pdf"]),
        ("2019/说明.txt", ["说明.txt"]),
    ]
    single = discover([tmp_path / "2019" / "省法院"], document_per_folder=True)
    assert [d.id for d in single] == ["省法院"]


def test_walk_zip_limits_are_checked_before_decompressing(tmp_path: Path) -> None:
    bomb = _zip({"a.txt": b"1" * (5 << 20)})
    (tmp_path / "bomb.zip").write_bytes(bomb)
    many = _zip({f"m{i}.txt": f"第{i}份".encode() for i in range(5)})
    (tmp_path / "many.zip").write_bytes(many)
    (tmp_path / "ok.zip").write_bytes(_zip({"x/一.txt": "2023年".encode(), "x/二.txt": "2024年".encode()}))
    docs = discover([tmp_path], limits=ZipLimits(max_members=4))
    by_id = {d.id: d for d in docs}
    assert by_id["bomb.zip/a.txt"].error[0] == "zip_limit"
    assert by_id["many.zip"].error[0] == "zip_limit"
    assert by_id["ok.zip/x/一.txt"].files[0].read() == "2023年".encode()
    assert by_id["ok.zip/x/一.txt"].error is None
    grouped = discover([tmp_path / "ok.zip"], document_per_folder=True)
    assert [(d.id, len(d.files)) for d in grouped] == [("ok.zip/x", 2)]


def test_walk_decodes_gbk_member_names_of_windows_zips(tmp_path: Path) -> None:
    # zipfile only writes ASCII or flagged UTF-8 names; a Windows zip has raw GBK bytes and no flag. Write an
    # ASCII placeholder of the same length and put the GBK bytes in its place.
    gbk = "决算/部门决算.txt".encode("gbk")
    placeholder = b"P" * (len(gbk) - 4) + b".txt"
    data = _zip({placeholder.decode(): "内容".encode()}).replace(placeholder, gbk)
    (tmp_path / "win.zip").write_bytes(data)
    (doc,) = discover([tmp_path])
    assert doc.id == "win.zip/决算/部门决算.txt"
    assert doc.files[0].read() == "内容".encode()


def test_help_teaches() -> None:
    out = subprocess.run([sys.executable, "-m", "detector.cli", "scan", "--help"], cwd=ROOT, capture_output=True,
                         text=True, env=dict(os.environ, COLUMNS="120"))
    assert out.returncode == 0, out.stderr
    for word in ("--document-per-folder", "--timeout", "--max-memory", "--engine", "resume", "duckdb"):
        assert word in out.stdout


@pytest.mark.slow
def test_a_timed_out_document_is_retried_when_the_timeout_is_raised(seeds: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "seed.txt").write_bytes(next(seeds.glob("000_*.txt")).read_bytes())
    out = tmp_path / "out"
    # 1 ms: a real disclosure needs tens of milliseconds, so the supervisor's clock runs out first.
    first = scan(ScanOptions(roots=[docs], out=out, jobs=1, timeout=0.001, progress=False))
    assert first.statuses == {"error": 1}
    assert pd.read_parquet(out / "documents.parquet")["error_code"].tolist() == ["timeout"]
    same = scan(ScanOptions(roots=[docs], out=out, jobs=1, timeout=0.001, progress=False))
    assert (same.scanned, same.skipped) == (0, 1)  # a timeout is a result under the same limits
    raised = scan(ScanOptions(roots=[docs], out=out, jobs=1, timeout=120, progress=False))
    assert (raised.scanned, raised.statuses) == (1, {"ok": 1})


# ------------------------------------------------------------------------------------------ the hash cache


def test_an_edit_keeping_size_and_mtime_is_rescanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import detector.batch.scan as scan_module

    monkeypatch.setattr(scan_module, "RACY_SECONDS", 0.0)  # the files are seconds old: trust their stamps now
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("2023年度收入总计100万元，其中财政拨款60万元，其他收入40万元。", encoding="utf-8")
    b = docs / "b.txt"
    b.write_text("2023年度支出总计80万元，其中基本支出50万元，项目支出30万元。", encoding="utf-8")
    out = tmp_path / "out"
    assert scan(ScanOptions(roots=[docs], out=out, jobs=1, progress=False)).scanned == 2

    # Unchanged files are not even read: their hashes come from the cache.
    hashed: list[str] = []
    real = scan_module.document_sha256
    monkeypatch.setattr(scan_module, "document_sha256", lambda files, data: hashed.append(files[0].name) or real(files, data))
    again = scan(ScanOptions(roots=[docs], out=out, jobs=1, progress=False))
    assert (again.scanned, again.skipped, hashed) == (0, 2, [])

    # One digit corrected, the modification time put back (cp -p, rsync -t, unzip do that): same size, same mtime.
    before = b.stat()
    b.write_text("2023年度支出总计80万元，其中基本支出50万元，项目支出20万元。", encoding="utf-8")
    os.utime(b, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = b.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    edited = scan(ScanOptions(roots=[docs], out=out, jobs=1, progress=False))
    assert (edited.scanned, edited.skipped, hashed) == (1, 1, ["b.txt"])  # the ctime gave it away
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [f["doc"] for f in findings] == ["b.txt"]  # 50 + 20 ≠ 80: the edit was checked

    hashed.clear()
    rehashed = scan(ScanOptions(roots=[docs], out=out, jobs=1, progress=False, rehash=True))
    assert (rehashed.scanned, sorted(hashed)) == (0, ["a.txt", "b.txt"])  # --rehash reads everything, finds no change


def test_a_file_changed_moments_ago_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import detector.batch.scan as scan_module

    monkeypatch.setattr(scan_module, "RACY_SECONDS", 3600.0)  # every file here is "moments" old
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("2023年度收入总计100万元。", encoding="utf-8")
    scan(ScanOptions(roots=[tmp_path / "docs"], out=tmp_path / "out", jobs=1, progress=False))
    with Store(tmp_path / "out") as store:
        assert store.db.execute("SELECT COUNT(*) FROM hashes").fetchone()[0] == 0
        assert len(store.done()) == 1


# ------------------------------------------------------------------------------------------ streaming outputs


def _synthetic_store(out: Path, docs: int, rows: int) -> list[str]:
    """A store of ``docs`` documents with ``rows`` claims each, as workers would have committed them."""
    ids = [f"d{i:05d}" for i in range(docs)]
    with Store(out) as store:
        for i, doc in enumerate(ids):
            claims = [{"doc": doc, "claim": n, "value": n * 1.5, "sentence": f"第{n}项支出{n}万元，" * 6,
                       "page": None if i % 2 else n} for n in range(rows)]
            store.put(doc, f"sha{i}", "c", {"doc": doc, "status": "ok", "claims": rows, "path": [f"{doc}.txt"]},
                      encode_tables({"claims": claims}))
    return ids


def test_outputs_are_written_in_row_groups_with_one_schema(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from detector.batch.store import materialise

    ids = _synthetic_store(tmp_path, docs=30, rows=20)
    with Store(tmp_path) as store:
        store.put("mixed", "s", "c", {"doc": "mixed", "status": "error", "error_code": "crash", "year": "2023"},
                  encode_tables({"claims": [{"doc": "mixed", "claim": 0, "value": "n/a", "page": ["p1", "p2"]}]}))
        materialise(store, [*ids, "mixed"], batch_rows=50)
    claims = pq.ParquetFile(tmp_path / "claims.parquet")
    assert claims.metadata.num_rows == 30 * 20 + 1
    assert claims.metadata.num_row_groups >= 10  # written ~50 rows (whole documents) at a time
    table = claims.read()
    assert str(table.schema.field("value").type) == "large_string"  # a number in one document, text in another
    assert table.column("value").to_pylist()[:2] == ["0.0", "1.5"]
    assert table.column("page").to_pylist()[-1] == '["p1","p2"]'  # a list where others have numbers: JSON text
    docs = pq.read_table(tmp_path / "documents.parquet")
    assert docs.column("year").to_pylist()[-1] == 2023  # integer columns stay integers
    assert docs.column("path").to_pylist()[0] == ["d00000.txt"]
    assert {"unit", "kind", "findings_error"} <= set(docs.column_names)  # the documented columns are always there


@pytest.mark.slow
def test_writing_the_outputs_takes_bounded_memory_as_documents_grow(tmp_path: Path) -> None:
    """Peak memory of writing the outputs from a store of 150 and of 1500 documents (300 claims each): the
    tenfold larger store (≈ 450,000 claims) must not need more than a few more megabytes."""
    script = (
        "import resource, sys, psutil\n"
        "from detector.batch.store import Store, materialise\n"
        "store = Store(sys.argv[1]); ids = [d for (d,) in store.db.execute('SELECT doc FROM documents')]\n"
        "import pyarrow as pa; pa.array([None])\n"  # imports done before the baseline
        "base = psutil.Process().memory_info().rss\n"
        "materialise(store, ids, batch_rows=20000)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base) / 2**20)\n"
    )
    grown = {}
    for docs in (150, 1500):
        out = tmp_path / f"s{docs}"
        _synthetic_store(out, docs=docs, rows=300)
        run = subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT, capture_output=True, text=True,
                             env=dict(os.environ, ARROW_DEFAULT_MEMORY_POOL="system"), check=True)
        grown[docs] = float(run.stdout)
        assert pd.read_parquet(out / "claims.parquet", columns=["claim"]).shape[0] == docs * 300
    claims_mb = (tmp_path / "s1500" / "claims.parquet").stat().st_size / 2**20
    assert grown[1500] < grown[150] + 40, (grown, claims_mb)


# ------------------------------------------------------------------------------------------ README, progress


def test_readme_query_one_liners_run_on_a_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    duckdb = pytest.importorskip("duckdb")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sql = re.search(r'^duckdb -c "(.+)"$', readme, re.M).group(1)
    pandas_line = re.search(r"^(import pandas as pd; .+)$", readme, re.M).group(1)
    out = tmp_path / "out"
    scan(ScanOptions(roots=[ROOT / "corpus" / "samples"], out=out, jobs=1, progress=False))
    monkeypatch.chdir(tmp_path)  # the one-liners name out/…
    rows = duckdb.sql(sql).fetchall()
    docs = pd.read_parquet(out / "documents.parquet")
    assert sum(r[-2] for r in rows) == len(docs[docs.status == "ok"])  # every document counted, by kind and year
    assert sum(r[-1] for r in rows) == docs["findings_error"].sum()
    namespace: dict = {}
    exec(pandas_line.replace("import pandas as pd; ", "import pandas as pd; result = "), namespace)  # noqa: S102
    result = namespace["result"]
    assert result.to_numpy().sum() == len(pd.read_parquet(out / "checks.parquet"))


def test_progress_bar_shows_documents_per_second_and_eta() -> None:
    from rich.console import Console

    from detector.batch.progress import ScanProgress

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system=None, width=160)
    with ScanProgress(10, enabled=True, console=console) as bar:
        bar.phase("检查 / checking", done=2)
        for i in range(4):
            time.sleep(0.05)
            bar.advance(error=i == 0)
        bar.progress.refresh()
        text = buf.getvalue()
    assert "6/10" in text
    assert re.search(r"\d+\.\d 份/s docs/s", text)
    assert "ETA" in text and re.search(r"ETA\s+\d+:\d\d:\d\d", text)
    assert "1 error" in text


def test_check_on_many_files_shows_a_progress_bar_on_a_terminal_and_keeps_stdout_clean(tmp_path: Path) -> None:
    import pty

    docs = tmp_path / "docs"
    docs.mkdir()
    for i, total in enumerate((80, 90, 100)):
        (docs / f"d{i}.txt").write_text(f"2023年度支出总计{total}万元，其中基本支出50万元，项目支出20万元。", encoding="utf-8")
    master, slave = pty.openpty()  # stderr is a terminal, stdout a pipe (gouji check … > findings.jsonl)
    proc = subprocess.Popen([sys.executable, "-m", "detector.cli", "check", str(docs), "--format", "jsonl"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=slave, env=dict(os.environ, COLUMNS="150"))
    os.close(slave)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        terminal += chunk
    stdout = proc.stdout.read().decode()
    assert proc.wait() == 0
    os.close(master)
    findings = [json.loads(line) for line in stdout.splitlines()]
    assert sorted({f["doc"] for f in findings}) == ["d0.txt", "d1.txt", "d2.txt"]  # 50 + 20 ≠ 80, 90, 100
    shown = terminal.decode("utf-8", "replace")
    assert "docs/s" in shown and "ETA" in shown and "/3" in shown
    assert '"fingerprint"' not in shown  # the findings went to stdout only
    plain = subprocess.run([sys.executable, "-m", "detector.cli", "check", str(docs), "--format", "jsonl"], cwd=ROOT,
                           capture_output=True, text=True)
    assert plain.stderr == "" and plain.stdout == stdout  # no terminal, no bar


def test_zip_cache_reads_members_of_open_archives_and_notices_a_rewritten_one(tmp_path: Path) -> None:
    from detector.batch.walk import ZipCache

    inner = _zip({f"in{i}.txt": f"内层{i}".encode() for i in range(3)})
    path = tmp_path / "a.zip"
    path.write_bytes(_zip({**{f"m{i:03d}.txt": f"第{i}份".encode() for i in range(300)}, "nested.zip": inner}))
    docs = discover([path])
    zips = ZipCache(size=2)
    got = {d.id: d.files[0].read(None, zips) for d in docs}
    assert got["a.zip/m123.txt"] == "第123份".encode()
    assert got["a.zip/nested.zip/in2.txt"] == "内层2".encode()
    assert got == {d.id: d.files[0].read() for d in docs}  # the same bytes as opening the archive each time
    path.write_bytes(_zip({"m123.txt": "改过的".encode()}))  # replaced on disk
    (ref,) = [d.files[0] for d in discover([path]) if d.id == "a.zip/m123.txt"]
    assert ref.read(None, zips) == "改过的".encode()
    zips.close()


def test_outputs_half_written_by_a_killed_scan_are_cleared(tmp_path: Path) -> None:
    (tmp_path / ".documents.parquet.k2j3.tmp").write_bytes(b"PAR1 half")
    (tmp_path / ".findings.jsonl.x9.tmp").write_text('{"doc": ', encoding="utf-8")
    (tmp_path / ".notes.tmp").write_text("someone else's", encoding="utf-8")
    with Store(tmp_path):
        pass
    assert sorted(p.name for p in tmp_path.glob(".*.tmp")) == [".notes.tmp"]
