"""Data-parallel training: a 2-process gloo run on CPU equals one process with the same global batch."""

import json

import pyro
import pytest
import torch
from pyro.infer.autoguide import AutoNormal

from bayesdl.data import BatchLoader
from bayesdl.errors import InputError
from bayesdl.inference import Callback, Trainer
from bayesdl.inference.distributed import launch_local
from bayesdl.io import load_state
from bayesdl.models.logistic import BayesianLogisticRegression

N, GLOBAL_BATCH, EPOCHS = 96, 24, 3


class Regression(torch.nn.Module):
    mixed_precision_safe = True

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))

    def loss(self, x, y):
        return ((self.net(x).squeeze(-1) - y) ** 2).mean()


class TinyVAE(torch.nn.Module):
    """A Bernoulli VAE whose reparameterisation noise comes with each example, so runs share it."""

    mixed_precision_safe = True

    def __init__(self, d=12, k=2):
        super().__init__()
        self.enc = torch.nn.Linear(d, 2 * k)
        self.dec = torch.nn.Linear(k, d)

    def loss(self, x, eps):
        mu, log_var = self.enc(x).chunk(2, -1)
        z = mu + (0.5 * log_var).exp() * eps
        log_lik = -torch.nn.functional.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").sum(
            -1
        )
        kl = 0.5 * (mu**2 + log_var.exp() - 1 - log_var).sum(-1)
        return (kl - log_lik).mean()


def _data(kind):
    g = torch.Generator().manual_seed(3)
    if kind == "regression":
        x = torch.randn(N, 5, generator=g)
        return Regression(), None, (x, x.sum(1).sin())
    if kind == "vae":
        x = (torch.rand(N, 12, generator=g) < 0.3).float()
        return TinyVAE(), None, (x, torch.randn(N, 2, generator=g))
    x = torch.randn(N, 4, generator=g)
    model = BayesianLogisticRegression(4, 3)
    return model, AutoNormal(model), (x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long())


def _build(kind):
    torch.manual_seed(0)
    pyro.set_rng_seed(0)
    return _data(kind)


def _trainer(model, guide, path=None, epochs=EPOCHS, **kw):
    return Trainer(
        model,
        guide=guide,
        lr=0.02,
        epochs=epochs,
        batch_size=GLOBAL_BATCH,
        progress=False,
        seed=5,
        device="cpu",
        checkpoint_path=path,
        **kw,
    )


class StopAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, epoch, record):
        trainer.stop_training = epoch == self.epoch


def _ddp_worker(rank, tmp, kinds):
    for kind in kinds:
        model, guide, data = _build(kind)
        trainer = _trainer(model, guide, f"{tmp}/{kind}.safetensors", strategy="ddp", backend="gloo")
        if kind == "regression":
            trainer.callbacks.append(StopAt(2))  # interrupted after epoch 2; resumed below with one process
        calls = []
        original = trainer.save_checkpoint
        trainer.save_checkpoint = lambda *a, _c=calls, _o=original, **k: (_c.append(rank), _o(*a, **k))[1]
        history = trainer.fit(data)
        with open(f"{tmp}/{kind}-rank{rank}.json", "w") as f:
            json.dump({"checkpoints_written": len(calls), "losses": history.losses}, f)


def _flat(modules):
    return torch.cat([p.detach().flatten() for m in modules for p in m.state_dict().values()])


def test_two_process_gloo_run_equals_one_process_with_the_same_global_batch(tmp_path):
    kinds = ["regression", "vae", "logistic"]
    launch_local(_ddp_worker, 2, str(tmp_path), kinds)
    for kind in kinds:
        ranks = [json.loads((tmp_path / f"{kind}-rank{r}.json").read_text()) for r in range(2)]
        assert ranks[1]["checkpoints_written"] == 0 and ranks[0]["checkpoints_written"] >= 1
        assert ranks[0]["losses"] == pytest.approx(
            ranks[1]["losses"], abs=1e-6
        )  # the global loss, on every rank

        model, guide, data = _build(kind)
        epochs = 2 if kind == "regression" else EPOCHS
        single = _trainer(model, guide, epochs=epochs).fit(data)
        assert ranks[0]["losses"] == pytest.approx(single.losses, rel=1e-5, abs=1e-6)
        modules = [m for m in (model, guide) if m is not None]
        saved = load_state(tmp_path / f"{kind}.safetensors")["modules"]
        from_ddp = torch.cat(
            [v.flatten() for name in ("model", "guide") if name in saved for v in saved[name].values()]
        )
        assert torch.allclose(from_ddp, _flat(modules), atol=1e-5, rtol=0), kind

    # resume across world sizes: the 2-process checkpoint after epoch 2, continued by one process, ends where
    # an uninterrupted single-process run of 3 epochs ends
    model, _, data = _build("regression")
    _trainer(model, None).fit(data, resume_from=tmp_path / "regression.safetensors")
    reference, _, data = _build("regression")
    _trainer(reference, None).fit(data)
    assert torch.allclose(_flat([model]), _flat([reference]), atol=1e-5, rtol=0)


