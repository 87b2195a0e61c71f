import pytest
import torch

import bayesdl
from bayesdl.data import heteroscedastic_noise_std, toy_regression
from bayesdl.errors import InputError
from bayesdl.inference import Trainer, fit_ensemble
from bayesdl.inference.objectives import LossObjective
from bayesdl.inference.predictive import ClassificationPrediction, RegressionPrediction, predict
from bayesdl.models.bnn import (
    BayesByBackprop,
    DeepEnsemble,
    MCDropout,
    PlainNet,
    bayesian,
    gaussian_nll_from_log_var,
    model_precision,
)
from bayesdl.models.nets import MLP, LeNet
from bayesdl.nn.bayesian_layers import BayesianConv2d, BayesianLinear
from bayesdl.nn.priors import GaussianPrior, ScaleMixturePrior


def test_bayesian_converts_linear_and_conv_and_can_start_from_the_net():
    net = LeNet(1, 8, 10)
    bnn = bayesian(net, prior=ScaleMixturePrior(), estimator="flipout", init_from_net=True)
    convs = [m for m in bnn.modules() if isinstance(m, BayesianConv2d)]
    linears = [m for m in bnn.modules() if isinstance(m, BayesianLinear)]
    assert len(convs) == 2 and len(linears) == 3
    assert torch.equal(convs[0].weight_mu, net.features[0].weight)
    assert not any(isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) for m in bnn.modules())
    fresh = bayesian(net, init_from_net=False)
    assert not torch.equal(
        next(m for m in fresh.modules() if isinstance(m, BayesianConv2d)).weight_mu, net.features[0].weight
    )
    with pytest.raises(InputError, match="no nn.Linear"):
        bayesian(torch.nn.ReLU())


def test_elbo_minibatch_scaling_sums_to_the_full_batch_negative_elbo():
    torch.manual_seed(0)
    model = BayesByBackprop(MLP(3, [8], 1), "homoscedastic", prior=GaussianPrior(0.8))
    model.set_sampling(False)  # posterior means: the data term is deterministic, the KL is closed form
    x, y = torch.randn(60, 3), torch.randn(60)
    n = len(x)
    summed = sum(len(xb) * model.loss(xb, yb, num_data=n) for xb, yb in zip(x.split(20), y.split(20)))
    full_negative_elbo = model.data_nll(x, y).sum() + model.kl()
    assert torch.allclose(summed, full_negative_elbo, rtol=1e-5)
    assert torch.allclose(
        n * model.loss(x, y), full_negative_elbo, rtol=1e-5
    )  # num_data omitted = full batch
    # the shared trainer passes N (not the batch size) to loss(..., num_data)
    assert torch.allclose(
        LossObjective(model).loss((x[:20], y[:20]), num_data=n), model.loss(x[:20], y[:20], num_data=n)
    )


def test_heteroscedastic_nll_is_stable_and_exact():
    mean, log_var, y = torch.tensor([0.5, 0.0]), torch.tensor([-30.0, 40.0]), torch.tensor([0.5, 3.0])
    value = gaussian_nll_from_log_var(mean, log_var, y)
    reference = -torch.distributions.Normal(mean.double(), (0.5 * log_var.double()).exp()).log_prob(
        y.double()
    )
    assert torch.isfinite(value).all() and torch.allclose(value.double(), reference, rtol=1e-6)


def test_mc_dropout_precision_and_noise():
    assert model_precision(2.0, 0.1, 50, 0.01) == pytest.approx(4 * 0.9 / (2 * 50 * 0.01))
    model = MCDropout(MLP(2, [16], 1, dropout=0.3), "homoscedastic", tau=4.0)
    pred = predict(model, torch.randn(5, 2), num_samples=20)
    assert torch.allclose(pred.aleatoric, torch.full((5,), 0.25)) and bool((pred.epistemic > 0).all())
    with pytest.raises(InputError, match="dropout"):
        MCDropout(MLP(2, [16], 1), "homoscedastic")


def _gap_epistemic_and_noise_correlation():
    torch.manual_seed(0)
    x, y, _ = toy_regression("gap", 300, seed=0)
    ens = DeepEnsemble(
        MLP(1, [32, 32], 2, activation="tanh"), num_members=4, likelihood="heteroscedastic", seed=0
    )
    fit_ensemble(ens, (x, y), epochs=60, lr=1e-2, batch_size=100, progress=False, device="cpu")
    grid_gap = torch.linspace(-0.4, 0.4, 20).unsqueeze(1)
    grid_data = torch.cat([torch.linspace(-2.5, -1.5, 10), torch.linspace(1.5, 2.5, 10)]).unsqueeze(1)
    gap, data = predict(ens, grid_gap), predict(ens, grid_data)
    xh, yh, _ = toy_regression("heteroscedastic", 400, seed=1)
    bbb = BayesByBackprop(MLP(1, [32, 32], 2), "heteroscedastic")
    Trainer(bbb, lr=1e-2, epochs=60, batch_size=100, progress=False, device="cpu", seed=0).fit((xh, yh))
    grid = torch.linspace(-2.8, 2.8, 50).unsqueeze(1)
    pred = predict(bbb, grid, num_samples=30)
    corr = torch.corrcoef(torch.stack([pred.aleatoric.sqrt(), heteroscedastic_noise_std(grid.squeeze(1))]))[
        0, 1
    ]
    return gap.epistemic.mean(), data.epistemic.mean(), float(corr)


