import copy
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
    history = Trainer(
        model, lr=0.05, epochs=15, batch_size=32, progress=False, device="cpu", seed=seed(0)
    ).fit(_regression_data(seed=seed(0)))
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
    history = Trainer(
        model, guide=guide, elbo="meanfield", lr=0.05, epochs=30, batch_size=50, progress=False, seed=seed(0)
    ).fit((x, y))
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
    history = Trainer(
        _gauss_model,
        guide=guide,
        elbo="iwae",
        num_particles=5,
        optimizer="sgd",
        lr=0.02,
        epochs=400,
        batch_size=40,
        progress=False,
        seed=seed(0),
    ).fit(x)
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

    trainer = Trainer(
        model,
        lr=0.05,
        epochs=8,
        batch_size=50,
        progress=False,
        early_stopping_patience=2,
        val_metric=lambda m: next(values),
        callbacks=[Snapshot()],
    )
    history = trainer.fit(_regression_data())
    assert len(history) == 4  # best at epoch 2, two epochs without improvement, then stop
    assert all(torch.equal(a, b) for a, b in zip(_params(model), snapshots[1]))


def test_validation_loss_is_recorded(seed):
    torch.manual_seed(seed(0))
    model = Regression()
    history = Trainer(model, lr=0.05, epochs=3, progress=False, seed=seed(0)).fit(
        _regression_data(seed=seed(0)), val_data=_regression_data(50, seed(1))
    )
    assert len(history["val_loss"]) == 3 and history["val_loss"][-1] < history["val_loss"][0]


def test_callback_can_stop_training():
    class StopAtTwo(Callback):
        def on_epoch_end(self, trainer, epoch, record):
            if epoch == 2:
                trainer.stop_training = True

    history = Trainer(Regression(), epochs=10, progress=False, callbacks=[StopAtTwo()]).fit(
        _regression_data()
    )
    assert len(history) == 2


RESUME_KINDS = {
    # name: (model family, elbo, num_particles, data form)
    "loss": ("regression", None, 1, "tensors"),
    "pyro": ("logistic", None, 1, "tensors"),
    "trace-k3": ("logistic", "trace", 3, "tensors"),
    "meanfield-k3": ("logistic", "meanfield", 3, "tensors"),
    "iwae-k3-global-latents": ("logistic", "iwae", 3, "tensors"),
    "vae-iwae-k2-local-latents": ("vae", "iwae", 2, "tensors"),
    "vae-trace-k2": ("vae", "trace", 2, "tensors"),
    "vae-loss": ("vae", None, 1, "tensors"),
    "dataloader-seeded": ("regression", None, 1, "dataloader-seeded"),
    "dataloader-unseeded-workers": ("regression", None, 1, "dataloader-workers"),
    "map-dataset": ("logistic", "trace", 2, "map_dataset"),
}


