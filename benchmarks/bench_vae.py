"""Training speed and quality of one 784-400-50 MLP VAE on binarised Fashion-MNIST, trained three ways.

1. bayesdl: ``Trainer(vae).fit(x)`` on ``VAE.loss`` (mean negative ELBO, analytic KL);
2. a hand-written plain PyTorch loop with the analytic KL, on the same networks;
3. Pyro's own loop: ``SVI(model, guide, pyro.optim.Adam, Trace_ELBO()).step`` with a tutorial-style
   model/guide (``pyro.module`` + global parameter store) on the same networks.

All three start from the same initial weights, use Adam (lr 1e-3) and batches of 128. The Trainer runs
Adam fused (one kernel over all parameters) by default, so the plain loop does too: that row measures
the trainer's own overhead. Pyro's loop keeps ``pyro.optim.Adam`` (the multi-tensor torch Adam per
parameter), as Pyro users write it. To make the
timings fair on a shared machine, the loops are interleaved step by step (see :class:`Interleave`),
and seconds per epoch are the median step time times the steps per epoch. Step times are CPU seconds of
this thread (``time.thread_time``; every loop runs single-threaded), which waiting for a shared core does
not inflate. Test ELBOs are computed by one function (analytic KL, 10 samples for the
reconstruction term) for all three. Run: ``flock /tmp/bayesdl-heavy.lock python benchmarks/bench_vae.py [--quick]``.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from table import print_rows  # benchmarks/table.py

from bayesdl.data import load_fashion_mnist
from bayesdl.inference import Callback, Trainer, elbo_terms
from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder

BATCH, LR = 128, 1e-3


def plain_step(enc: MLPEncoder, dec: MLPDecoder, opt: torch.optim.Optimizer, xb: torch.Tensor) -> None:
    """One step of a hand-written loop: reparameterised z, Bernoulli log-likelihood, analytic KL to N(0, I)."""
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


def make_svi(enc: MLPEncoder, dec: MLPDecoder) -> pyro.infer.SVI:
    """Pyro's tutorial-style VAE: pyro.module registers the networks in the global parameter store."""

    def model(x: torch.Tensor) -> None:
        pyro.module("decoder", dec)
        with pyro.plate("data", x.shape[0]):
            z = pyro.sample(
                "z", dist.Normal(x.new_zeros(x.shape[0], 50), x.new_ones(x.shape[0], 50)).to_event(1)
            )
            pyro.sample("x", dist.Bernoulli(logits=dec.net(z)).to_event(1), obs=x)

    def guide(x: torch.Tensor) -> None:
        pyro.module("encoder", enc)
        with pyro.plate("data", x.shape[0]):
            loc, raw = enc.net(x).chunk(2, -1)
            pyro.sample("z", dist.Normal(loc, F.softplus(raw) + 1e-4).to_event(1))

    return pyro.infer.SVI(model, guide, pyro.optim.Adam({"lr": LR}), pyro.infer.Trace_ELBO())


class Batches:
    """An endless stream of shuffled minibatches of x (a fresh permutation each pass), like the trainer's loader."""

    def __init__(self, x: torch.Tensor, seed: int) -> None:
        self.x, self.g, self.order, self.i = x, torch.Generator().manual_seed(seed), None, 0

    def next(self) -> torch.Tensor:
        if self.order is None or self.i >= len(self.x):
            self.order, self.i = torch.randperm(len(self.x), generator=self.g), 0
        xb = self.x[self.order[self.i : self.i + BATCH]]
        self.i += BATCH
        return xb


