"""The documentation site builds in strict mode (a broken page, link or API reference fails), offline, and the code
on every family page runs as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FAMILY_PAGES = sorted((DOCS / "families").glob("*.md"))
LIBRARY_PAGES = sorted((DOCS / "library").glob("*.md"))


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


def test_mkdocs_builds_strictly_without_fetching_anything(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    pages = {p.relative_to(site).as_posix() for p in site.rglob("index.html")}
    for page in FAMILY_PAGES + LIBRARY_PAGES:
        assert f"{page.parent.name}/{page.stem}/index.html" in pages
    html = "\n".join(p.read_text() for p in site.rglob("*.html"))
    assert not re.search(r'<(script|img)[^>]+src="https?://', html), "a page loads a remote script or image"
    assert not re.search(r'<link[^>]+href="https?://', html), "a page loads a remote stylesheet or font"
    vae = (site / "families" / "vae" / "index.html").read_text()
    assert "log_likelihood" in vae and "doc doc-object" in vae  # the API section was rendered from docstrings


@pytest.mark.parametrize("page", FAMILY_PAGES, ids=lambda p: p.stem)
def test_every_family_page_has_math_references_an_example_and_the_api(page):
    text = page.read_text()
    assert "```text" in text, "no formula block"
    assert "## References" in text and re.search(r"(arXiv:|\(\d{4}\))", text)
    assert _python_blocks(page), "no runnable example"
    assert "## API" in text and "\n::: bayesdl." in text


@pytest.mark.parametrize("page", FAMILY_PAGES + LIBRARY_PAGES, ids=lambda p: p.stem)
def test_the_code_on_each_page_runs(page, tmp_path, monkeypatch):
    # The data-parallel fragment needs torchrun; tests/test_distributed.py covers it.
    blocks = [b for b in _python_blocks(page) if 'strategy="ddp"' not in b]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page.name} block {i}", "exec"), namespace)
