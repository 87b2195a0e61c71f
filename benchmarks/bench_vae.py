"""Training speed and quality of one 784-400-50 MLP VAE on binarised Fashion-MNIST, trained three ways.

1. bayesdl: ``Trainer(vae).fit(x)`` on ``VAE.loss`` (mean negative ELBO, analytic KL);
2. a hand-written plain PyTorch loop with the analytic KL, on the same networks;
3. Pyro's own loop: ``SVI(model, guide, pyro.optim.Adam, Trace_ELBO()).step`` with a tutorial-style
   model/guide (``pyro.module`` + global parameter store) on the same networks.

All three start from the same initial weights, use Adam (lr 1e-3) and batches of 128. To make the
timings fair on a shared machine, the epochs are interleaved: after each bayesdl epoch, a callback
runs one epoch of the plain loop and one of the SVI loop (the trainer's own epoch time excludes
callbacks). Test ELBOs are computed by one function (analytic KL, 10 samples for the
reconstruction term) for all three. Run: ``flock /tmp/bayesdl-heavy.lock python benchmarks/bench_vae.py [--quick]``.
"""

from __future__ import annotations

import argparse
import copy
import time

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F

from bayesdl.data import load_fashion_mnist
from bayesdl.inference import Callback, Trainer, elbo_terms
from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder

BATCH, LR = 128, 1e-3


def plain_epoch(enc: MLPEncoder, dec: MLPDecoder, opt: torch.optim.Optimizer, x: torch.Tensor, g: torch.Generator) -> float:
    """One epoch of a hand-written loop: reparameterised z, Bernoulli log-likelihood, analytic KL to N(0, I)."""
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=g)
    for i in range(0, len(x), BATCH):
        xb = x[order[i : i + BATCH]]
        loc, raw = enc.net(xb).chunk(2, -1)
        scale = F.softplus(raw) + 1e-4
        z = loc + scale * torch.randn_like(loc)
        logits = dec.net(z)
        rec = -F.binary_cross_entropy_with_logits(logits, xb, reduction="none").sum(-1)
        kl = 0.5 * (loc**2 + scale**2 - 1 - 2 * scale.log()).sum(-1)
        loss = (kl - rec).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def make_svi(enc: MLPEncoder, dec: MLPDecoder) -> pyro.infer.SVI:
    """Pyro's tutorial-style VAE: pyro.module registers the networks in the global parameter store."""

    def model(x: torch.Tensor) -> None:
        pyro.module("decoder", dec)
        with pyro.plate("data", x.shape[0]):
            z = pyro.sample("z", dist.Normal(x.new_zeros(x.shape[0], 50), x.new_ones(x.shape[0], 50)).to_event(1))
            pyro.sample("x", dist.Bernoulli(logits=dec.net(z)).to_event(1), obs=x)

    def guide(x: torch.Tensor) -> None:
        pyro.module("encoder", enc)
        with pyro.plate("data", x.shape[0]):
            loc, raw = enc.net(x).chunk(2, -1)
            pyro.sample("z", dist.Normal(loc, F.softplus(raw) + 1e-4).to_event(1))

    return pyro.infer.SVI(model, guide, pyro.optim.Adam({"lr": LR}), pyro.infer.Trace_ELBO())


def svi_epoch(svi: pyro.infer.SVI, x: torch.Tensor, g: torch.Generator) -> float:
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=g)
    with pyro.settings.context(module_local_params=False):
        for i in range(0, len(x), BATCH):
            svi.step(x[order[i : i + BATCH]])
    return time.perf_counter() - start


class Interleave(Callback):
    """After each trainer epoch, run one epoch of the plain loop and one of the SVI loop."""

    def __init__(self, plain: tuple, svi: pyro.infer.SVI, x: torch.Tensor) -> None:
        self.plain, self.svi, self.x = plain, svi, x
        self.g_plain, self.g_svi = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
        self.plain_seconds: list[float] = []
        self.svi_seconds: list[float] = []

    def on_epoch_end(self, trainer: Trainer, epoch: int, record: dict[str, float]) -> None:
        self.plain_seconds.append(plain_epoch(*self.plain, self.x, self.g_plain))
        self.svi_seconds.append(svi_epoch(self.svi, self.x, self.g_svi))


def test_elbo(enc: MLPEncoder, dec: MLPDecoder, x: torch.Tensor) -> float:
    return float(elbo_terms(VAE(enc, dec).eval(), x, num_samples=10, seed=0).elbo.mean())


