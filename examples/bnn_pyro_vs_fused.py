"""The same Bayesian neural network trained two ways: bayesdl's fused Bayesian layers and the Pyro route.

Both fit a mean-field Gaussian posterior over the weights of MLP(64, [hidden], 10) on the 8x8 digits with a
N(0, 1) prior, through the shared Trainer:

* fused: ``BayesByBackprop(net, estimator="local_reparam")``: the KL in closed form and the local
  reparameterisation trick (Kingma, Salimans & Welling 2015, arXiv:1506.02557);
* Pyro: ``to_pyro_model(net)`` (every weight a ``PyroSample``) with its ``AutoNormal`` guide under
  ``elbo="meanfield"`` (``TraceMeanField_ELBO``: also a closed-form KL, with plain weight reparameterisation).

The objectives are the same per-example negative ELBO; they differ in the gradient estimator and in overhead.

    python examples/bnn_pyro_vs_fused.py                    # 20 epochs, hidden 100, 50 predictive draws
    python examples/bnn_pyro_vs_fused.py --epochs 50 --hidden 200

Prints the median epoch time, test accuracy, NLL and ECE of each route (timings on a shared machine are
indicative only; the benchmarks in ``benchmarks/`` time such comparisons properly) and writes ``reliability.png``.
"""

from __future__ import annotations

import statistics

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits  # noqa: E402
from bayesdl.diagnostics import accuracy, expected_calibration_error, nll  # noqa: E402
from bayesdl.diagnostics.uncertainty_plots import reliability_diagram  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.inference.predictive import predict  # noqa: E402
from bayesdl.models import MLP, BayesByBackprop, PyroPosterior, to_pyro_model  # noqa: E402
from bayesdl.nn.priors import GaussianPrior  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("bnn_pyro_vs_fused", __doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--samples", type=int, default=50, help="weight draws per prediction")
    args = parse_args(parser, argv, smoke={"epochs": 2, "hidden": 16, "samples": 5})

    x, y = load_digits("train")
    x_test, y_test = load_digits("test")
    fit = dict(lr=args.lr, epochs=args.epochs, batch_size=100, device=args.device, seed=args.seed)
    torch.manual_seed(args.seed)
    net = MLP(64, [args.hidden], 10)

    fused = BayesByBackprop(net, prior=GaussianPrior(1.0), estimator="local_reparam")
    fused_history = Trainer(fused, **fit).fit((x, y))

    pyro_model = to_pyro_model(net, prior_scale=1.0)  # works on a copy of net
    guide = pyro_model.autoguide(init_scale=0.05)
    pyro_history = Trainer(pyro_model, guide=guide, elbo="meanfield", **fit).fit((x, y))

    routes = {
        "fused layers (local reparam)": (fused, fused_history),
        "Pyro PyroSample + AutoNormal": (PyroPosterior(pyro_model, guide), pyro_history),
    }
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    results: dict[str, dict[str, float]] = {}
    print(f"{'route':30s} {'ms/epoch':>9s} {'acc':>6s} {'NLL':>6s} {'ECE':>6s}")
    for ax, (name, (model, history)) in zip(axes, routes.items()):
        probs = predict(model, x_test.to(args.device), args.samples).probs.cpu()
        results[name] = {
            "ms_per_epoch": 1000 * statistics.median(history["seconds"]),
            "accuracy": accuracy(probs, y_test),
            "nll": nll(probs, y_test),
            "ece": expected_calibration_error(probs, y_test),
        }
        r = results[name]
        print(f"{name:30s} {r['ms_per_epoch']:9.1f} {r['accuracy']:6.3f} {r['nll']:6.3f} {r['ece']:6.3f}")
        reliability_diagram(probs, y_test, 15, ax=ax, title=name)
    save_figure(fig, args, "reliability")
    return results


if __name__ == "__main__":
    main()
