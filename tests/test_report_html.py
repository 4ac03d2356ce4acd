"""The single-file HTML report, built from findings of the real pipeline on the bundled samples."""

from __future__ import annotations

import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _report_helpers import (
    ARTIFACTS,
    PLANTED,
    ROOT,
    SCRIPT_MARK,
    browser_page,
    copy_samples,
    run_check,
    run_scan,
)

from detector.cli import main
from detector.model import Cell, Table
from detector.report.html import build_html
from detector.report.render import table_html
from detector.report.results import load_results
from detector.report.rule_pages import anchor
from detector.review.db import ReviewDB, default_db_path

HOSTILE_COMMENT = '<img src=x onerror="window.__gouji_pwned=1"> 已与原表核对'


@pytest.fixture(scope="module")
def results_jsonl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(findings.jsonl, source root) of ``gouji check`` on the samples, one paragraph carrying a script tag."""
    root = tmp_path_factory.mktemp("report")
    src = copy_samples(root / "src", script=True)
    jsonl = run_check(sorted(src.glob("*.txt")), root / "findings.jsonl")
    return jsonl, src


def _num(text: str) -> str:
    return text.replace(",", "").replace("%", "")


class _Cards(HTMLParser):
    """Collects, per finding card, its <mark> texts, its links, and every id/href/src of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, list[str]] = {}
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.scripts = 0
        self._card: str | None = None
        self._depth = 0
        self._in_mark = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if a.get("href"):
            self.hrefs.append(a["href"] or "")
        if a.get("src"):
            self.srcs.append(a["src"] or "")
        if tag == "script":
            self.scripts += 1
        if tag == "article" and "finding" in (a.get("class") or ""):
            self._card, self._depth = a["data-fingerprint"], 0
            self.cards[self._card] = []
        if self._card and tag == "article":
            self._depth += 1
        if self._card and tag == "mark":
            self._in_mark = True
            self.cards[self._card].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark = False
        if self._card and tag == "article":
            self._depth -= 1
            if self._depth == 0:
                self._card = None

    def handle_data(self, data: str) -> None:
        if self._in_mark and self._card:
            self.cards[self._card][-1] += data


def test_every_finding_has_its_numbers_marked_and_its_rule_linked(results_jsonl: tuple[Path, Path]) -> None:
    jsonl, src = results_jsonl
    findings = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert findings, "the planted sample must produce findings"
    html = build_html(load_results(jsonl, src))
    parser = _Cards()
    parser.feed(html)
    assert set(parser.cards) == {f["fingerprint"] for f in findings}
    for f in findings:
        marks = parser.cards[f["fingerprint"]]
        assert marks, f"no highlight for {f['rule']}: {f['message']}"
        marked = {_num(n) for m in marks for n in re.findall(r"\d[\d,]*(?:\.\d+)?", m)}
        evidence = " ".join(_num(e["text"]) for e in f["evidence"])
        for n in map(_num, re.findall(r"\d[\d,]*(?:\.\d+)?", f["stated"])):
            if re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", evidence):
                assert n in marked, (f["stated"], marks)  # a stated number in the sentence is highlighted
        assert f"#{anchor(f['rule'])}" in parser.hrefs
    assert "规则说明" in html
    for href in parser.hrefs:
        assert href.startswith("#") and href[1:] in parser.ids, f"dangling or external link {href}"
    assert parser.srcs == [], "a self-contained report loads nothing"
    assert parser.scripts == 1


def test_report_is_self_contained_printable_and_chinese(results_jsonl: tuple[Path, Path]) -> None:
    html = build_html(load_results(*results_jsonl))
    assert "@media print" in html
    for font in ('"Noto Sans CJK SC"', '"Source Han Sans SC"', '"PingFang SC"', '"Microsoft YaHei"', "sans-serif"):
        assert font in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "Content-Security-Policy" in html and "script-src 'sha256-" in html


def test_document_script_stays_text(results_jsonl: tuple[Path, Path]) -> None:
    html = build_html(load_results(*results_jsonl))
    assert SCRIPT_MARK not in html
    assert "&lt;script&gt;window.__gouji_pwned = 1&lt;/script&gt;" in html


