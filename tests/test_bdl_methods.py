"""The bdl-benchmark methods: a method's result depends on its seed alone, not on the global generator's state."""

import dataclasses

import pytest
import torch

from bayesdl.experiments.bdl_methods import Budget, build_method
from bayesdl.inference.predictive import predict
from bayesdl.models.nets import MLP


@dataclasses.dataclass
class _Context:
    device: str = "cpu"
    seed: int = 0
    progress: bool = False

    def progress_label(self, label: str) -> bool:
        return False


@pytest.mark.parametrize("method", ["map", "sghmc", "swag"])
def test_a_method_ignores_the_global_generator_and_leaves_it_alone(method):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=gen)
    y = x.sum(-1) + 0.1 * torch.randn(40, generator=gen)
    budget = Budget(epochs=4, batch_size=20, lr=3e-3, predictive_samples=4, swag_lr=3e-4, sghmc_lr=3e-3)
    means = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        state = torch.get_rng_state()
        model = build_method(
            method,
            lambda p: MLP(3, [8], 1, activation="tanh", dropout=p),
            "homoscedastic",
            (x, y),
            budget,
            _Context(),
            seed=7,
        )
        assert torch.equal(torch.get_rng_state(), state)  # the caller's generator is untouched
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            means.append(predict(model, x, 4).mean)
    # different global states before the call, the same seed: the same network, bit for bit
    assert torch.equal(means[0], means[1])


def test_tasks_setting_runs_only_the_named_tasks(tmp_path):
    from bayesdl.experiments import run_experiment

    result = run_experiment(
        "bdl-benchmark",
        smoke=True,
        device="cpu",
        out=tmp_path,
        overrides={"tasks": "gap", "methods": "map"},
    )
    assert sorted(result.metrics) == ["gap/MAP"]
    assert {m.group for m in result.reported} == {"regression: gap"}


@pytest.mark.parametrize("tasks", ["gap,mnist", ""])
def test_tasks_setting_refuses_unknown_or_no_tasks(tmp_path, tasks):
    from bayesdl.errors import InputError
    from bayesdl.experiments import run_experiment

    with pytest.raises(InputError, match="tasks: expected one or more of"):
        run_experiment("bdl-benchmark", smoke=True, device="cpu", out=tmp_path, overrides={"tasks": tasks})
    assert not any(tmp_path.iterdir())  # a run that cannot start leaves no folder
