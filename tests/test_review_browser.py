"""The review workflow in real headless Chromium: confirm, dismiss with a comment, re-run the check (or the
scan), reload, find the verdicts still attached; fix the document and see the finding resolved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _report_helpers import (
    ARTIFACTS,
    PLANTED,
    SCRIPT_MARK,
    browser_page,
    copy_samples,
    edit_sample,
    review_server,
    run_check,
    run_scan,
)

from detector.cli import main
from detector.review.db import default_db_path

pytestmark = pytest.mark.browser


def _card(page, fp: str):
    return page.locator(f'article.finding[data-fingerprint="{fp}"]')


def test_review_workflow_survives_a_rerun(tmp_path: Path) -> None:
    src = copy_samples(tmp_path / "src", script=True)
    jsonl = run_check([src / PLANTED], tmp_path / "findings.jsonl")
    n = sum(1 for x in jsonl.read_text(encoding="utf-8").splitlines() if x.strip())
    assert n >= 3
    with review_server(jsonl, tmp_path / "review.sqlite", source=src) as url, browser_page() as page:
        page.goto(url + "/")
        cards = page.locator("article.finding")
        assert cards.count() == n
        first = cards.nth(0).get_attribute("data-fingerprint")
        second = cards.nth(1).get_attribute("data-fingerprint")
        third = cards.nth(2).get_attribute("data-fingerprint")

        # keyboard: the first card is current; c confirms it and moves on
        assert "current" in (cards.nth(0).get_attribute("class") or "")
        page.keyboard.press("c")
        page.wait_for_selector(f'article[data-fingerprint="{first}"][data-verdict="confirmed"]')
        assert "current" in (cards.nth(1).get_attribute("class") or "")

        # dismiss the second with a comment; typing "d" in the comment must not trigger the shortcut
        box = _card(page, second).locator("textarea.comment")
        box.fill("合计口径不同，不是错误 d")
        box.press("d")
        box.press("Escape")
        _card(page, second).locator('button[data-set="dismissed"]').click()
        page.wait_for_selector(f'article[data-fingerprint="{second}"][data-verdict="dismissed"]')
        assert page.locator("#count-reviewed").inner_text() == "2"
        assert page.locator("#count-confirmed").inner_text() == "1"

        # clicking in a card made it current; j/k move, u marks unsure
        page.keyboard.press("k")
        assert "current" in (cards.nth(0).get_attribute("class") or "")
        page.keyboard.press("j")
        page.keyboard.press("j")
        assert "current" in (cards.nth(2).get_attribute("class") or "")
        page.keyboard.press("u")
        page.wait_for_selector(f'article[data-fingerprint="{third}"][data-verdict="unsure"]')
        # a comment typed and left (no button) is saved when the box loses focus
        _card(page, third).locator("textarea.comment").fill("需要核对原表")
        with page.expect_response("**/api/verdict") as response:
            page.locator("h1").click()
        assert response.value.status == 200

        # re-run the check after an unrelated edit (offsets all move) and reload
        edit_sample(src / PLANTED, "\n", "\n（本说明依据年度部门决算编制。）\n")
        run_check([src / PLANTED], jsonl)
        page.reload()
        assert page.locator("article.finding").count() == n
        assert _card(page, first).get_attribute("data-verdict") == "confirmed"
        assert _card(page, second).get_attribute("data-verdict") == "dismissed"
        assert _card(page, second).locator("textarea.comment").input_value() == "合计口径不同，不是错误 dd"
        assert _card(page, third).get_attribute("data-verdict") == "unsure"
        assert _card(page, third).locator("textarea.comment").input_value() == "需要核对原表"
        assert page.locator("#count-reviewed").inner_text() == "3"
        assert page.evaluate("typeof window.__gouji_pwned") == "undefined"
        assert SCRIPT_MARK in page.locator("body").inner_text()
        assert page.errors == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)

        # the unit fixes the share: that finding leaves the open queue and shows as resolved
        share = next(json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()
                     if x.strip() and "6.12%" in json.loads(x)["stated"])
        edit_sample(src / PLANTED, "占6.12%", "占6.21%")
        run_check([src / PLANTED], jsonl)
        page.reload()
        assert _card(page, share["fingerprint"]).count() == 0
        assert page.locator("#count-resolved").inner_text() == "1"
        page.select_option('select[name="status"]', "resolved")
        page.wait_for_url("**status=resolved**")
        resolved = _card(page, share["fingerprint"])
        assert resolved.count() == 1 and resolved.get_attribute("data-present") == "0"
        assert "已解决" in resolved.inner_text()
        page.screenshot(path=str(ARTIFACTS / "review-resolved.png"), full_page=True)

        # the rule page and the document view are reachable from a card
        page.goto(url + "/")
        page.locator("article.finding a.rule-link").first.click()
        assert page.url.startswith(url + "/rules/") and page.locator("section.rule").count() == 1
        page.goto(url + "/")
        page.locator("article.finding .verdict a").first.click()
        assert "/doc?id=" in page.url and page.locator(".document-text mark").count() >= 1


def test_review_of_a_scan_survives_a_rescan(tmp_path: Path) -> None:
    """The same workflow over a `gouji scan` folder (database beside it): confirm one, dismiss another with a
    comment, re-run the scan, reload — both verdicts still attached; the HTML report of the scan shows them."""
    src = copy_samples(tmp_path / "src")
    out = run_scan(src, tmp_path / "scan")
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert len(findings) >= 2
    with review_server(out, default_db_path(out)) as url, browser_page() as page:
        page.goto(url + "/")
        cards = page.locator("article.finding")
        assert cards.count() == len(findings)
        first, second = (cards.nth(i).get_attribute("data-fingerprint") for i in (0, 1))
        page.keyboard.press("c")
        page.wait_for_selector(f'article[data-fingerprint="{first}"][data-verdict="confirmed"]')
        _card(page, second).locator("textarea.comment").fill("两表口径不同")
        _card(page, second).locator('button[data-set="dismissed"]').click()
        page.wait_for_selector(f'article[data-fingerprint="{second}"][data-verdict="dismissed"]')

        edit_sample(src / PLANTED, "\n", "\n（本说明依据年度部门决算编制。）\n")  # every offset moves
        run_scan(src, out)
        page.reload()
        assert page.locator("article.finding").count() == len(findings)
        assert _card(page, first).get_attribute("data-verdict") == "confirmed"
        assert _card(page, second).get_attribute("data-verdict") == "dismissed"
        assert _card(page, second).locator("textarea.comment").input_value() == "两表口径不同"
        assert page.locator("#count-reviewed").inner_text() == "2"
        assert page.errors == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / "review-scan.png"), full_page=True)

        report = tmp_path / "report.html"
        assert main(["report", str(out), "--html", str(report)]) == 0
        page.goto(report.as_uri())
        assert page.locator(f'article[data-fingerprint="{first}"] .verdict-note').get_attribute(
            "data-verdict") == "confirmed"
        note = page.locator(f'article[data-fingerprint="{second}"] .verdict-note')
        assert note.get_attribute("data-verdict") == "dismissed" and "两表口径不同" in note.inner_text()
