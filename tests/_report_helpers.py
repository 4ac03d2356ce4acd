"""Helpers for the report and review tests: real findings from the real ``gouji check``, a review server in a
thread, and headless Chromium. Kept apart from conftest.py because only these tests use them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from detector.io import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "corpus" / "samples"
ARTIFACTS = ROOT / "tests" / "artifacts"
PLANTED = "juesuan_2023_planted.txt"
CLEAN = "yusuan_2024_clean.txt"
SCRIPT_MARK = "<script>window.__gouji_pwned = 1</script>"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def run_check(paths: list[Path], out: Path) -> Path:
    """Run the real ``gouji check PATH… --format jsonl`` and write its stdout to ``out`` — the way an auditor
    makes RESULTS without a scan. Exit status 1 would only say findings were found."""
    proc = subprocess.run([sys.executable, "-m", "detector.cli", "check", *map(str, paths), "--format", "jsonl"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    write_text_atomic(out, proc.stdout)
    return out


def run_scan(root: Path, out: Path) -> Path:
    """Run the real ``gouji scan ROOT --out DIR`` (from the test's own folder, so relative paths in
    documents.parquet do not resolve by accident) and return DIR."""
    proc = subprocess.run([sys.executable, "-m", "detector.cli", "scan", str(root), "--out", str(out)],
                          capture_output=True, text=True, cwd=out.parent, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert (out / "findings.jsonl").exists(), proc.stderr[-2000:]
    return out


def check_samples(root: Path) -> tuple[Path, Path, list[dict]]:
    """(findings.jsonl, source folder, findings) of the real ``gouji check`` on a copy of both samples."""
    import json

    src = copy_samples(root / "src")
    jsonl = run_check(sorted(src.glob("*.txt")), root / "findings.jsonl")
    findings = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(findings) >= 3, "the planted sample has four defects"
    return jsonl, src, findings


def copy_samples(dest: Path, script: bool = False) -> Path:
    """The bundled samples in a folder of their own (tests edit them); with ``script`` a paragraph that holds a
    planted defect also carries a script tag, as a hostile or careless document might."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in (PLANTED, CLEAN):
        shutil.copy(SAMPLES / name, dest / name)
    if script:
        path = dest / PLANTED
        lines = path.read_text(encoding="utf-8").split("\n")
        i = next(k for k, line in enumerate(lines) if "占6.12%" in line)
        lines[i] = lines[i] + SCRIPT_MARK
        path.write_text("\n".join(lines), encoding="utf-8")
    return dest


def edit_sample(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@contextmanager
def review_server(results: Path, db_path: Path, source: Path | None = None,
                  ranker: Path | None = None) -> Iterator[str]:
    """A review app on a free loopback port in a daemon thread; yields its base URL."""
    from detector.review.app import ReviewApp, create_server
    from detector.review.db import ReviewDB

    app = ReviewApp(results, ReviewDB(db_path), source=source, ranker=ranker)
    server = create_server(app, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def chromium_path() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("chromium not found (/usr/bin/chromium): `make browser` installs the Debian package")
    raise AssertionError("unreachable")


@contextmanager
def browser_page() -> Iterator[object]:
    """A fresh page in headless Chromium; console errors are collected on ``page.errors``."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    exe = chromium_path()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.errors = []
            page.on("pageerror", lambda exc: page.errors.append(str(exc)))
            yield page
        finally:
            browser.close()
