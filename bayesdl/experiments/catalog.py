"""The names, one-line descriptions and demo flags of the registered experiments, read without importing them.

``bayesdl list`` and ``bayesdl --help`` use this so that they start without loading torch, Pyro or ArviZ. It
reads the ``@experiment("name", "description", demo=...)`` decorators of the modules in this package with
:mod:`ast` (parsing those expressions, not importing the files), so a new experiment needs no second registration; the
decorators' name and description must therefore be string literals. A test checks that the result equals the
real registry.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _decorator_calls(text: str) -> list[str]:
    """The source text of every ``experiment(...)`` call that starts a line as a decorator (balanced parentheses)."""
    calls = []
    start = text.find("\n@experiment(")
    while start != -1:
        begin = start + 2  # past the newline and the "@"
        depth, pos = 0, begin + len("experiment")
        while pos < len(text):
            if text[pos] == "(":
                depth += 1
            elif text[pos] == ")":
                depth -= 1
                if depth == 0:
                    calls.append(text[begin : pos + 1])
                    break
            pos += 1
        start = text.find("\n@experiment(", pos)
    return calls


def read_catalog(folder: str | Path | None = None) -> dict[str, tuple[str, bool]]:
    """name -> (one-line description, whether ``bayesdl demo`` runs it), from the decorators in ``folder``.

    Only the decorator expressions are parsed (not whole modules), which keeps ``bayesdl list`` fast.

    Arguments:
        folder: the package folder to read (this package by default).

    Example:
        >>> catalog = read_catalog()
        >>> catalog["svi-logistic"][1], "ar-digits" in catalog
        (True, True)
    """
    folder = Path(folder) if folder is not None else Path(__file__).parent
    found: dict[str, tuple[str, bool]] = {}
    for path in sorted(folder.glob("*.py")):
        for call_text in _decorator_calls(path.read_text(encoding="utf-8")):
            call = ast.parse(call_text, mode="eval").body
            if not isinstance(call, ast.Call):
                continue
            args = [_literal(a) for a in call.args[:3]]
            kwargs = {k.arg: _literal(k.value) for k in call.keywords if k.arg}
            name = args[0] if args else kwargs.get("name")
            description = args[1] if len(args) > 1 else kwargs.get("description")
            demo = args[2] if len(args) > 2 else kwargs.get("demo", False)
            if isinstance(name, str) and isinstance(description, str):
                found[name] = (description, bool(demo))
    return dict(sorted(found.items()))