def test_report_without_source_shows_evidence_only(results_jsonl: tuple[Path, Path], tmp_path: Path) -> None:
    jsonl, _ = results_jsonl
    html = build_html(load_results(jsonl))  # no --source: the documents cannot be re-ingested
    assert "原文不可用" in html
    assert html.count("<mark>") > 0


def test_cli_writes_html_and_xlsx(results_jsonl: tuple[Path, Path], tmp_path: Path) -> None:
    jsonl, src = results_jsonl
    out_html, out_xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    assert main(["report", str(jsonl), "--source", str(src), "--html", str(out_html), "--xlsx", str(out_xlsx)]) == 0
    assert out_html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert out_xlsx.read_bytes()[:2] == b"PK"
    assert main(["report", str(jsonl)]) == 2  # neither --html nor --xlsx: a usage error, not a traceback


@pytest.mark.browser
def test_report_in_chromium(results_jsonl: tuple[Path, Path], tmp_path: Path) -> None:
    jsonl, src = results_jsonl
    n = sum(1 for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip())
    out = tmp_path / "report.html"
    findings = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines() if x.strip()]
    db = ReviewDB(tmp_path / "review.sqlite")
    db.sync("r", findings)
    db.set_verdict(findings[0]["fingerprint"], "confirmed", HOSTILE_COMMENT)
    assert main(["report", str(jsonl), "--source", str(src), "--html", str(out), "--db", str(db.path)]) == 0
    with browser_page() as page:
        page.goto(out.as_uri())
        cards = page.locator("article.finding")
        assert cards.count() == n
        for i in range(n):
            assert cards.nth(i).locator("mark").count() >= 1, cards.nth(i).inner_text()
            assert cards.nth(i).locator("dl.arith").count() == 1
        # the review database's verdict is shown on its card, the comment as text
        note = page.locator(f'article.finding[data-fingerprint="{findings[0]["fingerprint"]}"] .verdict-note')
        assert note.get_attribute("data-verdict") == "confirmed" and HOSTILE_COMMENT in note.inner_text()
        assert page.locator('.verdict-note[data-verdict=""]').count() == n - 1  # the others: unreviewed
        assert page.evaluate("typeof window.__gouji_pwned") == "undefined"
        assert page.locator("script").count() == 1 and page.locator("img").count() == 0
        assert SCRIPT_MARK in page.locator("body").inner_text()
        assert page.errors == []
        # the one script works: unticking a severity hides its cards
        sev = page.locator("article.finding").first.get_attribute("data-severity")
        page.locator(f'.filters input[value="{sev}"]').uncheck()
        assert page.locator(f'article.finding[data-severity="{sev}"]').first.is_hidden()
        page.locator(f'.filters input[value="{sev}"]').check()
        # a rule link lands on its section
        link = page.locator("a.rule-link").first
        target = link.get_attribute("href")
        link.click()
        assert page.evaluate("location.hash") == target
        assert page.locator(f'[id="{target[1:]}"]').is_visible()
        page.emulate_media(media="print")
        assert page.locator(".filters").is_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        page.emulate_media(media="screen")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        page.pdf(path=str(ARTIFACTS / "report.pdf"))
    assert (ARTIFACTS / "report.pdf").stat().st_size > 1000
    assert PLANTED in out.read_text(encoding="utf-8")


def test_report_from_a_scan_folder(tmp_path: Path) -> None:
    """A `gouji scan` folder: every document listed (the clean one too) with its checks by outcome."""
    import pandas as pd

    src = copy_samples(tmp_path / "src")
    out = run_scan(src, tmp_path / "scan")
    results = load_results(out)
    documents = pd.read_parquet(out / "documents.parquet")
    checks = pd.read_parquet(out / "checks.parquet")
    assert results.has_checks and set(results.documents) == set(documents["doc"])
    assert all(info.paths and info.paths[0].exists() for info in results.documents.values())
    html = build_html(results)
    for doc in documents["doc"]:
        row = re.search(rf">{re.escape(doc)}</a></td><td>ok</td>((?:<td>\d+</td>)+)</tr>", html)
        assert row, doc
        counts = [int(n) for n in re.findall(r"\d+", row.group(1))]
        per_doc = checks[checks["doc"] == doc]["status"].value_counts()
        assert counts[3:] == [int(per_doc.get(o, 0)) for o in ("pass", "fail", "unverifiable")]
    assert html.count('<article class="finding') == len(results.findings)
    assert "<mark>" in html and "原文不可用" not in html


