"""Every exported class and function documents itself: a runnable example and its arguments (issue #12).

The examples themselves run as doctests (pytest is configured with ``--doctest-modules`` over
``bayesdl/``); this test checks that they exist, and that anything taking parameters lists them in an
"Arguments:" section (or "Attributes:" for dataclasses and result objects).
"""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = (
    "bayesdl",
    "bayesdl.data",
    "bayesdl.diagnostics",
    "bayesdl.experiments",
    "bayesdl.inference",
    "bayesdl.inference.mcmc",
    "bayesdl.inference.recipes",
    "bayesdl.models",
    "bayesdl.models.autoregressive",
    "bayesdl.models.diffusion",
    "bayesdl.models.flows",
    "bayesdl.models.gp",
    "bayesdl.models.vae",
    "bayesdl.nn",
    "bayesdl.nn.flows",
    "bayesdl.nn.heads",
    "bayesdl.densities",
    "bayesdl.results",
    "bayesdl.contracts",
    "bayesdl.bounds",
    "bayesdl.deprecation",
    "bayesdl.randomness",
)


def _exported() -> dict[str, object]:
    """Qualified name -> object for every class and function in the packages' ``__all__``."""
    found: dict[str, object] = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _takes_parameters(obj: object) -> bool:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # some builtin-derived classes have no introspectable signature
        return False
    # A bare (*args, **kwargs) is what a module inherits from nn.Module when it defines no __init__.
    named = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
    return any(name != "self" and p.kind in named for name, p in signature.parameters.items())


def _problems(obj: object) -> list[str]:
    doc = obj.__doc__ or ""  # not inspect.getdoc: a class must not borrow its base class's docstring
    problems = []
    if ">>>" not in doc:
        problems.append("no example (>>>)")
    if _takes_parameters(obj) and "Arguments:" not in doc and "Attributes:" not in doc:
        problems.append("no Arguments:/Attributes: section")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_declares_its_public_names(package):
    module = importlib.import_module(package)
    assert isinstance(getattr(module, "__all__", None), (list, tuple)), f"{package} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ lists names it does not define: {missing}"


def test_the_checker_flags_what_it_should():
    def documented(x):
        """Double x.

        Arguments:
            x: a number.

        Example:
            >>> documented(2)
            4
        """
        return 2 * x

    def undocumented(x):
        """Double x."""
        return 2 * x

    def no_parameters():
        """Nothing.

        Example:
            >>> no_parameters()
        """

    assert _problems(documented) == []
    assert _problems(undocumented) == ["no example (>>>)", "no Arguments:/Attributes: section"]
    assert _problems(no_parameters) == []

    class Inherited:
        """Takes whatever its base takes.

        Example:
            >>> Inherited()  # doctest: +ELLIPSIS
            <...>
        """

        def __init__(self, *args, **kwargs):
            pass

    assert _problems(Inherited) == []


def test_every_exported_class_and_function_has_an_example_and_documents_its_arguments():
    exported = _exported()
    assert len(exported) > 100  # the walk really found the public API
    offenders = {name: problems for name, obj in sorted(exported.items()) if (problems := _problems(obj))}
    report = "\n".join(f"  {name}: {', '.join(problems)}" for name, problems in offenders.items())
    assert not offenders, f"{len(offenders)} of {len(exported)} exported names lack docs:\n{report}"