@pytest.mark.parametrize("kind", list(RESUME_KINDS))
def test_resume_after_epoch_k_equals_an_uninterrupted_run(tmp_path, kind):
    """Before: a Pyro ELBO with num_particles > 1 drifted after resume (Pyro re-guessed max_plate_nesting)."""
    family, elbo, particles, form = RESUME_KINDS[kind]

    def build():
        torch.manual_seed(1)
        if family == "regression":
            model, guide, data = Regression(), None, _regression_data(120)
        elif family == "logistic":
            x = torch.randn(120, 4)
            y = (x.sum(1) > 0).long()
            model = BayesianLogisticRegression(4, 2)
            model, guide, data = model, AutoNormal(model), (x, y)
        else:
            from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder

            model, guide, data = (
                VAE(MLPEncoder([6], 2, [8]), MLPDecoder(2, [6], [8])),
                None,
                (torch.rand(120, 6) > 0.5).float(),
            )
        if form == "dataloader-seeded":
            data = torch.utils.data.DataLoader(
                _MapDataset(*data), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(3)
            )
        elif form == "dataloader-workers":
            data = torch.utils.data.DataLoader(_MapDataset(*data), batch_size=32, shuffle=True, num_workers=1)
        elif form == "map_dataset":
            data = _MapDataset(*data)
        return model, guide, data

    def trainer(model, guide, epochs, path=None):
        return Trainer(
            model,
            guide=guide,
            elbo=elbo,
            num_particles=particles,
            lr=0.05,
            epochs=epochs,
            batch_size=32,
            progress=False,
            seed=7,
            scheduler="cosine",
            checkpoint_path=path,
            device="cpu",
        )

    model, guide, data = build()
    reference_history = trainer(model, guide, 6).fit(data)
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
    assert history.losses == reference_history.losses
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

    if torch.cuda.is_available():
        assert resolve_device("cuda:0") == torch.device("cuda", 0)
    else:  # before: torch.device("cuda") was passed through and failed later inside torch
        with pytest.raises(InputError, match="CUDA is not available"):
            resolve_device("cuda")
        with pytest.raises(InputError, match="CUDA is not available"):
            Trainer(Regression(), device="cuda:1")
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
    assert (model.full_checks, model.batch_checks) == (
        1,
        6,
    )  # one pass over the data, then 2 x 3 trusted batches
    model.check_data(torch.ones(3, 1))  # outside the trainer nothing is trusted
    assert model.full_checks == 2
    with pytest.raises(InputError, match="must be >= 0"):  # bad training data fail before the first step
        Trainer(Counting(), epochs=1, progress=False).fit(-torch.ones(5, 1))


@pytest.mark.parametrize(
    "optimizer_kwargs, fused", [({}, True), ({"fused": False}, False), ({"foreach": True}, False)]
)
def test_adam_runs_fused_by_default_and_matches_the_unfused_update(optimizer_kwargs, fused):
    data = _regression_data(n=64)

    def trained(kwargs):
        torch.manual_seed(0)
        model = Regression()
        trainer = Trainer(
            model,
            lr=0.05,
            epochs=3,
            batch_size=16,
            progress=False,
            device="cpu",
            seed=0,
            optimizer_kwargs=kwargs,
        )
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
    assert (
        calls[0] is False and all(calls[1:]) and len(calls) >= 9
    )  # the whole y once, then 8 trusted batches
    bad = y.clone()
    bad[7] = 5
    before = _params(model)
    with pytest.raises(InputError, match="class labels"):
        Trainer(model, epochs=1, batch_size=10, progress=False, device="cpu").fit((x, bad))
    assert all(torch.equal(p, q) for p, q in zip(before, _params(model)))  # nothing was trained on them
    with checked_data((x, y)):  # only the very tensors of the checked tuple are trusted
        assert is_checked(x) and is_checked(y) and not is_checked(x.clone())


# ------------------------------------------------------------------------------------------------ no side effects
def _rng_snapshot():
    import random

    import numpy as np

    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state()


def _same_rng(a, b):
    return a[0] == b[0] and (a[1] == b[1]).all() and torch.equal(a[2], b[2])