class Interleave(Callback):
    """Interleave the three loops step by step, so that load changes on a shared machine hit all alike.

    After each trainer step this callback runs one plain-loop step and one SVI step and times each;
    the trainer's step time is the wall time between callback calls (loader, loss, backward,
    optimiser step and the trainer's bookkeeping), so every cost of the trainer is included.
    """

    def __init__(self, plain: tuple, svi: pyro.infer.SVI, x: torch.Tensor, loss_only: tuple) -> None:
        self.plain, self.svi, self.loss_only = plain, svi, loss_only
        self.plain_batches, self.svi_batches, self.loss_batches = Batches(x, 1), Batches(x, 2), Batches(x, 3)
        self.times: dict[str, list[float]] = {"bayesdl": [], "plain": [], "svi": [], "vae_loss_hand_loop": []}
        self.last = 0.0

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.last = time.thread_time()

    def on_batch_end(self, trainer: Trainer, epoch: int, batch_index: int, loss: float) -> None:
        t0 = time.thread_time()
        self.times["bayesdl"].append(t0 - self.last)
        plain_step(*self.plain, self.plain_batches.next())
        t1 = time.thread_time()
        with pyro.settings.context(module_local_params=False):
            self.svi.step(self.svi_batches.next())
        t2 = time.thread_time()
        model, opt = self.loss_only
        loss = model.loss(self.loss_batches.next())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t3 = time.thread_time()
        self.times["plain"].append(t1 - t0)
        self.times["svi"].append(t2 - t1)
        self.times["vae_loss_hand_loop"].append(t3 - t2)
        self.last = time.thread_time()


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
    opt_p = torch.optim.Adam(
        [*enc_p.parameters(), *dec_p.parameters()], lr=LR, fused=True
    )  # as the Trainer's
    enc_s, dec_s = copy.deepcopy(enc0), copy.deepcopy(dec0)
    pyro.clear_param_store()
    svi = make_svi(enc_s, dec_s)

    # warm-up outside the timings: first-call costs (torch's lazy imports in Adam, Pyro's first trace)
    warm = x_train[: BATCH * 3]
    w_enc, w_dec = copy.deepcopy(enc0), copy.deepcopy(dec0)
    w_opt = torch.optim.Adam([*w_enc.parameters(), *w_dec.parameters()], lr=LR, fused=True)
    plain_step(w_enc, w_dec, w_opt, warm[:BATCH])
    with pyro.settings.context(module_local_params=False):
        make_svi(copy.deepcopy(enc0), copy.deepcopy(dec0)).step(warm[:BATCH])
    Trainer(
        VAE(copy.deepcopy(enc0), copy.deepcopy(dec0)),
        epochs=1,
        batch_size=BATCH,
        progress=False,
        device="cpu",
    ).fit(warm)
    pyro.clear_param_store()
    svi = make_svi(enc_s, dec_s)

    # a fourth copy: bayesdl's VAE.loss in a hand-written loop, to separate model cost from trainer cost
    vae_h = VAE(copy.deepcopy(enc0), copy.deepcopy(dec0))
    inter = Interleave(
        (enc_p, dec_p, opt_p), svi, x_train, (vae_h, torch.optim.Adam(vae_h.parameters(), lr=LR, fused=True))
    )
    Trainer(
        vae, lr=LR, epochs=epochs, batch_size=BATCH, progress=False, device="cpu", seed=0, callbacks=[inter]
    ).fit(x_train)
    steps_per_epoch = -(-n_train // BATCH)
    # seconds per epoch from the median step time (robust to load spikes), and from the plain totals
    per_epoch = {k: statistics.median(v) * steps_per_epoch for k, v in inter.times.items()}
    totals = {k: sum(v) / epochs for k, v in inter.times.items()}
    t_bayesdl, t_plain, t_svi = per_epoch["bayesdl"], per_epoch["plain"], per_epoch["svi"]
    e_bayesdl = test_elbo(vae.encoder, vae.decoder, x_test)
    e_plain = test_elbo(enc_p, dec_p, x_test)
    e_svi = test_elbo(enc_s, dec_s, x_test)

    setting = f"{n_train} train images, {epochs} epochs, batch {BATCH}"
    rows = [
        {
            "task": f"VAE 784-400-50 s/epoch ({setting})",
            "peer": "plain PyTorch loop (analytic KL)",
            "peer_figure": f"{t_plain:.2f} s",
            "bayesdl_figure": f"{t_bayesdl:.2f} s",
            "ratio": f"{t_bayesdl / t_plain:.3f}x (target <= 1.1x)",
        },
        {
            "task": f"VAE 784-400-50 s/epoch ({setting})",
            "peer": "Pyro SVI.step + Trace_ELBO",
            "peer_figure": f"{t_svi:.2f} s",
            "bayesdl_figure": f"{t_bayesdl:.2f} s",
            "ratio": f"{t_bayesdl / t_svi:.3f}x (target < 1x)",
        },
        {
            "task": f"test ELBO, nats, bound ({len(x_test)} test images, after {epochs} epochs)",
            "peer": "Pyro SVI.step + Trace_ELBO",
            "peer_figure": f"{e_svi:.2f}",
            "bayesdl_figure": f"{e_bayesdl:.2f}",
            "ratio": f"{e_bayesdl - e_svi:+.2f} nats (target >= 0)",
        },
        {
            "task": f"test ELBO, nats, bound ({len(x_test)} test images, after {epochs} epochs)",
            "peer": "plain PyTorch loop (analytic KL)",
            "peer_figure": f"{e_plain:.2f}",
            "bayesdl_figure": f"{e_bayesdl:.2f}",
            "ratio": f"{e_bayesdl - e_plain:+.2f} nats",
        },
    ]
    print(
        "s/epoch from summed step times (sensitive to load spikes): "
        + ", ".join(f"{k} {v:.2f}" for k, v in totals.items())
        + f"; ratio bayesdl/plain {totals['bayesdl'] / totals['plain']:.3f}, bayesdl/svi {totals['bayesdl'] / totals['svi']:.3f}"
    )
    t_hand = per_epoch["vae_loss_hand_loop"]
    rows.append(
        {
            "task": f"VAE 784-400-50 s/epoch ({setting})",
            "peer": "plain PyTorch loop (analytic KL)",
            "peer_figure": f"{t_plain:.2f} s",
            "bayesdl_figure": f"{t_hand:.2f} s (VAE.loss, hand loop)",
            "ratio": f"{t_hand / t_plain:.3f}x (model cost without the trainer)",
        }
    )
    print_rows(rows)
    print("Per-step interleaving on a shared CPU: repeated runs moved these ratios by about +-0.05.")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="15000 training images, 3 epochs (under a minute)"
    )
    main(parser.parse_args().quick)
