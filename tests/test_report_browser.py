"""The index page and a run report open in a real headless browser: every image loads, no console errors, tables present.

Uses Playwright driving the system Chromium (``/usr/bin/chromium`` from Debian's ``chromium`` package, or the path
in ``BAYESDL_CHROMIUM``); ``scripts/setup.sh`` installs both. Without them the test fails, it does not skip: the
reports are what a user sees first.
"""

import os
import shutil
from pathlib import Path

import pytest

from bayesdl.experiments.summary import write_index

CHROMIUM = os.environ.get("BAYESDL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _open(page, path: Path) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return problems


@pytest.mark.xdist_group("experiments")
def test_index_and_report_render_in_headless_chromium(smoke_run, tmp_path):
    from playwright import sync_api  # a missing Playwright is an ImportError: a failure, not a skip

    assert Path(CHROMIUM).exists(), (
        f"no Chromium at {CHROMIUM}: run scripts/setup.sh (apt-get install chromium) or set BAYESDL_CHROMIUM"
    )
    results = [
        ("bnn-classification", smoke_run("bnn-classification")),
        ("svi-logistic", smoke_run("svi-logistic")),
    ]
    parent = Path(os.path.commonpath([str(r.out_dir) for _, r in results]))
    index = write_index(parent, results)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            problems = _open(page, index)
            links = page.eval_on_selector_all("table.index a", "els => els.map(e => e.getAttribute('href'))")
            assert len(links) == len(results)
            for href in links:  # every link resolves to a report on disk
                assert (index.parent / href).is_file(), href
            assert problems == []

            page = browser.new_page()
            report = results[0][1].out_dir / "report.html"
            problems = _open(page, report)
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.alt, e.complete, e.naturalWidth])"
            )
            assert len(images) >= 2
            broken = [alt for alt, complete, width in images if not complete or width == 0]
            assert broken == [], f"images that did not load: {broken}"
            headers = page.eval_on_selector_all("table.comparison th", "els => els.map(e => e.textContent)")
            assert any("test accuracy [%]" in h for h in headers) and any(
                "test NLL [nats/example]" in h for h in headers
            )
            assert page.locator("table.comparison td.best").count() >= 1
            assert "bayesdl" in page.locator("table.prov").inner_text()
            assert problems == []
        finally:
            browser.close()