def main(quick: bool = False) -> list[dict]:
    torch.set_num_threads(1)
    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    n_train, epochs = (15000, 3) if quick else (60000, 3)
    x_train = x_train[:n_train]
    if quick:
        x_test = x_test[:2000]

    torch.manual_seed(0)
    enc0, dec0 = MLPEncoder([784], 50, [400]), MLPDecoder(50, [784], [400])
    vae = VAE(copy.deepcopy(enc0), copy.deepcopy(dec0))
    enc_p, dec_p = copy.deepcopy(enc0), copy.deepcopy(dec0)
    opt_p = torch.optim.Adam([*enc_p.parameters(), *dec_p.parameters()], lr=LR)
    enc_s, dec_s = copy.deepcopy(enc0), copy.deepcopy(dec0)
    pyro.clear_param_store()
    svi = make_svi(enc_s, dec_s)

    # warm-up outside the timings: first-call costs (torch's lazy imports in Adam, Pyro's first trace)
    warm = x_train[:BATCH * 3]
    w_enc, w_dec = copy.deepcopy(enc0), copy.deepcopy(dec0)
    plain_epoch(w_enc, w_dec, torch.optim.Adam([*w_enc.parameters(), *w_dec.parameters()], lr=LR), warm, torch.Generator())
    w_svi = make_svi(copy.deepcopy(enc0), copy.deepcopy(dec0))
    svi_epoch(w_svi, warm, torch.Generator())
    pyro.clear_param_store()
    svi = make_svi(enc_s, dec_s)
    Trainer(VAE(copy.deepcopy(enc0), copy.deepcopy(dec0)), epochs=1, batch_size=BATCH, progress=False, device="cpu").fit(warm)

    inter = Interleave((enc_p, dec_p, opt_p), svi, x_train)
    history = Trainer(vae, lr=LR, epochs=epochs, batch_size=BATCH, progress=False, device="cpu", seed=0,
                      callbacks=[inter]).fit(x_train)
    t_bayesdl = sum(history["seconds"]) / epochs
    t_plain = sum(inter.plain_seconds) / epochs
    t_svi = sum(inter.svi_seconds) / epochs
    e_bayesdl = test_elbo(vae.encoder, vae.decoder, x_test)
    e_plain = test_elbo(enc_p, dec_p, x_test)
    e_svi = test_elbo(enc_s, dec_s, x_test)

    setting = f"{n_train} train images, {epochs} epochs, batch {BATCH}"
    rows = [
        {"task": f"VAE 784-400-50 s/epoch ({setting})", "peer": "plain PyTorch loop (analytic KL)",
         "peer_figure": f"{t_plain:.2f} s", "bayesdl_figure": f"{t_bayesdl:.2f} s", "ratio": f"{t_bayesdl / t_plain:.3f}x (target <= 1.1x)"},
        {"task": f"VAE 784-400-50 s/epoch ({setting})", "peer": "Pyro SVI.step + Trace_ELBO",
         "peer_figure": f"{t_svi:.2f} s", "bayesdl_figure": f"{t_bayesdl:.2f} s", "ratio": f"{t_bayesdl / t_svi:.3f}x (target < 1x)"},
        {"task": f"test ELBO, nats, bound ({len(x_test)} test images, after {epochs} epochs)", "peer": "Pyro SVI.step + Trace_ELBO",
         "peer_figure": f"{e_svi:.2f}", "bayesdl_figure": f"{e_bayesdl:.2f}", "ratio": f"{e_bayesdl - e_svi:+.2f} nats (target >= 0)"},
        {"task": f"test ELBO, nats, bound ({len(x_test)} test images, after {epochs} epochs)", "peer": "plain PyTorch loop (analytic KL)",
         "peer_figure": f"{e_plain:.2f}", "bayesdl_figure": f"{e_bayesdl:.2f}", "ratio": f"{e_bayesdl - e_plain:+.2f} nats"},
    ]
    print(f"per-epoch seconds: bayesdl {[round(s, 2) for s in history['seconds']]}, plain "
          f"{[round(s, 2) for s in inter.plain_seconds]}, svi {[round(s, 2) for s in inter.svi_seconds]}")
    width = max(len(r["task"]) for r in rows)
    print(f"{'task':<{width}}  {'peer':<34} {'peer':>9} {'bayesdl':>9}  ratio")
    for r in rows:
        print(f"{r['task']:<{width}}  {r['peer']:<34} {r['peer_figure']:>9} {r['bayesdl_figure']:>9}  {r['ratio']}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15000 training images, 3 epochs (under a minute)")
    main(parser.parse_args().quick)
