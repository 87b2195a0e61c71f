"""Restricted Boltzmann machines on binarised 8x8 digits: CD-1 against persistent CD, scored by AIS.

    E(v, h) = -b.v - c.h - v.W.h,   p(v) = sum_h exp(-E(v, h)) / Z   (v: 64 visible, h: hidden binary units)

``log p(v)`` needs the partition function Z, a sum over 2^(64 + H) states. Training follows its gradient with
contrastive divergence: CD-k starts a k-step block Gibbs chain at the data (Hinton 2002); persistent CD keeps the
chains running across updates (Tieleman 2008). SGD with momentum and a cosine-decayed learning rate (Hinton 2010,
UTML TR 2010-003); the visible biases start at the data's base rates. log Z is then estimated by annealed
importance sampling from the base-rate model (Neal 2001, arXiv:physics/9803008; Salakhutdinov & Murray 2008),
with its standard error; AIS tends to underestimate log Z, so the test log-likelihoods lean optimistic. A model with
20 hidden units is small enough to enumerate, which checks AIS against the exact log Z.

    python examples/rbm_digits.py                         # 100 hidden units, 300 epochs, AIS with 14500 betas
    python examples/rbm_digits.py --epochs 40 --betas 4000

Prints each model's mean test log-likelihood (nats) with its standard error and the AIS check; writes
``filters.png`` and ``samples.png``.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import image_grid, make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models import RBM  # noqa: E402


def train_rbm(x: torch.Tensor, hidden: int, method: str, k: int, args) -> RBM:
    """An RBM trained by CD-k or PCD through the shared Trainer (SGD, momentum 0.5, cosine-decayed rate)."""
    rbm = RBM(
        x.shape[1], hidden, method=method, k=k, num_chains=args.batch_size, weight_decay=1e-4, seed=args.seed
    ).init_from_data(x)
    Trainer(
        rbm,
        optimizer="sgd",
        lr=args.lr,
        optimizer_kwargs={"momentum": 0.5},
        scheduler="cosine",
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
    ).fit(x)
    return rbm


def test_log_likelihood(rbm: RBM, x_test: torch.Tensor, args) -> tuple[float, float, float]:
    """(mean test log p(v), its standard error over test images, the standard error of log Z from AIS)."""
    estimate = rbm.log_partition("ais", num_chains=args.chains, num_betas=args.betas, seed=args.seed)
    log_p = rbm.log_prob(x_test.to(rbm.weight.device)).double().cpu()  # uses the log Z just estimated
    return float(log_p.mean()), float(log_p.std() / math.sqrt(len(log_p))), estimate.log_z_std_err


def plot_filters_and_samples(models: dict[str, RBM], side: int, args) -> None:
    """filters.png: the first 20 columns of W per model; samples.png: 10 Gibbs samples per model."""
    fig, axes = plt.subplots(len(models), 20, figsize=(12, 0.7 * len(models) + 0.5), squeeze=False)
    for row, (label, rbm) in enumerate(models.items()):
        filters = rbm.weight.detach().cpu().t()[:20]
        for col, w in enumerate(filters):
            axes[row, col].imshow(
                w.reshape(side, side), cmap="RdBu_r", vmin=-w.abs().max(), vmax=w.abs().max()
            )
            axes[row, col].axis("off")
        axes[row, 0].set_title(label, fontsize=7, loc="left")
    fig.suptitle("columns of W as images (red > 0, blue < 0)", fontsize=9)
    save_figure(fig, args, "filters")
    draws = [rbm.sample(10, num_steps=args.gibbs_steps, seed=args.seed).cpu() for rbm in models.values()]
    save_figure(
        image_grid(torch.cat(draws), len(draws), f"after {args.gibbs_steps} Gibbs sweeps", tuple(models)),
        args,
        "samples",
    )


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("rbm_digits", __doc__)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--chains", type=int, default=100, help="AIS chains")
    parser.add_argument("--betas", type=int, default=14500, help="AIS inverse temperatures")
    parser.add_argument("--gibbs-steps", type=int, default=1000, help="sweeps per drawn sample")
    args = parse_args(
        parser, argv, smoke={"hidden": 12, "epochs": 1, "chains": 10, "betas": 50, "gibbs_steps": 10}
    )

    x_train, _ = load_digits("train", binarize="static", seed=args.seed)
    x_test, _ = load_digits("test", binarize="static", seed=args.seed + 1)
    models = {
        "CD-1": train_rbm(x_train, args.hidden, "cd", 1, args),
        "PCD": train_rbm(x_train, args.hidden, "pcd", 1, args),
    }
    results = {}
    for label, rbm in models.items():
        mean, sem, log_z_se = test_log_likelihood(rbm, x_test, args)
        results[label] = mean
        print(
            f"{label:5s} test log-likelihood {mean:.2f} +- {sem:.2f} nats (s.e. over images; log Z s.e. {log_z_se:.3f})"
        )
    small = train_rbm(x_train, 20, "pcd", 1, args)
    exact = small.log_partition("exact").log_z
    ais = small.log_partition("ais", num_chains=args.chains, num_betas=args.betas, seed=args.seed)
    print(
        f"AIS check, 20 hidden units: AIS - exact log Z = {ais.log_z - exact:+.3f} (AIS s.e. {ais.log_z_std_err:.3f})"
    )
    plot_filters_and_samples(models, 8, args)
    return results


if __name__ == "__main__":
    main()