def test_shards_partition_each_global_batch():
    x = torch.arange(22.0)

    def shards(rank):
        return list(
            BatchLoader(x, batch_size=8, generator=torch.Generator().manual_seed(1), rank=rank, world_size=2)
        )

    single = list(BatchLoader(x, batch_size=8, generator=torch.Generator().manual_seed(1)))
    for step, (a, b) in enumerate(zip(shards(0), shards(1))):
        assert sorted(torch.cat([a, b]).tolist()) == sorted(single[step].tolist())
    assert len(shards(0)) == 3


@pytest.mark.parametrize("kind", ["regression", "vae"])
def test_bf16_autocast_loss_is_close_to_float32(kind):
    model, _, data = _build(kind)
    exact = _trainer(model, None, epochs=1)
    mixed = _trainer(model, None, epochs=1, precision="bf16")
    for t in (exact, mixed):
        t.fit((data[0][: 0 + GLOBAL_BATCH], data[1][:GLOBAL_BATCH]))  # builds the step module
    model.eval()
    batch = (data[0][:GLOBAL_BATCH], data[1][:GLOBAL_BATCH])
    full = float(exact._batch_loss(batch, GLOBAL_BATCH)[0].detach())
    half = float(mixed._batch_loss(batch, GLOBAL_BATCH)[0].detach())
    assert abs(half - full) <= 0.02 * abs(full) + 1e-3
    assert half != full  # autocast really ran in lower precision


def test_mixed_precision_is_refused_for_models_that_do_not_declare_it():
    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def loss(self, x):
            return (x - self.w).pow(2).mean()

    with pytest.raises(InputError, match="mixed_precision_safe"):
        Trainer(Plain(), precision="bf16")
    with pytest.raises(InputError, match="CUDA"):
        Trainer(Regression(), precision="fp16", device="cpu")
    with pytest.raises(InputError, match="strategy"):
        Trainer(Regression(), strategy="horovod")


def test_ddp_without_a_launcher_says_how_to_launch(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(InputError, match="torchrun"):
        Trainer(Regression(), strategy="ddp", progress=False).fit((torch.zeros(4, 5), torch.zeros(4)))


def _library_models():
    from bayesdl.data import load_digits, toy_density
    from bayesdl.models.bnn import BayesByBackprop, MCDropout
    from bayesdl.models.diffusion import DDPM
    from bayesdl.models.nets import MLP
    from bayesdl.models.supervised import PlainNet
    from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder
    from bayesdl.nn import DenoisingMLP

    torch.manual_seed(0)
    xb, y = load_digits("train", binarize="static")
    xg, _ = load_digits("train")
    return {
        "vae": (VAE(MLPEncoder([64], 8, [100]), MLPDecoder(8, [64], [100])), (xb[:100],)),
        "plain": (PlainNet(MLP(64, [100], 10)), (xg[:100], y[:100])),
        "mc-dropout": (MCDropout(MLP(64, [100], 10, dropout=0.1)), (xg[:100], y[:100])),
        "bayes-by-backprop": (BayesByBackprop(MLP(64, [100], 10)), (xg[:100], y[:100])),
        "ddpm": (DDPM(DenoisingMLP(2), data_shape=[2], num_steps=100), (toy_density("two_moons", 100),)),
    }


@pytest.mark.parametrize("name", ["vae", "plain", "mc-dropout", "bayes-by-backprop", "ddpm"])
def test_library_models_that_declare_mixed_precision_safe_agree_under_bf16(name):
    model, batch = _library_models()[name]
    assert model.mixed_precision_safe
    kwargs = {"num_data": 1500} if name == "bayes-by-backprop" else {}
    torch.manual_seed(1)
    full = float(model.loss(*batch, **kwargs))
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = model.loss(*batch, **kwargs)
    assert half.dtype == torch.float32  # the loss (log-densities, KL sums) stays in float32
    assert abs(float(half) - full) <= 0.01 * abs(full) + 1e-3


def test_flow_posterior_vae_does_not_declare_mixed_precision_safe():
    from bayesdl.models.vae import VAE, FlowPosteriorEncoder, MLPDecoder

    vae = VAE(FlowPosteriorEncoder([6], 2, [8]), MLPDecoder(2, [6], [8]))
    assert not vae.mixed_precision_safe
    with pytest.raises(InputError, match="mixed_precision_safe"):
        Trainer(vae, precision="bf16")
