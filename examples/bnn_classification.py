"""Accuracy, calibration and out-of-distribution detection of four uncertainty methods on the 8x8 digits.

The methods share one MLP(64, hidden, 10) with a softmax (categorical) likelihood: a plain net, MC dropout, a
deep ensemble and Bayes by Backprop (mean-field Gaussian weights, N(0, 1) prior, local reparameterisation).
``predict`` averages the class probabilities over weight draws (or members) and splits the predictive entropy
H[E p] into the expected entropy E H[p] (aleatoric) and the mutual information (epistemic).

Out-of-distribution sets: the test digits rotated by 90 degrees and the test digits with Gaussian pixel noise
(sd 0.3). OOD AUROC = P(entropy on the shifted set > entropy on the test set): 0.5 is chance, and values below 0.5
mean the net is *more* confident on the shifted images, which ReLU nets are on rotated digits (their ink lands on
pixels that are blank in every training image; Hein et al. 2019, arXiv:1812.05720).

    python examples/bnn_classification.py                 # 100 epochs, 200-200 hidden, 100 predictive draws
    python examples/bnn_classification.py --epochs 25 --samples 30

Prints accuracy, NLL, ECE, Brier and the two AUROCs per method; writes ``reliability.png`` and ``ood_entropy.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits  # noqa: E402
from bayesdl.diagnostics.metrics import accuracy, brier_score, expected_calibration_error, nll, ood_auroc  # noqa: E402
from bayesdl.diagnostics.uncertainty_plots import reliability_diagram, uncertainty_histogram  # noqa: E402
from bayesdl.inference import Trainer, fit_ensemble  # noqa: E402
from bayesdl.inference.predictive import predict  # noqa: E402
from bayesdl.models import MLP, BayesByBackprop, DeepEnsemble, MCDropout, PlainNet  # noqa: E402
from bayesdl.nn.priors import GaussianPrior  # noqa: E402


def shifted_digits(x_test: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """Two shifted versions of the test digits: rotated by 90 degrees, and with N(0, 0.3^2) pixel noise."""
    rotated = torch.rot90(x_test.reshape(-1, 8, 8), 1, dims=(1, 2)).reshape(len(x_test), 64)
    noise = torch.randn(x_test.shape, generator=torch.Generator().manual_seed(seed))
    return {"rotated": rotated, "noisy": (x_test + 0.3 * noise).clamp(0.0, 1.0)}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("bnn_classification", __doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--samples", type=int, default=100, help="weight draws per prediction")
    parser.add_argument("--num-train", type=int, default=None, help="use only the first N training digits")
    args = parse_args(
        parser, argv, smoke={"epochs": 2, "hidden": [32], "members": 2, "samples": 5, "num_train": 300}
    )

    x, y = load_digits("train")
    x_test, y_test = load_digits("test")
    x, y = x[: args.num_train], y[: args.num_train]
    shifted = shifted_digits(x_test, args.seed)
    fit = dict(epochs=args.epochs, batch_size=100, lr=args.lr, device=args.device, seed=args.seed)

    def net(dropout: float = 0.0) -> MLP:
        return MLP(64, args.hidden, 10, dropout=dropout)

    methods = {
        "plain net": lambda: PlainNet(net(), likelihood="categorical"),
        "MC dropout": lambda: MCDropout(net(args.dropout), likelihood="categorical"),
        "deep ensemble": lambda: DeepEnsemble(
            net(), num_members=args.members, likelihood="categorical", seed=args.seed
        ),
        "Bayes by Backprop": lambda: BayesByBackprop(
            net(), likelihood="categorical", prior=GaussianPrior(1.0), estimator="local_reparam"
        ),
    }
    rel_fig, rel_axes = plt.subplots(1, len(methods), figsize=(4 * len(methods), 4))
    ood_fig, ood_axes = plt.subplots(1, len(methods), figsize=(4 * len(methods), 3.2))
    results: dict[str, dict[str, float]] = {}
    print(f"{'method':18s} {'acc':>6s} {'NLL':>6s} {'ECE':>6s} {'Brier':>6s}  AUROC rotated / noisy")
    for col, (label, build) in enumerate(methods.items()):
        model = build()
        if isinstance(model, DeepEnsemble):
            fit_ensemble(model, (x, y), **fit)  # each member trained by the Trainer, with its own seed
        else:
            Trainer(model, **fit).fit((x, y))
        pred = predict(model, x_test.to(args.device), args.samples)
        probs = pred.probs.cpu()
        scores = {
            "accuracy": accuracy(probs, y_test),
            "nll": nll(probs, y_test),
            "ece": expected_calibration_error(probs, y_test, 15),
            "brier": brier_score(probs, y_test),
        }
        ood = {name: predict(model, images.to(args.device), args.samples) for name, images in shifted.items()}
        for name, shifted_pred in ood.items():
            scores[f"ood_auroc[{name}]"] = ood_auroc(pred.entropy.cpu(), shifted_pred.entropy.cpu())
        results[label] = scores
        print(
            f"{label:18s} {scores['accuracy']:6.3f} {scores['nll']:6.3f} {scores['ece']:6.3f} {scores['brier']:6.3f}"
            f"  {scores['ood_auroc[rotated]']:.2f} / {scores['ood_auroc[noisy]']:.2f}"
        )
        reliability_diagram(probs, y_test, 15, ax=rel_axes[col], title=label)
        uncertainty_histogram(
            pred.entropy.cpu(),
            ood["rotated"].entropy.cpu(),
            "predictive entropy (nats)",
            ("test digits", "rotated digits"),
            ax=ood_axes[col],
            title=label,
        )
    save_figure(rel_fig, args, "reliability")
    save_figure(ood_fig, args, "ood_entropy")
    return results


if __name__ == "__main__":
    main()
