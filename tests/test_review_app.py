"""The review app over real HTTP (no browser): loopback by default, path traversal, CSRF, Origin, Host, CSP,
escaping of document text — on findings of the real pipeline."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _report_helpers import (
    PLANTED,
    ROOT,
    SCRIPT_MARK,
    copy_samples,
    edit_sample,
    review_server,
    run_check,
    run_scan,
)
from test_report_rules import engine_rules

from detector.cli import build_parser
from detector.report.rule_pages import FIELDS
from detector.review.app import ReviewApp, create_server
from detector.review.db import ReviewDB, default_db_path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("app")
    src = copy_samples(root / "src", script=True)
    return run_check([src / PLANTED], root / "findings.jsonl"), src


@pytest.fixture()
def server(setup: tuple[Path, Path], tmp_path: Path):
    jsonl, src = setup
    with review_server(jsonl, tmp_path / "review.sqlite", source=src) as url:
        yield url


def request(url: str, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """A raw request: http.client leaves the path as given (no ../ normalisation, unlike a browser)."""
    parts = urlsplit(url)
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        con.request(method, path, body=body, headers=headers or {})
        resp = con.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode("utf-8", "replace")
    finally:
        con.close()


def session(url: str) -> tuple[str, str, str]:
    """(cookie header, CSRF token, page) of a fresh browser session."""
    status, headers, page = request(url, "GET", "/")
    assert status == 200
    cookie = headers["set-cookie"].split(";")[0]
    token = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page).group(1)
    return cookie, token, page


def fingerprints(page: str) -> list[str]:
    return re.findall(r'data-fingerprint="([0-9a-f]+)"', page)


def post_verdict(url: str, fp: str, cookie: str | None, token: str | None, origin: str | None = "same",
                 verdict: str = "confirmed", content_type: str = "application/json") -> int:
    headers = {"Content-Type": content_type}
    if cookie:
        headers["Cookie"] = cookie
    if token:
        headers["X-CSRF-Token"] = token
    if origin == "same":
        headers["Origin"] = url
    elif origin:
        headers["Origin"] = origin
    body = json.dumps({"fingerprint": fp, "verdict": verdict, "comment": "c"}).encode()
    return request(url, "POST", "/api/verdict", body, headers)[0]


def test_binds_loopback_by_default(setup: tuple[Path, Path], tmp_path: Path) -> None:
    args = build_parser().parse_args(["review", str(setup[0])])
    assert args.host == "127.0.0.1"
    app = ReviewApp(setup[0], ReviewDB(tmp_path / "r.sqlite"), source=setup[1])
    server = create_server(app, port=0, quiet=True)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_path_traversal_is_refused(server: str) -> None:
    for path in ("/static/../../../../etc/passwd", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
                 "/static/../db.py", "/static/%2e%2e/app.py", "/doc?id=../../../../etc/passwd",
                 "/doc?id=%2Fetc%2Fpasswd", "/doc?id=..%2Ffindings.jsonl", "/rules/..%2F..%2Fetc%2Fpasswd"):
        status, _, body = request(server, "GET", path)
        assert status in (403, 404), path
        assert "root:" not in body and "import" not in body, path
    assert request(server, "GET", "/static/app.js")[0] == 200


def test_post_needs_csrf_token_session_and_origin(server: str) -> None:
    cookie, token, page = session(server)
    fp = fingerprints(page)[0]
    assert post_verdict(server, fp, None, None) == 403  # nothing
    assert post_verdict(server, fp, cookie, None) == 403  # cookie without token
    assert post_verdict(server, fp, None, token) == 403  # token without its cookie
    assert post_verdict(server, fp, cookie, "0" * 64) == 403  # wrong token
    other_cookie, other_token, _ = session(server)
    assert post_verdict(server, fp, cookie, other_token) == 403  # another session's token
    assert post_verdict(server, fp, cookie, token, origin="http://evil.example") == 403
    assert post_verdict(server, fp, cookie, token, content_type="application/x-www-form-urlencoded") == 415
    assert post_verdict(server, fp, cookie, token, verdict="maybe") == 400
    assert post_verdict(server, "f" * 20, cookie, token) == 404
    _, _, page = request(server, "GET", "/", headers={"Cookie": cookie})
    assert 'data-verdict="confirmed"' not in page  # none of the refused requests changed anything
    assert post_verdict(server, fp, cookie, token) == 200
    assert post_verdict(server, fp, other_cookie, other_token, origin=None) == 200  # no Origin (curl) is fine
    _, _, page = request(server, "GET", "/", headers={"Cookie": cookie})
    assert re.search(rf'data-verdict="confirmed"[^>]*data-fingerprint="{fp}"', page)


def test_cookie_is_strict_and_every_response_has_csp(server: str) -> None:
    status, headers, _ = request(server, "GET", "/")
    assert "SameSite=Strict" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]
    for path in ("/", "/static/app.js", "/rules", "/nope", f"/doc?id={PLANTED}"):
        _, headers, _ = request(server, "GET", path)
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"


def test_foreign_host_header_is_refused(server: str) -> None:
    port = urlsplit(server).port
    assert request(server, "GET", "/", headers={"Host": f"attacker.example:{port}"})[0] == 403
    assert request(server, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200


def test_document_text_is_escaped(server: str) -> None:
    _, _, queue = request(server, "GET", "/")
    _, _, doc = request(server, "GET", f"/doc?id={PLANTED}")
    for page in (queue, doc):
        assert SCRIPT_MARK not in page
        assert "&lt;script&gt;window.__gouji_pwned = 1&lt;/script&gt;" in page
        assert page.count("<script") == 1  # only /static/app.js


def test_rule_pages(server: str, setup: tuple[Path, Path]) -> None:
    rules = {json.loads(x)["rule"] for x in setup[0].read_text(encoding="utf-8").splitlines() if x.strip()}
    for rule in rules:
        status, _, page = request(server, "GET", f"/rules/{rule}")
        assert status == 200 and rule in page
    assert request(server, "GET", "/rules/no.such.rule")[0] == 404
    _, _, queue = request(server, "GET", "/")
    assert all(f'href="/rules/{r}"' in queue for r in rules)
    _, _, index = request(server, "GET", "/rules")
    for rule in engine_rules():  # every rule the engine can emit, not only those of these results
        status, _, page = request(server, "GET", f"/rules/{rule}")
        assert status == 200 and all(label in page for _, label in FIELDS), rule
        assert f'href="/rules/{rule}"' in index


def test_filters_and_progress(server: str) -> None:
    cookie, token, page = session(server)
    all_fps = fingerprints(page)
    assert len(all_fps) >= 2
    assert post_verdict(server, all_fps[0], cookie, token) == 200
    _, _, page = request(server, "GET", "/?status=unreviewed", headers={"Cookie": cookie})
    assert fingerprints(page) == all_fps[1:]
    _, _, page = request(server, "GET", "/?status=reviewed", headers={"Cookie": cookie})
    assert fingerprints(page) == all_fps[:1]
    assert re.search(r'id="count-reviewed">1<', page) and re.search(rf'id="count-open">{len(all_fps)}<', page)
    _, _, page = request(server, "GET", "/?severity=info", headers={"Cookie": cookie})
    assert all('data-severity="info"' in a for a in re.findall(r"<article [^>]*>", page))
    _, _, page = request(server, "GET", "/?doc=none.txt", headers={"Cookie": cookie})
    assert fingerprints(page) == []


def test_rewritten_results_are_picked_up_and_half_written_ones_ignored(setup: tuple[Path, Path], tmp_path: Path) -> None:
    jsonl = tmp_path / "findings.jsonl"
    jsonl.write_bytes(setup[0].read_bytes())
    app = ReviewApp(jsonl, ReviewDB(tmp_path / "r.sqlite"), source=setup[1])
    n = len(app.results.findings)
    # `gouji check > findings.jsonl` caught mid-write: a cut line is not read, nothing resolves
    data = setup[0].read_bytes()
    jsonl.write_bytes(data[: len(data) // 2])
    assert len(app.refresh().findings) == n
    assert all(i["present"] for i in app.db.queue(app.results.key))
    # a complete re-run in which the document has no finding left: all of its findings are resolved
    jsonl.write_bytes(b"")
    assert app.refresh().findings == []
    queue = app.db.queue(app.results.key)
    assert len(queue) == n and not any(i["present"] for i in queue)
    jsonl.write_bytes(data)
    assert all(i["present"] for i in app.db.queue(app.refresh().key))


def test_gouji_review_command_serves_on_loopback(setup: tuple[Path, Path], tmp_path: Path) -> None:
    """The real command line: no --host means 127.0.0.1; the database defaults beside a scan, here --db."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "detector.cli", "review", str(setup[0]), "--source", str(setup[1]), "--port", "0",
         "--db", str(tmp_path / "review.sqlite")], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        m = re.search(r"http://([\d.]+):(\d+)/", line)
        assert m, line
        assert m.group(1) == "127.0.0.1"
        status, _, page = request(f"http://127.0.0.1:{m.group(2)}", "GET", "/")
        assert status == 200 and "审阅队列" in page
        assert (tmp_path / "review.sqlite").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_review_of_a_scan_folder_across_a_rescan(tmp_path: Path) -> None:
    """RESULTS as a `gouji scan` folder: documents come from documents.parquet, the database sits beside
    them by default, and a re-scan after the unit fixes a figure resolves that finding, verdict kept."""
    src = copy_samples(tmp_path / "src")
    out = run_scan(src, tmp_path / "scan")
    assert default_db_path(out) == out / "review.sqlite"
    with review_server(out, default_db_path(out)) as url:
        cookie, token, page = session(url)
        share = next(json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
                     if x.strip() and "6.12%" in json.loads(x)["stated"])
        assert share["fingerprint"] in fingerprints(page)
        assert post_verdict(url, share["fingerprint"], cookie, token) == 200
        status, _, doc = request(url, "GET", f"/doc?id={PLANTED}")
        assert status == 200 and "占<mark>6.12%</mark>" in doc
        edit_sample(src / PLANTED, "占6.12%", "占6.21%")
        run_scan(src, out)
        _, _, page = request(url, "GET", "/", headers={"Cookie": cookie})
        assert share["fingerprint"] not in fingerprints(page)
        _, _, page = request(url, "GET", "/?status=resolved", headers={"Cookie": cookie})
        assert fingerprints(page) == [share["fingerprint"]]
        assert re.search(rf'data-verdict="confirmed" data-present="0"[^>]*data-fingerprint="{share["fingerprint"]}"', page)


