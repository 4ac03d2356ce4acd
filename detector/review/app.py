"""``gouji review``: the auditors' local review app — a WSGI application on the standard library.

Why stdlib: the app runs on an auditor's laptop next to sensitive documents; no framework means nothing to
install and nothing listening beyond one loopback port. Pages are rendered on the server (every document text
escaped by :mod:`detector.report.render`); one static script adds keyboard shortcuts and posts verdicts.

Security, in the order a request meets it:
- Host header must name the bound address (defeats DNS rebinding) when bound to loopback;
- state changes only by POST with JSON, a same-origin ``Origin`` (when sent) and a CSRF token: the session
  id lives in an HttpOnly SameSite=Strict cookie, the page carries HMAC(secret, session) and the script sends
  it back in ``X-CSRF-Token``;
- file parameters (static names, document ids) are resolved and must stay under their root;
- every response carries a strict Content-Security-Policy: only /static/app.js runs, no inline script.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socketserver
import threading
from collections.abc import Callable, Iterable
from html import escape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from detector.errors import GoujiError
from detector.model import Document, Paragraph, Table
from detector.report.render import SEVERITY_LABEL, finding_html, mark_values, table_html
from detector.report.results import SEVERITIES, Results, finding_values, load_results
from detector.report.rule_pages import rule_html, rule_specs
from detector.review.db import VERDICT_LABELS, VERDICTS, ReviewDB
from detector.review.rank import QueueOrder

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE = "gouji_session"
MAX_BODY = 64 * 1024
PAGE_SIZE = 50  # findings per queue page: each card re-renders its paragraph or table
FAILED_STATUSES = {"error", "failed", "fail", "skipped", "timeout", "unreadable"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".png": "image/png", ".svg": "image/svg+xml"}
STATUS_TEXT = {200: "OK", 303: "See Other", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 413: "Payload Too Large", 415: "Unsupported Media Type"}

StartResponse = Callable[..., object]


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ReviewApp:
    """The WSGI callable. Results are re-read whenever findings.jsonl changes on disk, so re-running a scan
    while the app is open shows the new findings (verdicts stay attached by fingerprint) on the next page.
    ``ranker`` is a model of ``gouji corpus train-ranker`` that orders the queue (see :mod:`detector.review.rank`)."""

    def __init__(self, results_path: str | Path, db: ReviewDB, source: str | Path | None = None,
                 rules_dir: str | None = None, ranker: str | Path | None = None):
        self.results_path = Path(results_path)
        self.source = source
        self.db = db
        self.rules_dir = rules_dir
        self.order = QueueOrder(ranker)
        self.secret = secrets.token_bytes(32)
        self.sessions: set[str] = set()
        self.allowed_hosts: set[str] | None = None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self.results: Results = self.refresh(force=True)

    # ------------------------------------------------------------------------------------- results

    def bind(self, host: str, port: int) -> None:
        """Tell the app where it listens, so Host and Origin can be checked (loopback binds only: a user who
        binds 0.0.0.0 on purpose reaches it under names we cannot know)."""
        if host in ("127.0.0.1", "localhost", "::1"):
            self.allowed_hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}

    def refresh(self, force: bool = False) -> Results:
        """Re-read RESULTS if findings.jsonl changed, and record its findings in the database.

        A jsonl is the whole result set, so a finding missing from it is resolved; a scan lists its
        documents, so only findings of documents checked again (status ok) can resolve. A file caught half
        written (``gouji check > f.jsonl`` still running) is not read: the previous results stay until the
        next request finds it complete."""
        findings_file = self.results_path / "findings.jsonl" if self.results_path.is_dir() else self.results_path
        try:
            st = findings_file.stat()
        except OSError:
            if force:
                raise
            return self.results
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            if force or stamp != self._stamp:
                try:
                    results = load_results(self.results_path, self.source)
                except GoujiError:
                    if force:
                        raise
                    return self.results
                checked = None
                if results.listed:
                    checked = [d for d, i in results.documents.items() if i.status.lower() not in FAILED_STATUSES]
                self.db.sync(results.key, results.findings, checked)
                self.order.forget()  # a finding's JSON (margin, evidence) may have changed: score it again
                self.results, self._stamp = results, stamp
        return self.results

    # ----------------------------------------------------------------------------------------- WSGI

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        headers: list[tuple[str, str]] = []
        try:
            self._check_host(environ)
            status, ctype, body = self._dispatch(environ, headers)
        except HttpError as exc:
            status, ctype = exc.status, "text/plain; charset=utf-8"
            body = f"{exc.status} {exc.message}\n".encode()
        headers += [
            ("Content-Type", ctype), ("Content-Length", str(len(body))), ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"), ("Cache-Control", "no-store"),
        ]
        start_response(f"{status} {STATUS_TEXT.get(status, '')}", headers)
        if environ.get("REQUEST_METHOD") == "HEAD":  # the headers of the GET, Content-Length included; no body
            return []
        return [body]

    def _check_host(self, environ: dict) -> None:
        host = environ.get("HTTP_HOST", "")
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            raise HttpError(403, "unexpected Host header")

    def _dispatch(self, environ: dict, headers: list[tuple[str, str]]) -> tuple[int, str, bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if method == "POST":
            if path != "/api/verdict":
                raise HttpError(404, "not found")
            return 200, "application/json", self._post_verdict(environ)
        if method not in ("GET", "HEAD"):
            raise HttpError(405, "method not allowed")
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        token = self._session(environ, headers)
        if path == "/":
            return 200, "text/html; charset=utf-8", self._queue_page(query, token).encode("utf-8")
        if path == "/doc":
            return 200, "text/html; charset=utf-8", self._doc_page(query.get("id", ""), token).encode("utf-8")
        if path == "/rules" or path.startswith("/rules/"):
            return 200, "text/html; charset=utf-8", self._rules_page(unquote(path[len("/rules/"):]), token).encode()
        raise HttpError(404, "not found")

    # ------------------------------------------------------------------------------------- security

    def _csrf(self, session: str) -> str:
        return hmac.new(self.secret, session.encode("ascii"), hashlib.sha256).hexdigest()

    def _session(self, environ: dict, headers: list[tuple[str, str]]) -> str:
        """The CSRF token of this browser's session, starting a session (cookie) when there is none."""
        session = self._cookie(environ)
        if session not in self.sessions:
            session = secrets.token_urlsafe(32)
            self.sessions.add(session)
            headers.append(("Set-Cookie", f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict"))
        return self._csrf(session)

    @staticmethod
    def _cookie(environ: dict) -> str:
        jar = SimpleCookie()
        try:
            jar.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # a malformed cookie header is no session
            return ""
        return jar[COOKIE].value if COOKIE in jar else ""

    def _check_post(self, environ: dict) -> None:
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin != f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}":
            raise HttpError(403, "cross-origin request refused")
        session = self._cookie(environ)
        sent = environ.get("HTTP_X_CSRF_TOKEN", "")
        if session not in self.sessions or not sent or not hmac.compare_digest(sent, self._csrf(session)):
            raise HttpError(403, "missing or wrong CSRF token")
        if not environ.get("CONTENT_TYPE", "").startswith("application/json"):
            raise HttpError(415, "JSON expected")

    def _static(self, name: str) -> tuple[int, str, bytes]:
        """A file of static/ — resolved, and refused unless it stays inside static/."""
        target = (STATIC_DIR / unquote(name)).resolve()
        if not target.is_relative_to(STATIC_DIR):
            raise HttpError(403, "path outside static/")
        if not target.is_file():
            raise HttpError(404, "not found")
        return 200, CONTENT_TYPES.get(target.suffix, "application/octet-stream"), target.read_bytes()

    def _document(self, doc: str) -> Document | None:
        """A document of the results by id. Ids are looked up, never used as paths on their own; and the
        files an id maps to must stay under the results' source root."""
        results = self.refresh()
        if ".." in Path(doc).parts or doc.startswith("/") or "\\" in doc:
            raise HttpError(403, "path traversal refused")
        info = results.documents.get(doc)
        if info is None:
            raise HttpError(404, "unknown document")
        root = results.source_root  # ids of a bare jsonl are paths under --source; a scan lists its own
        if root is not None and any(not p.resolve().is_relative_to(root) for p in info.paths):
            raise HttpError(403, "document outside the results root")
        return results.document(doc)

    # ----------------------------------------------------------------------------------------- POST

    def _post_verdict(self, environ: dict) -> bytes:
        self._check_post(environ)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError as exc:
            raise HttpError(400, "bad Content-Length") from exc
        if length > MAX_BODY:
            raise HttpError(413, "body too large")
        try:
            data = json.loads(environ["wsgi.input"].read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HttpError(400, "bad JSON") from exc
        fp = str(data.get("fingerprint", "")) if isinstance(data, dict) else ""
        if not fp or not self.db.known(fp):
            raise HttpError(404, "unknown finding")
        current = self.db.item(fp)
        verdict = data.get("verdict", current["verdict"] if current else None)
        if verdict is not None and verdict not in VERDICTS:
            raise HttpError(400, "verdict must be confirmed, dismissed or unsure")
        comment = data.get("comment")
        if comment is not None and (not isinstance(comment, str) or len(comment) > 10000):
            raise HttpError(400, "bad comment")
        self.db.set_verdict(fp, verdict, comment, source="app")
        return json.dumps({"ok": True, "verdict": verdict, "progress": self._progress(self.db.queue(self.results.key))},
                          ensure_ascii=False).encode("utf-8")

    # ----------------------------------------------------------------------------------------- pages

    @staticmethod
    def _progress(items: list[dict]) -> dict[str, int]:
        open_items = [i for i in items if i["present"]]
        out = {"open": len(open_items), "reviewed": sum(1 for i in open_items if i["verdict"]),
               "resolved": sum(1 for i in items if not i["present"])}
        for v in VERDICTS:
            out[v] = sum(1 for i in open_items if i["verdict"] == v)
        return out

    def _layout(self, title: str, body: str, token: str) -> str:
        return (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="csrf-token" content="{escape(token)}"><title>{escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>'
            f'<body><nav class="top"><a href="/">队列 queue</a> <a href="/rules">规则 rules</a> '
            f'<span class="results">{escape(str(self.results_path))}</span></nav>{body}</body></html>'
        )

    def _filters(self, items: list[dict], query: dict[str, str]) -> str:
        docs = sorted({i["finding"].get("doc", "") for i in items})
        rules = sorted({i["finding"].get("rule", "") for i in items})
        statuses = [("open", "待审 open"), ("unreviewed", "未审 unreviewed"), ("reviewed", "已审 reviewed"),
                    ("resolved", "已解决 resolved"), ("all", "全部 all")]

        def select(name: str, label: str, options: list[tuple[str, str]]) -> str:
            opts = "".join(
                f'<option value="{escape(v)}"{" selected" if query.get(name, "") == v else ""}>{escape(t)}</option>'
                for v, t in options)
            return f'<label>{escape(label)} <select name="{name}">{opts}</select></label>'

        return (
            '<form class="filters" method="get" action="/">'
            + select("doc", "文档", [("", "全部")] + [(d, d) for d in docs])
            + select("rule", "规则", [("", "全部")] + [(r, r) for r in rules])
            + select("severity", "严重程度", [("", "全部")] + [(s, SEVERITY_LABEL[s]) for s in SEVERITIES])
            + select("status", "状态", statuses)
            + '<button type="submit">筛选 filter</button></form>'
        )

    @staticmethod
    def _keep(item: dict, query: dict[str, str]) -> bool:
        f = item["finding"]
        status = query.get("status") or "open"
        if status != "resolved" and status != "all" and not item["present"]:
            return False
        checks = {
            "resolved": not item["present"], "unreviewed": not item["verdict"], "reviewed": bool(item["verdict"]),
        }
        if not checks.get(status, True):
            return False
        return all(not query.get(k) or str(f.get(k, "")) == query[k] for k in ("doc", "rule", "severity"))

    def _controls(self, item: dict, score: float | None) -> str:
        verdict = item["verdict"] or ""
        state = VERDICT_LABELS.get(verdict, "未审")
        buttons = "".join(
            f'<button type="button" data-set="{v}" class="v-{v}">{escape(VERDICT_LABELS[v])} ({k})</button>'
            for v, k in (("confirmed", "c"), ("dismissed", "d"), ("unsure", "u")))
        resolved = "" if item["present"] else '<span class="resolved-badge">已解决 resolved（文档修改后不再出现）</span>'
        f = item["finding"]
        first = next((e for e in f.get("evidence") or [] if isinstance(e, dict)), {})
        anchor = f"#b{first['block']}" if isinstance(first.get("block"), int) else ""
        doc_link = f'/doc?{urlencode({"id": f.get("doc", "")})}{anchor}'
        rank = "" if score is None else (
            f'<span class="rank" title="排序模型估计的确认概率 P(confirmed) from the ranker">排序分 score '
            f'{score:.2f}</span> ')
        return (
            f'<div class="verdict">{resolved}{rank}<span class="verdict-state">结论：{escape(state)}</span> {buttons}'
            f'<textarea class="comment" rows="2" placeholder="备注 comment">{escape(item["comment"])}</textarea>'
            '<button type="button" class="save-comment">保存备注 save comment</button>'
            f' <a href="{escape(doc_link)}">在原文中查看 view in document</a></div>'
        )

    def _queue_page(self, query: dict[str, str], token: str) -> str:
        results = self.refresh()
        items = self.order.sort(self.db.queue(results.key))
        matching = [i for i in items if self._keep(i, query)]
        try:
            start = max(0, int(query.get("start", "0")))
        except ValueError:
            start = 0
        shown = matching[start: start + PAGE_SIZE]
        p = self._progress(items)
        counters = (
            f'<div class="progress" id="progress">待审 open <b id="count-open">{p["open"]}</b> · 已审 reviewed '
            f'<b id="count-reviewed">{p["reviewed"]}</b> · 确认 <b id="count-confirmed">{p["confirmed"]}</b> · '
            f'误报 <b id="count-dismissed">{p["dismissed"]}</b> · 待定 <b id="count-unsure">{p["unsure"]}</b> · '
            f'已解决 resolved <b id="count-resolved">{p["resolved"]}</b> · 符合条件 matching {len(matching)}</div>'
        )
        order = (f'<p class="order" data-order="ranker">按排序模型的确认概率排序 ordered by the ranker '
                 f'({escape(self.order.model_path.name)})</p>' if self.order.ranked and self.order.model_path else
                 '<p class="order" data-order="default">按严重程度、置信度排序 ordered by severity, then confidence '
                 '(no ranker model)</p>')
        pager = self._pager(query, start, len(matching))
        help_ = '<p class="keys">键盘 keys: j/k 下一项/上一项 · c 确认 · d 误报 · u 待定 · Esc 离开备注框</p>'
        cards = []
        scores = self.order.scores(shown)
        for item in shown:
            f = item["finding"]
            doc = results.documents.get(f.get("doc", ""))
            document = results.document(f.get("doc", "")) if doc is not None else None
            html, _ = finding_html(f, document, rule_href="/rules/" + quote(str(f.get("rule", "")), safe=""),
                                   context=1, extra=self._controls(item, scores.get(item["fingerprint"])))
            cls = f'data-verdict="{escape(item["verdict"] or "")}" data-present="{int(item["present"])}" '
            if item["fingerprint"] in scores:
                cls += f'data-score="{scores[item["fingerprint"]]:.6f}" '
            cards.append(html.replace("<article ", f"<article {cls}", 1))
        empty = '<p class="empty">没有符合条件的发现 no findings match</p>' if not shown else ""
        body = (f'<h1>审阅队列 Review queue</h1>{counters}{order}{self._filters(items, query)}{help_}{pager}{empty}'
                + "".join(cards) + pager)
        return self._layout("审阅队列 gouji review", body, token)

    @staticmethod
    def _pager(query: dict[str, str], start: int, total: int) -> str:
        """Links to the previous and next page of the queue, keeping the filters."""
        if total <= PAGE_SIZE:
            return ""
        links = []
        for label, at, attr in (("← 上一页 previous", start - PAGE_SIZE, ""),
                                ("下一页 next →", start + PAGE_SIZE, " data-next")):
            if 0 <= at < total:
                links.append(f'<a href="/?{escape(urlencode(query | {"start": str(at)}))}"{attr}>{label}</a>')
        end = min(start + PAGE_SIZE, total)
        return f'<p class="pager">第 {start + 1}–{end} 项，共 {total} 项 · {" · ".join(links)}</p>'

    def _doc_page(self, doc: str, token: str) -> str:
        document = self._document(doc)
        if document is None:
            body = f"<h1>{escape(doc)}</h1><p>原文不可用 / source not available</p>"
            return self._layout(doc, body, token)
        marks: dict[int, list[str]] = {}
        for f in self.results.by_document().get(doc, []):
            for ev in f.get("evidence") or []:
                if isinstance(ev, dict) and isinstance(ev.get("block"), int):
                    marks.setdefault(ev["block"], []).extend(finding_values(f))
        parts = [f"<h1>{escape(doc)}</h1>"]
        for block in document.blocks:
            if isinstance(block, Paragraph):
                text = mark_values(block.text, marks[block.index])[0] if block.index in marks else escape(block.text)
                parts.append(f'<p id="b{block.index}">{text}</p>')
            elif isinstance(block, Table):
                parts.append(f'<div id="b{block.index}">{table_html(block, None, [], window=False)[0]}</div>')
        return self._layout(doc, '<article class="document-text">' + "".join(parts) + "</article>", token)

    def _rules_page(self, rule_id: str, token: str) -> str:
        specs = rule_specs(self.rules_dir)
        used = {str(f.get("rule", "")) for f in self.results.findings}
        if rule_id:
            if rule_id not in specs and rule_id not in used:
                raise HttpError(404, "unknown rule")
            return self._layout(rule_id, rule_html(rule_id, specs.get(rule_id), heading="h1"), token)
        links = "".join(f'<li><a href="/rules/{quote(r, safe="")}">{escape(r)}</a></li>'
                        for r in sorted(set(specs) | used))
        return self._layout("规则 rules", f"<h1>规则说明 Rules</h1><ul>{links}</ul>", token)


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    """Threaded: a browser opens several connections at once (and may hold one idle), which would stall a
    single-threaded server."""

    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def create_server(app: ReviewApp, host: str = "127.0.0.1", port: int = 8765, quiet: bool = False) -> WSGIServer:
    """Bind (port 0 picks a free port) and tell the app its address; the caller runs ``serve_forever``."""
    server = make_server(host, port, app, server_class=_Server,
                         handler_class=_QuietHandler if quiet else WSGIRequestHandler)
    app.bind(host, server.server_port)
    return server
