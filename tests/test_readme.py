"""The README's code blocks run as written (in order, in one namespace, in a scratch folder)."""

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 9
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        if "strategy=\"ddp\"" in block:
            continue  # the Scaling-out fragment needs torchrun; tests/test_distributed.py covers it
        exec(compile(block, f"README block {i}", "exec"), namespace)
    assert os.path.exists("model.safetensors") and os.path.exists("history.json")
