"""The README's code blocks run as written (in order, in one namespace, in a scratch folder), and its links resolve."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"README block {i}", "exec"), namespace)
    assert os.path.exists("model.safetensors") and os.path.exists("history.json")


def test_readme_links_to_files_that_exist():
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local, "the README links to no documentation page"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_readme_stays_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= 160, "move long material into docs/"
    assert max(len(line) for line in lines) <= 220, "a README line (a table cell) is too long; shorten it"
