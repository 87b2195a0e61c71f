import pyro
import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.inference import Trainer
from bayesdl.inference.predictive import ClassificationPrediction, RegressionPrediction, predict
from bayesdl.models.nets import MLP
from bayesdl.models.pyro_bnn import PyroBNN, PyroPosterior, to_pyro_model


def test_every_parameter_becomes_a_sample_site_with_the_prior():
    net = MLP(3, [5], 2)
    model = to_pyro_model(net, prior_scale=0.5, likelihood="heteroscedastic")
    trace = pyro.poutine.trace(model).get_trace(torch.randn(4, 3), torch.randn(4))
    weights = {name: site for name, site in trace.nodes.items() if name.startswith("net.")}
    assert set(weights) == {f"net.{n}" for n, _ in net.named_parameters()}
    site = weights["net.layers.0.weight"]
    assert site["value"].shape == (5, 3)
    expected = torch.distributions.Normal(0.0, 0.5).log_prob(site["value"]).sum()
    assert torch.allclose(site["fn"].log_prob(site["value"]), expected)
    assert trace.nodes["y"]["is_observed"]
    assert not list(model.parameters())  # all weights are latent: nothing left for an optimiser


def test_svi_with_the_shared_trainer_and_autoguide_learns(seed):
    torch.manual_seed(seed(0))
    x = torch.randn(200, 2)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = PyroBNN(MLP(2, [8], 2), prior_scale=1.0)
    guide = model.autoguide()
    Trainer(
        model,
        guide=guide,
        elbo="meanfield",
        lr=0.05,
        epochs=20,
        batch_size=50,
        progress=False,
        device="cpu",
        seed=seed(0),
    ).fit((x, y))
    pred = predict(PyroPosterior(model, guide), x, num_samples=10)
    assert isinstance(pred, ClassificationPrediction) and (pred.predicted == y).float().mean() > 0.85


def test_nuts_runs_over_the_weights_and_feeds_predict():
    pyro.set_rng_seed(0)
    x = torch.randn(20, 1)
    y = 2 * x[:, 0] + 0.1 * torch.randn(20)
    model = to_pyro_model(MLP(1, [3], 1), likelihood="homoscedastic")
    mcmc = pyro.infer.MCMC(
        pyro.infer.NUTS(model, max_tree_depth=4), num_samples=8, warmup_steps=8, disable_progbar=True
    )
    mcmc.run(x, y)
    samples = mcmc.get_samples()
    assert "noise_std" in samples and samples["net.layers.0.weight"].shape == (8, 3, 1)
    pred = predict(PyroPosterior(model, samples=samples), x, num_samples=4)
    assert (
        isinstance(pred, RegressionPrediction)
        and pred.mean.shape == (20,)
        and bool((pred.aleatoric > 0).all())
    )


def test_bad_inputs():
    model = PyroBNN(MLP(2, [4], 3))
    with pytest.raises(InputError, match="y"):
        model(torch.randn(3, 2), torch.tensor([0, 1, 7]))
    with pytest.raises(InputError, match="shape"):
        model(torch.randn(3, 5))
    with pytest.raises(InputError, match="exactly one"):
        PyroPosterior(model)
    with pytest.raises(InputError, match="num_samples"):
        PyroPosterior(model, model.autoguide()).predictive_samples(torch.randn(3, 2), 0)
