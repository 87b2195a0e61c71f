"""The "Adding a model" page is a tested example: its code runs, and the family it builds passes the contract test."""

from __future__ import annotations

import pathlib
import re

import pytest
import test_contract

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "adding_a_model.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def page_namespace():
    namespace: dict[str, object] = {"__name__": "adding_a_model"}
    for block in _blocks()[:2]:  # the family and its use; the third block registers it (run below)
        exec(compile(block, str(PAGE), "exec"), namespace)
    return namespace


def test_the_family_fits_in_under_60_lines():
    assert len(_blocks()[0].splitlines()) < 60


def test_the_page_runs_and_trains_the_new_family(page_namespace):
    model = page_namespace["model"]
    assert page_namespace["history"].losses[-1] < page_namespace["history"].losses[0]
    assert model.sample(7).shape == (7, 2)


def test_the_registered_family_passes_every_contract_check(page_namespace, tmp_path, monkeypatch):
    families = dict(test_contract.FAMILIES)
    monkeypatch.setattr(test_contract, "FAMILIES", families)
    exec(compile(_blocks()[2], str(PAGE), "exec"), {**page_namespace, "__name__": "registration"})
    entry = ("gaussian-mixture", families["gaussian-mixture"])
    test_contract.test_loss_is_a_finite_scalar_and_one_epoch_trains(entry)
    test_contract.test_save_and_load_give_identical_outputs(entry, tmp_path)
    test_contract.test_query_has_one_value_per_example(entry)
    test_contract.test_builds_on_meta_and_follows_to(entry)
    test_contract.test_bad_input_raises_input_error_naming_the_argument(entry)
    test_contract.test_training_on_nan_data_raises_input_error(entry)


def test_the_heads_section_runs():
    exec(compile(_blocks()[3], str(PAGE), "exec"), {"__name__": "heads_section"})