def test_queue_pages_keep_their_filters(server: str, setup: tuple[Path, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import detector.review.app as app_module
    from detector.review.rank import QueueOrder

    findings = [json.loads(x) for x in setup[0].read_text(encoding="utf-8").splitlines() if x.strip()]
    queue = [f["fingerprint"] for f in QueueOrder().sort(
        [{"fingerprint": f["fingerprint"], "finding": f, "present": True} for f in findings])]
    errors = [fp for fp in queue if any(f["fingerprint"] == fp and f["severity"] == "error" for f in findings)]
    assert len(errors) > 2
    monkeypatch.setattr(app_module, "PAGE_SIZE", 2)
    seen: list[str] = []
    path = "/?severity=error"
    while path:
        _, _, page = request(server, "GET", path)
        assert 0 < len(fingerprints(page)) <= 2
        seen += fingerprints(page)
        nxt = re.search(r'<a href="(/\?[^"]+)" data-next>下一页', page)
        path = nxt.group(1).replace("&amp;", "&") if nxt else ""
        assert not path or "severity=error" in path
    assert seen == errors  # every error finding once, in queue order
    assert fingerprints(request(server, "GET", "/?start=abc")[2]) == queue[:2]


def test_head_has_the_headers_of_get_and_no_body(server: str) -> None:
    for path in ("/", "/static/app.js", f"/doc?id={PLANTED}", "/rules", "/nope"):
        status, headers, body = request(server, "GET", path)
        h_status, h_headers, h_body = request(server, "HEAD", path)
        assert h_status == status and h_body == "", path
        assert h_headers["content-length"] == str(len(body.encode("utf-8"))), path
        assert h_headers["content-type"] == headers["content-type"]
        assert "content-security-policy" in h_headers
