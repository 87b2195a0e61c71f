"""A griffe extension for the API pages: read bayesdl's ``Example:`` docstring sections as Google ``Examples:``.

bayesdl's docstrings head their doctests ``Example:``; griffe's Google parser recognises only ``Examples:`` as a
section of code, and would otherwise render the ``>>>`` lines as Markdown text.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", flags=re.M)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` headings to ``Examples:`` in every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE_HEADING.sub(r"\1Examples:", obj.docstring.value)