def test_uncertainty_decomposition_on_toy_data_after_training():
    gap_epistemic, data_epistemic, corr = _gap_epistemic_and_noise_correlation()
    assert gap_epistemic > 3 * data_epistemic
    assert corr > 0.8


@pytest.mark.parametrize("likelihood", ["categorical", "heteroscedastic"])
def test_predict_works_for_every_method_and_bad_inputs_are_rejected(likelihood):
    outputs = 3 if likelihood == "categorical" else 2
    models = [
        PlainNet(MLP(4, [8], outputs), likelihood),
        MCDropout(MLP(4, [8], outputs, dropout=0.2), likelihood),
        DeepEnsemble(MLP(4, [8], outputs), 2, likelihood),
        BayesByBackprop(MLP(4, [8], outputs), likelihood, estimator="flipout"),
    ]
    x = torch.randn(7, 4)
    y = torch.randint(0, 3, (7,)) if likelihood == "categorical" else torch.randn(7)
    kind = ClassificationPrediction if likelihood == "categorical" else RegressionPrediction
    for model in models:
        pred = predict(model, x, num_samples=4, batch_size=3)
        assert isinstance(pred, kind)
        if kind is ClassificationPrediction:
            assert torch.allclose(pred.probs.sum(1), torch.ones(7)) and bool(
                (pred.mutual_information >= 0).all()
            )
        else:
            assert pred.mean.shape == (7,) and bool((pred.aleatoric > 0).all())
        with pytest.raises(InputError, match="num_samples"):
            predict(model, x, num_samples=0)
        with pytest.raises(InputError, match="shape"):
            predict(model, torch.randn(7, 5), num_samples=2)
        with pytest.raises(InputError, match="NaN"):
            predict(model, torch.full((7, 4), float("nan")), num_samples=2)
        with pytest.raises(InputError, match="y"):
            bad_y = y + 3 if likelihood == "categorical" else torch.full((7,), float("nan"))
            model.loss(x, bad_y)


def test_bbb_trains_with_the_trainer_and_roundtrips_through_save_load(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(200, 2)
    y = (x[:, 0] > 0).long()
    model = BayesByBackprop(
        MLP(2, [16], 2), prior=GaussianPrior(1.0, learnable=True), estimator="local_reparam"
    )
    history = Trainer(model, lr=1e-2, epochs=15, batch_size=50, progress=False, device="cpu").fit((x, y))
    assert history.losses[-1] < history.losses[0]
    assert (predict(model, x, 10).predicted == y).float().mean() > 0.9
    loaded = bayesdl.io.load(bayesdl.io.save(model, tmp_path / "bbb.safetensors"))
    model.set_sampling(False)
    loaded.set_sampling(False)
    assert torch.allclose(model(x), loaded(x))
    ens = DeepEnsemble(MLP(2, [4], 2), 2)
    again = bayesdl.io.load(bayesdl.io.save(ens, tmp_path / "ens.safetensors"))
    assert torch.allclose(predict(ens, x).probs, predict(again, x).probs)
    assert not torch.equal(ens.members[0].net.layers[0].weight, ens.members[1].net.layers[0].weight)


def test_sequence_models_work_with_bbb_and_mc_dropout():
    from bayesdl.models.nets import RecurrentNet

    x, y = torch.randn(6, 5, 3), torch.randint(0, 2, (6,))
    bbb = BayesByBackprop(RecurrentNet(3, 8, 2, cell="gru"), estimator="flipout")
    assert isinstance(bbb.net.head, BayesianLinear) and isinstance(
        bbb.net.rnn, torch.nn.GRU
    )  # recurrent weights stay point estimates
    mcd = MCDropout(RecurrentNet(3, 8, 1, cell="lstm", dropout=0.3), "homoscedastic")
    assert predict(bbb, x, 3).probs.shape == (6, 2) and bool((predict(mcd, x, 5).epistemic > 0).all())
    assert torch.isfinite(bbb.loss(x, y, num_data=100))


def test_bbb_trains_with_fused_adam_unless_told_otherwise():
    x, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
    model = BayesByBackprop(MLP(4, [8], 3))
    trainer = Trainer(model, epochs=1, batch_size=10, device="cpu", progress=False)
    trainer.fit((x, y))
    assert trainer.optimizer.defaults["fused"] is True
    trainer = Trainer(
        model, epochs=1, batch_size=10, device="cpu", progress=False, optimizer_kwargs={"fused": False}
    )
    trainer.fit((x, y))
    assert not trainer.optimizer.defaults["fused"]
    plain = Trainer(PlainNet(MLP(4, [8], 3)), epochs=1, batch_size=10, device="cpu", progress=False)
    plain.fit((x, y))
    assert plain.optimizer.defaults.get("fused") is True  # the Trainer's default for every model
