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
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from detector.batch.scan import ScanOptions, scan
from detector.batch.store import Store
from detector.batch.walk import ZipLimits, discover

ROOT = Path(__file__).resolve().parents[1]
SCAN_TIMEOUT = 4.0  # seconds; ordinary documents take well under 0.5 s, the slow one minutes


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
def test_a_rerun_skips_everything_and_a_changed_file_is_rescanned(archive, full_scan: Path, tmp_path: Path) -> None:
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
    assert first.scanned == 0 or set(first.statuses) == {"ok", "error"}
    # Errors from the walk (bombs, nesting) and unreadable inputs are re-recorded, not re-run; the rest is skipped.
    assert first.skipped >= first.documents - 12
    assert comparable(out) == comparable(full_scan)


# ------------------------------------------------------------------------------------------ kill and resume


def _committed(out: Path) -> int:
    try:
        with sqlite3.connect(f"file:{out / 'scan.sqlite'}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_mid_scan_then_resume_gives_the_same_outputs(archive, full_scan: Path, tmp_path: Path) -> None:
    root, expected = archive
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "detector.cli", "scan", str(root), "--out", str(out), "--jobs", "2",
           "--timeout", str(SCAN_TIMEOUT), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _committed(out) < 40 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    import psutil

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
    resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert comparable(out) == comparable(full_scan)
    with Store(out) as store:
        assert len(store.done()) == len(expected)


# ------------------------------------------------------------------------------------------ hostile documents


@pytest.mark.slow
def test_a_worker_out_of_memory_is_an_error_and_the_scan_goes_on(archive, tmp_path: Path) -> None:
    root, _ = archive
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "huge.txt").write_bytes((root / "slow" / "huge.txt").read_bytes() * 5)  # 130 MB, under the 200 MB cap
    for i in range(3):
        (docs / f"small{i}.txt").write_bytes((root / "text" / "0" / f"doc{i:03d}.txt").read_bytes())
    # The cap: what a warm worker holds at rest, plus 150 MB: plenty for a 30 KB disclosure, not for 130 MB of text.
    import psutil

    from detector.batch.child import Supervisor

    probe = Supervisor(None, 10, None)
    probe._start()
    resting = psutil.Process(probe.proc.pid).memory_info().vms
    probe.close()
    out = tmp_path / "out"
    summary = scan(ScanOptions(roots=[docs], out=out, jobs=1, timeout=120, max_memory=resting + 150 * 2**20,
                               progress=False))
    rows = pd.read_parquet(out / "documents.parquet").set_index("doc")
    assert rows.loc["huge.txt", "status"] == "error"
    assert rows.loc["huge.txt", "error_code"] in ("out_of_memory", "crash")
    assert rows.loc["huge.txt", "seconds_total"] < 60  # stopped by the limit, not by the timeout
    assert (rows.drop("huge.txt")["status"] == "ok").all()  # the next documents got a fresh worker
    assert summary.statuses == {"ok": 3, "error": 1}


def test_max_memory_below_a_resting_worker_is_a_usage_error(tmp_path: Path) -> None:
    from detector.errors import UsageError

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("2023年度收入总计100万元。", encoding="utf-8")
    with pytest.raises(UsageError, match="max-memory"):
        scan(ScanOptions(roots=[tmp_path / "docs"], out=tmp_path / "out", jobs=1, max_memory=8 * 2**20,
                         progress=False))


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
        store.put("a", "s1", "c", {"doc": "a", "status": "ok"}, {"claims": [{"doc": "a", "n": 1}, {"doc": "a", "n": 2}]})
        store.put("a", "s2", "c", {"doc": "a", "status": "ok"}, {"claims": [{"doc": "a", "n": 3}]})
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
