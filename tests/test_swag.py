"""SWAG moments, draws, batch-norm refresh and the MultiSWAG mixture."""

import pytest
import torch
from torch import nn

from bayesdl.errors import InputError
from bayesdl.inference import Trainer
from bayesdl.inference.predictive import predict
from bayesdl.inference.swag_collector import SWAGCollector
from bayesdl.models.nets import MLP
from bayesdl.models.supervised import PlainNet
from bayesdl.models.swag import SWAG, MultiSWAG


def _tracked_module(d=4):
    module = nn.Module()
    module.w = nn.Parameter(torch.zeros(d, dtype=torch.float64))
    module.net = nn.Identity()
    module.likelihood = None
    return module


def test_moments_and_deviations_equal_their_batch_definitions():
    module = _tracked_module()
    collector = SWAGCollector(module, start=2, every=3, max_rank=4)
    g = torch.Generator().manual_seed(0)
    snapshots = []
    for step in range(1, 31):
        with torch.no_grad():
            module.w.copy_(
                torch.randn(4, generator=g, dtype=torch.float64)
                * torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64)
            )
        collector.after_step()
        if step > 2 and (step - 2) % 3 == 0:
            snapshots.append(module.w.detach().clone())
    stack = torch.stack(snapshots)
    assert collector.num_snapshots == len(snapshots) == 9
    assert torch.allclose(collector.mean, stack.mean(0), atol=1e-12)
    assert torch.allclose(collector.square_mean - collector.mean**2, stack.var(0, unbiased=False), atol=1e-12)
    running = torch.cumsum(stack, 0) / torch.arange(1, 10, dtype=torch.float64).unsqueeze(1)
    assert torch.allclose(torch.stack(collector.deviations), (stack - running)[-4:], atol=1e-12)


def test_draws_have_the_swag_covariance_within_monte_carlo_error():
    module = _tracked_module()
    collector = SWAGCollector(module, max_rank=3)
    g = torch.Generator().manual_seed(1)
    for _ in range(12):
        with torch.no_grad():
            module.w.copy_(torch.randn(4, generator=g, dtype=torch.float64))
        collector.collect()
    for covariance in ("diag", "lowrank"):
        swag = SWAG(module, collector, covariance=covariance)
        d = swag.deviations
        sigma = (
            torch.diag(swag.variance)
            if covariance == "diag"
            else torch.diag(swag.variance) / 2 + d @ d.T / (2 * (d.shape[1] - 1))
        )
        n = 40000
        draws = swag.sample_parameters(n, generator=torch.Generator().manual_seed(2))
        centred = draws - swag.mean
        empirical = centred.T @ centred / n
        sd = torch.sqrt((torch.outer(torch.diagonal(sigma), torch.diagonal(sigma)) + sigma**2) / n)
        assert bool(((empirical - sigma).abs() < 5 * sd).all()), (
            covariance
        )  # 5 sd over 16 entries: < 1e-5 false failures


def test_batch_norm_statistics_are_recomputed_for_each_draw():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    net.out_features = 2
    model = PlainNet(net)
    x = torch.randn(64, 3)
    collector = SWAGCollector(model, max_rank=3)
    for _ in range(5):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1 * torch.randn_like(p))
        collector.collect()
    swag = SWAG(model, collector, bn_data=[x[:32], x[32:]])
    params = swag._as_dict(swag.sample_parameters(1, generator=torch.Generator().manual_seed(3))[0])
    swag._refresh_batch_norm(params)
    hidden = x @ params["net.0.weight"].T + params["net.0.bias"]
    bn = model.net[1]
    assert torch.allclose(bn.running_mean, hidden.mean(0), atol=1e-5)
    # momentum=None averages the two batches' statistics (each an unbiased variance of its 32 rows)
    assert torch.allclose(bn.running_var, (hidden[:32].var(0) + hidden[32:].var(0)) / 2, rtol=1e-4)
    with pytest.raises(InputError, match="bn_data"):
        SWAG(model, collector)


def test_swag_and_multiswag_from_a_trainer_run_answer_predict():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g)
    y = (x[:, 0] * x[:, 1] > 0).long()
    members = []
    for seed in range(2):
        model = PlainNet(MLP(2, [16], 2))
        collector = SWAGCollector(model, start=40, every=4, max_rank=5)
        Trainer(
            model,
            optimizer="sgd",
            lr=0.05,
            epochs=15,
            batch_size=20,
            seed=seed,
            progress=False,
            callbacks=[collector],
        ).fit((x, y))
        members.append(SWAG(model, collector))
    pred = predict(members[0], x[:10], num_samples=8)
    assert pred.probs.shape == (10, 2) and float(pred.mutual_information.mean()) > 0
    mix = MultiSWAG(members).predictive_samples(x[:10], 5)
    assert mix.probs.shape == (5, 10, 2)
    with pytest.raises(InputError, match="snapshots"):
        SWAG(members[0].model, SWAGCollector(members[0].model))