def test_report_shows_the_verdicts_of_the_review_db_beside_a_scan(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan made from its own folder with a relative root; the report, made from another folder, still finds
    the sources (documents.parquet holds absolute paths) and shows the verdicts of the scan's review.sqlite."""
    import pandas as pd

    copy_samples(tmp_path / "src")
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "src", "--out", "scan", "-q"]) in (0, 1)
    monkeypatch.chdir(ROOT)
    out = tmp_path / "scan"
    paths = [Path(p) for ps in pd.read_parquet(out / "documents.parquet")["path"] for p in ps]
    assert paths and all(p.is_absolute() and p.is_file() for p in paths)
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert len(findings) >= 2
    html_out = tmp_path / "report.html"
    assert main(["report", str(out), "--html", str(html_out)]) == 0
    assert 'class="verdict-note' not in html_out.read_text(encoding="utf-8")  # no review database: no verdicts

    db = ReviewDB(default_db_path(out))
    db.sync(load_results(out).key, findings)
    confirmed, dismissed = findings[0]["fingerprint"], findings[1]["fingerprint"]
    db.set_verdict(confirmed, "confirmed", HOSTILE_COMMENT)
    db.set_verdict(dismissed, "dismissed", "口径不同，不是错误")
    assert main(["report", str(out), "--html", str(html_out)]) == 0
    html = html_out.read_text(encoding="utf-8")
    assert "原文不可用" not in html  # the sources were found from another folder
    notes = {fp: v for v, fp in re.findall(r'<article data-verdict="(\w*)" class="finding[^"]*" id="f-(\w+)"', html)}
    assert set(notes) == {f["fingerprint"] for f in findings}
    assert notes[confirmed] == "confirmed" and notes[dismissed] == "dismissed"
    assert sum(1 for v in notes.values() if not v) == len(findings) - 2
    assert HOSTILE_COMMENT not in html and escape(HOSTILE_COMMENT) in html
    assert "口径不同，不是错误" in html and "已审 reviewed 2 / " in html
    foot = re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0)
    assert [int(n) for n in re.findall(r"<td>(\d+)</td>", foot)][-4:] == [1, 1, 0, len(findings) - 2]
    assert main(["report", str(out), "--html", str(html_out), "--db", str(tmp_path / "none.sqlite")]) == 2


@pytest.mark.slow
def test_report_on_the_seeds(seeds: Path, tmp_path: Path) -> None:
    """The five founding documents: every finding of the real pipeline shows its numbers highlighted in its
    own sentence or table cell, re-ingested from the source."""
    jsonl = run_check(sorted(seeds.glob("*.txt")), tmp_path / "seeds.jsonl")
    findings = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert findings
    html = build_html(load_results(jsonl, seeds))
    parser = _Cards()
    parser.feed(html)
    assert set(parser.cards) == {f["fingerprint"] for f in findings}
    assert all(parser.cards.values()), [fp for fp, marks in parser.cards.items() if not marks]
    assert "原文不可用" not in html
    pattern = re.compile(r'<article [^>]*data-fingerprint="(\w+)".*?</article>', re.S)
    cards = {m.group(1): m.group(0) for m in pattern.finditer(html)}
    for f in findings:
        if any(e.get("cell") for e in f["evidence"]):
            assert '<td class="hit">' in cards[f["fingerprint"]], f["message"]  # the cell shown in its table


def test_merged_cells_keep_the_grid_aligned() -> None:
    """A header merged over two columns spans them; positions covered from above stay empty cells."""
    grid = [["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"], ["合计", "107.54", "合计", "107.54"]]
    rows = [[Cell(r, c, t, merged=(r == 0 and c in (1, 3))) for c, t in enumerate(row)] for r, row in enumerate(grid)]
    html, marks = table_html(Table(index=0, rows=rows, title="收支总表"), (2, 3), ["107.54"])
    assert '<td colspan="2">收入</td><td colspan="2">支出</td>' in html
    assert '<td>合计</td><td>107.54</td><td>合计</td><td class="hit"><mark>107.54</mark></td>' in html
    assert marks == 1
