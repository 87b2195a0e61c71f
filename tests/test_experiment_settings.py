"""Every registered experiment takes ``--set``: it declares a settings dataclass with a preset per run size, an override
of a real field reaches the settings the run gets, a bad key or a badly typed value is refused naming the key, and
the experiment reads its sizes from those settings (no field is ignored, and no size hides behind ``ctx.smoke``)."""

import ast
import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest

from bayesdl.errors import InputError
from bayesdl.experiments import list_experiments
from bayesdl.experiments.registry import experiment_config
from bayesdl.experiments.settings import setting_keys

EXPERIMENTS = list_experiments()
PACKAGE = Path(importlib.import_module("bayesdl.experiments").__file__).parent


def _value(config, key):
    for part in key.split("."):
        config = getattr(config, part)
    return config


def _int_key(config):
    """The first settable integer field (every experiment has one: an epoch count, a size or a number of draws)."""
    for key in setting_keys(config):
        value = _value(config, key)
        if isinstance(value, int) and not isinstance(value, bool):
            return key, value
    raise AssertionError(f"no integer setting among {setting_keys(config)}")


def _modules_of(exp) -> list[Path]:
    """The experiment's module and the experiments-package modules it imports (its shared helpers)."""
    module = inspect.getmodule(exp.run)
    paths = {Path(module.__file__)}
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            paths.update(PACKAGE / f"{name}.py" for name in names if (PACKAGE / f"{name}.py").exists())
    return sorted(p for p in paths if p.name not in ("registry.py", "settings.py"))


def test_every_registered_experiment_is_covered():
    assert len(EXPERIMENTS) >= 21 and all(exp.config is not None for exp in EXPERIMENTS.values()), [
        name for name, exp in EXPERIMENTS.items() if exp.config is None
    ]


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_set_changes_what_the_experiment_gets_and_bad_keys_are_refused(name):
    exp = EXPERIMENTS[name]
    assert dataclasses.is_dataclass(exp.config)
    presets = {size: exp.config.preset(size) for size in ("smoke", "quick", "full")}
    assert all(isinstance(p, exp.config) for p in presets.values())
    assert presets["smoke"] != presets["full"], "the smoke preset is the full one"

    base = experiment_config(exp, "smoke")
    assert base == presets["smoke"]
    key, value = _int_key(base)
    changed = experiment_config(exp, "smoke", {key: str(value + 3)})
    assert _value(changed, key) == value + 3 and _value(base, key) == value
    assert all(_value(changed, k) == _value(base, k) for k in setting_keys(base) if k != key)

    with pytest.raises(
        InputError, match=f"{name} has no setting 'no_such_key'; valid keys: .*{key.split('.')[-1]}"
    ):
        experiment_config(exp, "smoke", {"no_such_key": "1"})
    with pytest.raises(InputError, match=f"setting '{key}' expects int; got 'many'"):
        experiment_config(exp, "smoke", {key: "many"})


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_the_experiment_reads_every_setting_and_no_size_from_the_run_flags(name):
    exp = EXPERIMENTS[name]
    trees = [ast.parse(p.read_text()) for p in _modules_of(exp)]
    read = {node.attr for tree in trees for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    unread = [k for k in setting_keys(exp.config.preset("full")) if k.split(".")[-1] not in read]
    assert not unread, f"{name} never reads the settings {unread}: a --set of them would be ignored"
    flags = [
        (p.name, node.lineno)
        for p, tree in zip(_modules_of(exp), trees)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("smoke", "quick")
        and isinstance(node.value, ast.Name)
        and node.value.id == "ctx"
    ]
    assert not flags, f"{name} sizes itself by ctx.smoke/ctx.quick at {flags}, where --set cannot reach"
