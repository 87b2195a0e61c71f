"""Gaussian-process classifiers on the 8x8 digits: a sparse variational GP and deep kernel learning.

Both place 10 independent latent functions f_c under a softmax likelihood and fit a variational Gaussian over the
values at 64 inducing points by the minibatch ELBO (Hensman, Matthews & Ghahramani 2015, arXiv:1411.2005):

* SVGP: an RBF kernel on the 64 raw pixels;
* DKL: the same GP on 10 features of an MLP 64-128-64-10, trained jointly (Wilson et al. 2016, arXiv:1611.00336).

Predictions average the softmax over draws of f from q(f). Far from the training inputs a GP's posterior returns
to its prior, so its predictive entropy rises on shifted images; the shifted set here is the test digits rotated by
90 degrees with N(0, 0.2^2) pixel noise. ReLU networks, by contrast, grow more confident far from the data
(Hein et al. 2019, arXiv:1812.05720; compare ``bnn_classification.py``).

    python examples/gp_classification.py                   # 150 epochs, 256 predictive draws
    python examples/gp_classification.py --epochs 40 --inducing 32

Prints accuracy, NLL, ECE and the OOD AUROC by predictive entropy; writes ``calibration_and_ood.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits  # noqa: E402
from bayesdl.diagnostics.metrics import accuracy, expected_calibration_error, nll, ood_auroc  # noqa: E402
from bayesdl.diagnostics.uncertainty_plots import reliability_diagram  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.inference.predictive import predict  # noqa: E402
from bayesdl.models import DeepKernelGP, SparseVariationalGP  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("gp_classification", __doc__)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--inducing", type=int, default=64)
    parser.add_argument(
        "--hidden", type=int, nargs="+", default=[128, 64], help="DKL feature extractor widths"
    )
    parser.add_argument("--samples", type=int, default=256, help="draws of f per prediction")
    parser.add_argument("--num-train", type=int, default=None)
    args = parse_args(
        parser, argv, smoke={"epochs": 2, "inducing": 10, "hidden": [32], "samples": 16, "num_train": 200}
    )

    x, y = load_digits("train")
    x, y = x[: args.num_train], y[: args.num_train]
    x_test, y_test = load_digits("test")
    noise = torch.randn(x_test.shape, generator=torch.Generator().manual_seed(args.seed + 1))
    x_shift = (torch.rot90(x_test.reshape(-1, 8, 8), 1, dims=(1, 2)).reshape(-1, 64) + 0.2 * noise).clamp(
        0, 1
    )

    torch.manual_seed(args.seed)
    models = {
        "SVGP": (
            SparseVariationalGP(64, num_inducing=args.inducing, likelihood="softmax", num_classes=10),
            0.03,
        ),
        "DKL": (
            DeepKernelGP(
                num_features=10,
                num_inducing=args.inducing,
                likelihood="softmax",
                num_classes=10,
                num_inputs=64,
                hidden=args.hidden,
            ),
            0.01,
        ),
    }
    fig, axes = plt.subplots(1, len(models) + 1, figsize=(3.3 * (len(models) + 1), 3.3))
    bins = np.linspace(0, float(np.log(10)), 30)
    results: dict[str, dict[str, float]] = {}
    for i, (name, (model, lr)) in enumerate(models.items()):
        model.initialize_inducing_points(x, seed=args.seed)
        Trainer(model, lr=lr, epochs=args.epochs, batch_size=100, device=args.device, seed=args.seed).fit(
            (x, y)
        )
        pred = predict(model, x_test.to(args.device), num_samples=args.samples)
        shifted = predict(model, x_shift.to(args.device), num_samples=args.samples)
        probs = pred.probs.cpu()
        results[name] = {
            "accuracy": accuracy(probs, y_test),
            "nll": nll(probs, y_test),
            "ece": expected_calibration_error(probs, y_test),
            "ood_auroc_entropy": ood_auroc(pred.entropy.cpu(), shifted.entropy.cpu()),
        }
        print(f"{name:5s} " + ", ".join(f"{k} {v:.3f}" for k, v in results[name].items()))
        reliability_diagram(probs, y_test, n_bins=10, ax=axes[i], title=name)
        axes[-1].hist(
            pred.entropy.cpu().numpy(),
            bins=bins,
            color=f"C{i}",
            alpha=0.45,
            density=True,
            label=f"{name}: test",
        )
        axes[-1].hist(
            shifted.entropy.cpu().numpy(),
            bins=bins,
            color=f"C{i}",
            histtype="step",
            lw=1.5,
            density=True,
            label=f"{name}: shifted",
        )
    axes[-1].set(xlabel="predictive entropy (nats)", title="test vs rotated + noisy digits")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, args, "calibration_and_ood")
    return results


if __name__ == "__main__":
    main()
