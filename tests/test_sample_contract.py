"""One sampling contract over every generative family (issue 18 section 5): ``sample(num_samples, *, ..., seed=None,
generator=None)``; a seed (or a generator) gives the same draws whatever the global state and leaves the global
generators as they were; old call forms still work with a DeprecationWarning. Also: flows as torch Distributions."""

from __future__ import annotations

import inspect
import math
import random

import numpy as np
import pyro
import pytest
import torch

from bayesdl.models import (
    DBN,
    DDPM,
    IAF,
    MADE,
    MAF,
    NADE,
    RBM,
    FlowMatching,
    MultiScaleFlow,
    PixelCNN,
    PlanarFlow,
    RealNVP,
    ScoreSDE,
)
from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder
from bayesdl.nn import DenoisingMLP

FAMILIES = {
    "vae": lambda: VAE(MLPEncoder([6], 2, [8]), MLPDecoder(2, [6], [8])),
    "realnvp": lambda: RealNVP(4, num_layers=2, hidden_sizes=[8]),
    "maf": lambda: MAF(4, num_layers=2, hidden_sizes=[8]),
    "iaf": lambda: IAF(4, num_layers=2, hidden_sizes=[8]),
    "planar": lambda: PlanarFlow(2, num_layers=2),
    "multiscale": lambda: MultiScaleFlow([1, 4, 4], num_scales=1, steps_per_scale=1, hidden_channels=4),
    "nade": lambda: NADE(6, 4),
    "made": lambda: MADE(6, [8], num_masks=2),
    "pixelcnn": lambda: PixelCNN(1, 4, num_layers=2, hidden_channels=4),
    "rbm": lambda: RBM(6, 4),
    "dbn": lambda: DBN([6, 4, 3]),
    "ddpm": lambda: DDPM(DenoisingMLP(2), data_shape=[2], num_steps=10),
    "score-sde": lambda: ScoreSDE(DenoisingMLP(2, hidden=8, num_blocks=1), [2]),
    "flow-matching": lambda: FlowMatching(DenoisingMLP(2, hidden=8, num_blocks=1), [2]),
}
FAST = {
    "rbm": {"num_steps": 5},
    "dbn": {"num_steps": 5},
    "score-sde": {"method": "sde", "num_steps": 5},
    "flow-matching": {"method": "euler", "options": {"step_size": 0.25}},
}


def _global_states():
    return torch.get_rng_state().clone(), np.random.get_state()[1].copy(), random.getstate()


@pytest.mark.parametrize("name", list(FAMILIES))
def test_sample_signature_seed_and_global_state(name):
    torch.manual_seed(0)
    model = FAMILIES[name]()
    params = inspect.signature(model.sample).parameters
    first, *rest = params.values()
    assert first.name == "num_samples" and first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest), [(p.name, p.kind) for p in rest]
    assert params["seed"].default is None and params["generator"].default is None
    extra = FAST.get(name, {})
    before = _global_states()
    a = model.sample(3, seed=5, **extra)
    after_seeded = _global_states()
    torch.manual_seed(123)  # a different global state must not change seeded draws
    b = model.sample(3, seed=5, **extra)
    assert torch.equal(a, b) and a.shape[0] == 3
    assert (
        torch.equal(before[0], after_seeded[0])
        and (before[1] == after_seeded[1]).all()
        and before[2] == after_seeded[2]
    )
    c = model.sample(3, generator=torch.Generator().manual_seed(9), **extra)
    d = model.sample(3, generator=torch.Generator().manual_seed(9), **extra)
    assert torch.equal(c, d)
    # without a seed the draws are fresh: two calls differ (continuous families surely; binary ones with
    # probability 1 - 2^-(3 x 6) at least for these untrained models, whose pixel probabilities are near 1/2)
    assert not torch.equal(model.sample(3, **extra), model.sample(3, **extra))


@pytest.mark.parametrize(
    "name,old_call,new_call",
    [
        ("vae", lambda m: m.sample(2, True, 3), lambda m: m.sample(2, mean=True, seed=3)),
        ("nade", lambda m: m.sample(n=2, seed=3), lambda m: m.sample(2, seed=3)),
        ("rbm", lambda m: m.sample(2, 5, seed=3), lambda m: m.sample(2, num_steps=5, seed=3)),
        (
            "realnvp",
            lambda m: m.sample(2, None, torch.Generator().manual_seed(3)),
            lambda m: m.sample(2, generator=torch.Generator().manual_seed(3)),
        ),
    ],
)
def test_old_call_forms_still_work_with_a_deprecation_warning(name, old_call, new_call):
    model = FAMILIES[name]()
    with pytest.warns(DeprecationWarning, match="is deprecated"):
        old = old_call(model)
    assert torch.equal(old, new_call(model))


def test_flow_as_a_torch_distribution_shapes_rsample_and_pyro():
    flow = MAF(3, num_layers=2, hidden_sizes=[8])
    d = flow.as_distribution()
    assert isinstance(d, torch.distributions.Distribution)
    assert flow.sample((5,)).shape == (5, 3) and flow.sample((5, 2), seed=0).shape == (5, 2, 3)
    assert torch.equal(flow.sample((4,), seed=1), flow.sample(4, seed=1))
    x = d.rsample((6,))
    x.sum().backward()  # reparameterised: gradients reach the flow's parameters
    assert any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in flow.parameters())
    assert d.log_prob(x.detach()).shape == (6,)
    torch.testing.assert_close(d.log_prob(x.detach()), flow.log_prob(x.detach()))

    def model():
        return pyro.sample("x", d)

    trace = pyro.poutine.trace(model).get_trace()
    site = trace.nodes["x"]
    assert site["value"].shape == (3,)
    torch.testing.assert_close(
        site["fn"].log_prob(site["value"].detach()), flow.log_prob(site["value"].detach()[None])[0]
    )
    with pytest.raises(NotImplementedError, match="estimate_mean"):
        _ = d.mean
    with pytest.raises(NotImplementedError, match="estimate_entropy"):
        d.entropy()


def test_flow_monte_carlo_mean_and_entropy_match_a_gaussian_flow(seed):
    """An untrained planar flow is close to, but not exactly, Gaussian, so check against a flow whose law is known:
    a MAF with its last layer zeroed is the identity map, x ~ N(0, I_3): E[x] = 0, H = 1.5 log(2 pi e). The
    estimates must sit within 4.5 of their own standard errors (false-failure rate about 1e-5 per check)."""
    torch.manual_seed(seed(0))
    flow = MAF(3, num_layers=1, hidden_sizes=[8])
    with torch.no_grad():
        for p in flow.parameters():
            p.zero_()
    d = flow.distribution()
    mean, se = d.estimate_mean(4000)
    assert mean.shape == (3,) and bool(((mean.abs() / se) < 4.5).all())
    entropy, se_h = d.estimate_entropy(4000)
    assert abs(float(entropy) - 1.5 * math.log(2 * math.pi * math.e)) < 4.5 * float(se_h)


def test_predict_is_exported_from_bayesdl_inference():
    import bayesdl.inference
    from bayesdl.inference.predictive import predict as inner

    assert bayesdl.inference.predict is inner and "predict" in bayesdl.inference.__all__