def test_importing_bayesdl_leaves_pyro_settings_and_a_plain_svi_loop_keeps_its_param_store():
    """Before: ``import bayesdl`` set module_local_params=True and a tutorial SVI loop found an empty store."""
    import subprocess
    import sys

    script = """
import pyro, pyro.distributions as dist, torch
import bayesdl, bayesdl.inference, bayesdl.models
from bayesdl.inference import Trainer
assert pyro.settings.get("module_local_params") is False, "import changed a Pyro setting"
def model(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(loc, 1.0), obs=x)
svi = pyro.infer.SVI(model, lambda x: None, pyro.optim.Adam({"lr": 0.1}), pyro.infer.Trace_ELBO())
for _ in range(3):
    svi.step(torch.ones(5))
assert "loc" in pyro.get_param_store().keys(), "the SVI loop's parameter is not in the store"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]


def test_pyro_fit_uses_module_local_params_only_during_the_call_and_guides_do_not_share_parameters():
    assert pyro.settings.get("module_local_params") is False
    pyro.clear_param_store()
    torch.manual_seed(0)
    fits = []
    for sign in (1.0, -1.0):  # two models with the same site names, built with the setting off
        x = torch.randn(200, 2)
        y = (sign * (x[:, 0] - x[:, 1]) > 0).long()
        model = BayesianLogisticRegression(2, 2, prior_scale=3.0)
        guide = AutoNormal(model)
        Trainer(
            model, guide=guide, elbo="meanfield", lr=0.05, epochs=20, batch_size=50, progress=False, seed=0
        ).fit((x, y))
        fits.append(guide.median()["weight"])
        assert pyro.settings.get("module_local_params") is False  # restored after the fit
    assert len(pyro.get_param_store().keys()) == 0  # nothing leaked into the global store
    # each guide learned its own data: the class-1 weight difference has opposite signs
    assert float(fits[0][0, 1] - fits[0][0, 0]) > 0.5 and float(fits[1][0, 1] - fits[1][0, 0]) < -0.5


def test_seeded_fit_restores_every_global_generator_and_repeats_exactly():
    """Before: fit called seed_everything(0): the global streams were reseeded and every repeat was identical."""
    data = _regression_data()
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = Regression()
        before = _rng_snapshot()
        Trainer(model, lr=0.05, epochs=2, batch_size=32, progress=False, seed=11).fit(data)
        assert _same_rng(before, _rng_snapshot())
        results.append(_params(model))
    assert all(torch.equal(a, b) for a, b in zip(*results))


def test_unseeded_fits_are_fresh_yet_follow_the_callers_torch_seed():
    import random

    import numpy as np

    class Noisy(Regression):  # draws from the global torch stream, as dropout or a VAE does
        def loss(self, x, y):
            return super().loss(x + 0.1 * torch.randn_like(x), y)

    data = _regression_data()

    def fit_once():
        torch.manual_seed(0)
        model = Noisy()
        trainer = Trainer(model, lr=0.05, epochs=2, batch_size=32, progress=False)
        return trainer, model

    torch.manual_seed(5)
    py, npy = random.getstate(), np.random.get_state()[1].copy()
    trainer_a, a = fit_once()
    torch.manual_seed(5)
    trainer_a.fit(data)
    torch.manual_seed(5)
    trainer_b, b = fit_once()
    torch.manual_seed(5)
    trainer_b.fit(data)
    assert trainer_a.seed_used == trainer_b.seed_used and all(
        torch.equal(p, q) for p, q in zip(_params(a), _params(b))
    )
    trainer_c, c = fit_once()
    trainer_c.fit(data)  # no reseeding in between: a fresh run
    assert trainer_c.seed_used != trainer_a.seed_used and not torch.equal(_params(a)[0], _params(c)[0])
    assert random.getstate() == py and (np.random.get_state()[1] == npy).all()


# ------------------------------------------------------------------------------------------------ numerical faults
class NaNGradientAt(Regression):
    """A finite loss whose gradient is NaN at one call: sqrt(0) is 0, its derivative is infinite (0 * inf = NaN)."""

    def __init__(self, bad_call):
        super().__init__()
        self.bad_call, self.calls = bad_call, 0

    def loss(self, x, y):
        self.calls += 1
        value = super().loss(x, y)
        if self.calls == self.bad_call:
            value = value + torch.sqrt(self.lin.bias - self.lin.bias.detach()).sum()
        return value


def test_a_nan_gradient_with_a_finite_loss_stops_before_the_step(tmp_path):
    """Before: fit returned normally with NaN parameters, and the checkpoint held NaN."""
    model = NaNGradientAt(bad_call=7)  # 4 batches per epoch: epoch 2, batch 3
    snapshots = []

    class Keep(Callback):
        def on_batch_end(self, trainer, epoch, batch_index, loss):
            snapshots.append((_params(model), copy.deepcopy(trainer.optimizer.state_dict()["state"])))

    ckpt = tmp_path / "ckpt.safetensors"
    trainer = Trainer(
        model,
        lr=0.01,
        epochs=3,
        batch_size=50,
        progress=False,
        seed=0,
        checkpoint_path=ckpt,
        callbacks=[Keep()],
    )
    with pytest.raises(TrainingDivergedError, match=r"gradient norm became (nan|inf) at epoch 2, batch 3"):
        trainer.fit(_regression_data())
    good_params, good_state = snapshots[-1]
    assert all(torch.equal(p, q) for p, q in zip(_params(model), good_params))
    for k, v in trainer.optimizer.state_dict()["state"].items():
        assert all(torch.equal(v[name], good_state[k][name]) for name in v)
    from bayesdl.io import load_state

    saved = load_state(ckpt)
    assert saved["epoch"] == 1 and all(torch.isfinite(t).all() for t in saved["modules"]["model"].values())


def test_the_gradient_check_also_runs_with_clipping():
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 2"):
        Trainer(
            NaNGradientAt(bad_call=2), epochs=1, batch_size=50, clip_grad_norm=1.0, progress=False, seed=0
        ).fit(_regression_data())


@pytest.mark.parametrize("value", [-1.0, 0, float("nan"), float("inf"), "1", True])
def test_clip_grad_norm_must_be_positive(value):
    """Before: -1 turned descent into ascent and 0 froze training."""
    with pytest.raises(InputError, match="clip_grad_norm"):
        Trainer(Regression(), clip_grad_norm=value)


@pytest.mark.parametrize("value", [-0.1, 0, float("nan"), float("inf"), "0.1", True, torch.tensor(0.1)])
def test_lr_must_be_a_positive_finite_number(value):
    with pytest.raises(InputError, match="lr must be a finite number > 0"):
        Trainer(Regression(), lr=value)


def test_a_nan_validation_loss_or_metric_raises_instead_of_being_recorded():
    class NaNInEvaluation(Regression):  # finite training losses, NaN validation losses
        def loss(self, x, y):
            value = super().loss(x, y)
            return value if self.training else value * float("nan")

    with pytest.raises(TrainingDivergedError, match="validation loss is nan after epoch 1"):
        Trainer(NaNInEvaluation(), epochs=2, progress=False, seed=0).fit(
            _regression_data(), val_data=_regression_data(50, 1)
        )
    with pytest.raises(TrainingDivergedError, match="val_metric is nan after epoch 1"):
        Trainer(Regression(), epochs=2, progress=False, seed=0, val_metric=lambda m: float("nan")).fit(
            _regression_data()
        )


def _interrupted_checkpoint(tmp_path, **kwargs):
    ckpt = tmp_path / "ckpt.safetensors"
    Trainer(
        Regression(), epochs=2, batch_size=50, progress=False, seed=0, checkpoint_path=ckpt, **kwargs
    ).fit(_regression_data())
    return ckpt


def test_resuming_with_another_optimizer_or_lr_is_refused(tmp_path):
    """Before: sgd on an Adam checkpoint raised a raw KeyError at the first step, and a new lr was ignored."""
    ckpt = _interrupted_checkpoint(tmp_path, lr=0.01)
    with pytest.raises(CheckpointError, match="Adam.*SGD"):
        Trainer(Regression(), optimizer="sgd", lr=0.01, epochs=4, progress=False, seed=0).fit(
            _regression_data(), resume_from=ckpt
        )
    with pytest.raises(CheckpointError, match="lr=0.01.*lr=0.1"):
        Trainer(Regression(), lr=0.1, epochs=4, progress=False, seed=0).fit(
            _regression_data(), resume_from=ckpt
        )
    history = Trainer(Regression(), lr=0.01, epochs=4, batch_size=50, progress=False, seed=0).fit(
        _regression_data(), resume_from=ckpt
    )
    assert len(history) == 4


def test_an_old_checkpoint_without_the_optimizer_name_is_still_checked(tmp_path):
    from bayesdl.io import load_state, save_state

    ckpt = _interrupted_checkpoint(tmp_path, lr=0.01)
    state = load_state(ckpt)
    del state["optimizer_class"], state["lr"]
    save_state(state, ckpt)
    with pytest.raises(CheckpointError, match="SGD"):
        Trainer(Regression(), optimizer="sgd", lr=0.01, epochs=4, progress=False, seed=0).fit(
            _regression_data(), resume_from=ckpt
        )


# ------------------------------------------------------------------------------------------------ bad trainer input
class _ReturnsVector(Regression):
    def loss(self, x, y):
        return (self.lin(x).squeeze(-1) - y) ** 2


class _ReturnsFloat(Regression):
    def loss(self, x, y):
        return float(super().loss(x, y))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"num_particles": 0}, "num_particles"),
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": "0.1"}, "lr"),
        ({"lr": 0}, "lr"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": "3"}, "seed"),
        ({"early_stopping_patience": -1}, "early_stopping_patience"),
        ({"early_stopping_patience": 0}, "early_stopping_patience"),
        ({"binarize": "static"}, "binarize"),
        ({"device": "cuda:0"}, "CUDA is not available"),
    ],
)
def test_bad_trainer_arguments_name_the_argument(kwargs, name, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the CPU-only case, on any machine
    model = _gauss_model if "num_particles" in kwargs else Regression()
    guide = AutoNormal(_gauss_model) if "num_particles" in kwargs else None
    with pytest.raises(InputError, match=name):
        Trainer(model, guide=guide, progress=False, **kwargs)


@pytest.mark.parametrize(
    "model, data, match",
    [
        (_ReturnsVector(), _regression_data(), r"scalar tensor, got shape \(100,\)"),
        (_ReturnsFloat(), _regression_data(), "scalar tensor, got float"),
        (Regression(), (torch.zeros(10, 3, device="meta"), torch.zeros(10, device="meta")), "meta device"),
        (Regression(), {"x": torch.zeros(3)}, "data must be a tensor"),
        (Regression(), torch.utils.data.TensorDataset(torch.zeros(0, 3), torch.zeros(0)), "empty"),
    ],
)
def test_bad_losses_and_data_get_input_errors(model, data, match):
    with pytest.raises(InputError, match=match):
        Trainer(model, epochs=1, progress=False, seed=0).fit(data)


# ------------------------------------------------------------------------------------------------ data of any form
class _RecordsNumData(Regression):
    def __init__(self):
        super().__init__()
        self.seen = []

    def loss(self, x, y, num_data=None):
        self.seen.append((len(x), num_data))
        return super().loss(x, y)


class _MapDataset(torch.utils.data.Dataset):
    """A map-style dataset over tensors (not a TensorDataset, so it goes through a DataLoader)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class _Stream(torch.utils.data.IterableDataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __iter__(self):
        return iter(zip(self.x, self.y))


def _forms(x, y):
    import numpy as np

    return {
        "tensors": (x, y),
        "numpy": (x.numpy().astype(np.float64), y.numpy().astype(np.float64)),
        "tensor_dataset": torch.utils.data.TensorDataset(x, y),
        "map_dataset": _MapDataset(x, y),
        "dataloader": torch.utils.data.DataLoader(_MapDataset(x, y), batch_size=32, shuffle=True),
        "dataloader_workers": torch.utils.data.DataLoader(
            _MapDataset(x, y),
            batch_size=32,
            shuffle=True,
            num_workers=2,
            pin_memory=torch.cuda.is_available(),
        ),
        "iterable": _Stream(x, y),
    }


@pytest.mark.parametrize("form", list(_forms(*_regression_data(8)).keys()))
def test_fit_accepts_every_data_form_with_the_true_data_size(form):
    """Before: a DataLoader, a Dataset or a numpy array failed with a raw AttributeError."""
    x, y = _regression_data(200)
    data = _forms(x, y)[form]
    model = _RecordsNumData()
    kwargs = {"num_data": 200} if form == "iterable" else {}
    history = Trainer(model, lr=0.05, epochs=4, batch_size=32, progress=False, seed=0).fit(
        data, val_data=_forms(*_regression_data(50, 1))[form], **kwargs
    )
    train_calls = model.seen[: 4 * 7 + 1]
    assert {n for _, n in model.seen} == {200}  # loss always gets the true N, also while validating
    assert sum(size for size, _ in train_calls[1:8]) == 200  # one epoch is one pass
    assert len(history["val_loss"]) == 4 and history.losses[-1] < 0.5 * history.losses[0]


def test_an_iterable_dataset_needs_num_data():
    x, y = _regression_data(20)
    with pytest.raises(InputError, match="num_data"):
        Trainer(Regression(), epochs=1, progress=False, seed=0).fit(_Stream(x, y))


def test_a_map_dataset_and_numpy_arrays_train_exactly_like_tensors():
    x, y = _regression_data(200)
    results = {}
    for form in ("tensors", "numpy", "map_dataset"):
        torch.manual_seed(0)
        model = Regression()
        Trainer(model, lr=0.05, epochs=3, batch_size=32, progress=False, seed=4).fit(_forms(x, y)[form])
        results[form] = _params(model)
    for form in ("numpy", "map_dataset"):  # same permutation from the same seed, the same float32 values
        assert all(torch.equal(a, b) for a, b in zip(results["tensors"], results[form])), form


def test_bayesdl_predictions_keep_the_pyro_store_empty():
    from bayesdl.models.nets import MLP
    from bayesdl.models.pyro_bnn import PyroBNN, PyroPosterior

    pyro.clear_param_store()
    torch.manual_seed(0)
    x, y = torch.randn(60, 2), torch.randint(0, 3, (60,))
    model = PyroBNN(MLP(2, [4], 3))
    guide = model.autoguide()
    Trainer(
        model, guide=guide, elbo="meanfield", lr=0.01, epochs=2, batch_size=30, progress=False, seed=0
    ).fit((x, y))
    PyroPosterior(model, guide).predictive_samples(x, 3)
    assert (
        len(pyro.get_param_store().keys()) == 0
    )  # before: Predictive registered the guide in the global store


def test_float64_data_for_a_float32_model_and_non_int64_labels_are_named_input_errors():
    from bayesdl.models.flows import RealNVP
    from bayesdl.models.nets import MLP
    from bayesdl.models.rbm import RBM
    from bayesdl.models.supervised import PlainNet

    fit = dict(epochs=1, batch_size=10, progress=False, seed=0)
    with pytest.raises(InputError, match="float64.*x.float"):
        Trainer(RBM(6, 4), **fit).fit((torch.rand(20, 6) < 0.5).double())
    with pytest.raises(InputError, match="float64"):
        Trainer(RealNVP(2, num_layers=2, hidden_sizes=[8]), **fit).fit(
            torch.randn(20, 2, dtype=torch.float64)
        )
    for labels in (torch.randint(0, 2, (20,), dtype=torch.int32), torch.rand(20) < 0.5):
        with pytest.raises(InputError, match="labels.*int64"):
            Trainer(PlainNet(MLP(3, [8], 2)), **fit).fit((torch.randn(20, 3), labels))


def test_log_likelihood_of_a_model_without_latent_variables_is_refused():
    from bayesdl.inference import log_likelihood
    from bayesdl.models.flows import RealNVP

    with pytest.raises(InputError, match="no latent variable"):
        log_likelihood(RealNVP(2, num_layers=2, hidden_sizes=[8]), torch.randn(5, 2), num_samples=3)
