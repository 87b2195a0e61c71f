import json
import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer.autoguide import AutoDelta, AutoNormal

from bayesdl.errors import CheckpointError, InputError, TrainingDivergedError
from bayesdl.inference import Callback, History, PyroObjective, Trainer
from bayesdl.models.logistic import BayesianLogisticRegression


class Regression(torch.nn.Module):
    """A tiny model with its own loss: least squares y ~ x w + b."""

    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(width, 1)

    def loss(self, x, y):
        return ((self.lin(x).squeeze(-1) - y) ** 2).mean()


def _regression_data(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(n, generator=g)
    return x, y


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def test_loss_goes_down_and_history_is_recorded(tmp_path, seed):
    torch.manual_seed(seed(0))
    model = Regression()
    history = Trainer(model, lr=0.05, epochs=15, batch_size=32, progress=False, device="cpu",
                      seed=seed(0)).fit(_regression_data(seed=seed(0)))
    assert len(history) == 15
    assert history.losses[-1] < 0.1 * history.losses[0]
    path = history.to_json(tmp_path / "h.json")
    assert History.from_json(path).losses == history.losses
    assert json.loads(path.read_text())[0]["epoch"] == 1.0


def test_pyro_svi_path_learns_logistic_regression(seed):
    torch.manual_seed(seed(0))
    x = torch.randn(300, 2)
    y = (x[:, 0] - x[:, 1] > 0).long()
    model = BayesianLogisticRegression(2, 2, prior_scale=3.0)
    guide = AutoNormal(model)
    history = Trainer(model, guide=guide, elbo="meanfield", lr=0.05, epochs=30, batch_size=50, progress=False,
                      seed=seed(0)).fit((x, y))
    assert history.losses[-1] < history.losses[0]
    w = guide.median()["weight"]
    # class 1 is favoured by x0 - x1, so its weight column must rise with x0 and fall with x1
    assert float(w[0, 1] - w[0, 0]) > 1.0 and float(w[1, 1] - w[1, 0]) < -1.0


def _gauss_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def test_minibatch_elbo_is_scaled_to_the_full_data():
    """With a delta guide the ELBO is deterministic; equal minibatches must average to the full-batch value."""
    x = torch.randn(60) + 2.0
    guide = AutoDelta(_gauss_model)
    objective = PyroObjective(_gauss_model, guide)
    objective.setup(x, num_data=60)
    full = float(objective.loss(x, num_data=60).detach())
    parts = [float(objective.loss(chunk, num_data=60).detach()) for chunk in x.split(15)]
    assert math.isclose(sum(parts) / len(parts), full, rel_tol=1e-5)
    # the global prior term is counted once, not once per batch: a wrong scale would change the value
    mu = float(guide.median()["mu"])
    exact = -(dist.Normal(mu, 1.0).log_prob(x).sum() + dist.Normal(0.0, 10.0).log_prob(torch.tensor(mu))) / 60
    assert math.isclose(full, float(exact), rel_tol=1e-5)


def test_iwae_objective_trains_through_renyi_elbo(seed):
    torch.manual_seed(seed(0))
    x = torch.randn(40) + 1.0
    guide = AutoNormal(_gauss_model)
    # plain SGD: near the optimum Adam's normalised steps wander with sd ~0.05 (measured over 10 seeds), so
    # its final iterate is not a fair test of the objective; SGD's final iterate has sd ~0.02 (8 seeds)
    history = Trainer(_gauss_model, guide=guide, elbo="iwae", num_particles=5, optimizer="sgd", lr=0.02, epochs=400,
                      batch_size=40, progress=False, seed=seed(0)).fit(x)
    assert history.losses[-1] < history.losses[0]
    exact_posterior_mean = float(x.sum() / (len(x) + 1 / 100))  # conjugate N(0, 10^2) prior, unit noise
    # the exact posterior sd is 1 / sqrt(40) = 0.16; 0.1 is 5 sd of the final iterate's optimisation noise
    assert abs(float(guide.median()["mu"]) - exact_posterior_mean) < 0.1


def test_early_stopping_restores_the_best_epoch():
    torch.manual_seed(0)
    model = Regression()
    values = iter([5.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, trainer, epoch, record):
            snapshots.append(_params(model))

    trainer = Trainer(model, lr=0.05, epochs=8, batch_size=50, progress=False, early_stopping_patience=2,
                      val_metric=lambda m: next(values), callbacks=[Snapshot()])
    history = trainer.fit(_regression_data())
    assert len(history) == 4  # best at epoch 2, two epochs without improvement, then stop
    assert all(torch.equal(a, b) for a, b in zip(_params(model), snapshots[1]))


def test_validation_loss_is_recorded(seed):
    torch.manual_seed(seed(0))
    model = Regression()
    history = Trainer(model, lr=0.05, epochs=3, progress=False, seed=seed(0)).fit(_regression_data(seed=seed(0)),
                                                                        val_data=_regression_data(50, seed(1)))
    assert len(history["val_loss"]) == 3 and history["val_loss"][-1] < history["val_loss"][0]


def test_callback_can_stop_training():
    class StopAtTwo(Callback):
        def on_epoch_end(self, trainer, epoch, record):
            if epoch == 2:
                trainer.stop_training = True

    history = Trainer(Regression(), epochs=10, progress=False, callbacks=[StopAtTwo()]).fit(_regression_data())
    assert len(history) == 2


@pytest.mark.parametrize("kind", ["loss", "pyro"])
def test_resume_after_epoch_k_equals_an_uninterrupted_run(tmp_path, kind):
    def build():
        torch.manual_seed(1)
        if kind == "loss":
            return Regression(), None, _regression_data()
        x = torch.randn(120, 4)
        y = (x.sum(1) > 0).long()
        model = BayesianLogisticRegression(4, 2)
        return model, AutoNormal(model), (x, y)

    def trainer(model, guide, epochs, path=None):
        return Trainer(model, guide=guide, lr=0.05, epochs=epochs, batch_size=32, progress=False, seed=7,
                       scheduler="cosine", checkpoint_path=path, device="cpu")

    model, guide, data = build()
    trainer(model, guide, 6).fit(data)
    reference = _params(guide if guide is not None else model)

    model, guide, data = build()
    ckpt = tmp_path / "ckpt.safetensors"
    class Interrupt(Callback):
        def on_epoch_end(self, trainer, epoch, record):
            trainer.stop_training = epoch == 3  # stop after epoch 3, as if the process were killed

    first = trainer(model, guide, 6, ckpt)
    first.callbacks.append(Interrupt())
    first.fit(data)
    assert len(first.history) == 3
    assert ckpt.exists() and not list(tmp_path.glob(".*tmp"))

    model, guide, data = build()
    resumed = trainer(model, guide, 6)
    history = resumed.fit(data, resume_from=ckpt)
    final = _params(guide if guide is not None else model)
    assert len(history) == 6
    assert all(torch.equal(a, b) for a, b in zip(reference, final))


def test_nan_loss_stops_with_epoch_and_batch_and_keeps_the_last_good_checkpoint(tmp_path):
    class Explodes(Regression):
        calls = 0

        def loss(self, x, y):
            Explodes.calls += 1
            value = super().loss(x, y)
            return value * float("nan") if Explodes.calls > 7 else value

    model = Explodes()
    ckpt = tmp_path / "ckpt.safetensors"
    trainer = Trainer(model, lr=0.01, epochs=5, batch_size=50, progress=False, checkpoint_path=ckpt)
    with pytest.raises(TrainingDivergedError, match=r"epoch 2, batch 4"):
        trainer.fit(_regression_data())
    assert all(torch.isfinite(p).all() for p in model.parameters())
    from bayesdl.io import load_state

    assert load_state(ckpt)["epoch"] == 1  # only the finished epoch was checkpointed, and it loads


def test_resume_refuses_a_foreign_checkpoint(tmp_path):
    bad = tmp_path / "model.pt"
    torch.save({"epoch": 3}, bad)
    with pytest.raises(CheckpointError, match="never unpickles"):
        Trainer(Regression(), epochs=4, progress=False).fit(_regression_data(), resume_from=bad)


def test_bad_trainer_arguments():
    with pytest.raises(InputError, match="optimizer"):
        Trainer(Regression(), optimizer="adagrad-ish")
    with pytest.raises(InputError, match="epochs"):
        Trainer(Regression(), epochs=0)
    with pytest.raises(InputError, match="loss"):
        Trainer(torch.nn.Linear(2, 2))
    with pytest.raises(InputError, match="device"):
        Trainer(Regression(), device="tpu:9")


def test_iwae_with_global_latents_weights_the_prior_once_per_data_set():
    """With a global latent, the minibatch IWAE estimate must scale local terms by N/B, as the ELBO does."""
    torch.manual_seed(0)
    x = torch.randn(60) + 2.0
    guide = AutoDelta(_gauss_model)  # a delta guide makes every importance weight equal: IWAE = ELBO
    iwae = PyroObjective(_gauss_model, guide, elbo="iwae", num_particles=3)
    elbo = PyroObjective(_gauss_model, guide, elbo="trace")
    iwae.setup(x[:15], num_data=60)
    elbo.setup(x[:15], num_data=60)
    for chunk in x.split(15):
        assert math.isclose(float(iwae.loss(chunk, 60)), float(elbo.loss(chunk, 60).detach()), rel_tol=1e-5)


def test_ddp_refuses_an_objective_whose_gradients_it_cannot_average():
    with pytest.raises(InputError, match="RenyiELBO"):
        Trainer(_gauss_model, guide=AutoNormal(_gauss_model), elbo="iwae", strategy="ddp")


def test_device_names_resolve_without_touching_a_gpu():
    from bayesdl.inference import resolve_device

    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected and resolve_device(None).type == expected


def test_training_data_is_checked_once_and_minibatches_are_trusted():
    from bayesdl.validation import is_checked

    class Counting(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mu = torch.nn.Parameter(torch.zeros(1))
            self.full_checks, self.batch_checks = 0, 0

        def check_data(self, x, name="x"):
            if is_checked(x):
                self.batch_checks += 1
                return x
            self.full_checks += 1
            if bool((x < 0).any()):
                raise InputError(f"{name} must be >= 0")
            return x

        def loss(self, x):
            self.check_data(x)
            return ((x - self.mu) ** 2).mean()

    model = Counting()
    Trainer(model, epochs=2, batch_size=10, progress=False).fit(torch.ones(30, 1))
    assert (model.full_checks, model.batch_checks) == (1, 6)  # one pass over the data, then 2 x 3 trusted batches
    model.check_data(torch.ones(3, 1))  # outside the trainer nothing is trusted
    assert model.full_checks == 2
    with pytest.raises(InputError, match="must be >= 0"):  # bad training data fail before the first step
        Trainer(Counting(), epochs=1, progress=False).fit(-torch.ones(5, 1))


@pytest.mark.parametrize("optimizer_kwargs, fused", [({}, True), ({"fused": False}, False), ({"foreach": True}, False)])
def test_adam_runs_fused_by_default_and_matches_the_unfused_update(optimizer_kwargs, fused):
    data = _regression_data(n=64)

    def trained(kwargs):
        torch.manual_seed(0)
        model = Regression()
        trainer = Trainer(model, lr=0.05, epochs=3, batch_size=16, progress=False, device="cpu", seed=0, optimizer_kwargs=kwargs)
        trainer.fit(data)
        return trainer, _params(model)

    trainer, params = trained(optimizer_kwargs)
    assert bool(trainer.optimizer.defaults.get("fused")) is fused
    _, reference = trained({"fused": False, "foreach": False})  # the single-tensor loop
    for p, q in zip(params, reference):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_supervised_data_are_checked_once_at_fit_and_bad_labels_fail_before_training():
    from bayesdl.models.nets import MLP
    from bayesdl.models.supervised import PlainNet
    from bayesdl.validation import checked_data, is_checked

    x, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    model = PlainNet(MLP(3, [8], 2))
    calls = []
    original = model.likelihood.check_target

    def counting(target):
        calls.append(is_checked(target))
        return original(target)

    model.likelihood.check_target = counting
    Trainer(model, epochs=2, batch_size=10, progress=False, device="cpu").fit((x, y))
    assert calls[0] is False and all(calls[1:]) and len(calls) >= 9  # the whole y once, then 8 trusted batches
    bad = y.clone()
    bad[7] = 5
    before = _params(model)
    with pytest.raises(InputError, match="class labels"):
        Trainer(model, epochs=1, batch_size=10, progress=False, device="cpu").fit((x, bad))
    assert all(torch.equal(p, q) for p, q in zip(before, _params(model)))  # nothing was trained on them
    with checked_data((x, y)):  # only the very tensors of the checked tuple are trusted
        assert is_checked(x) and is_checked(y) and not is_checked(x.clone())
