"""Uncertainty for one trained network, side by side: MAP, Laplace, SWAG and a deep ensemble on the 8x8 digits, each
also after temperature scaling, with 90% conformal prediction sets.

The post-hoc methods start from the same trained MLP:

* Laplace: a Gaussian over the last layer's weights with a KFAC Hessian, the GLM predictive with the probit
  approximation, and the prior precision tuned by the evidence (Daxberger et al. 2021, arXiv:2106.14806);
* SWAG: the first two moments of SGD iterates plus a rank-20 deviation matrix (Maddox et al. 2019, arXiv:1902.02476);
* a deep ensemble of independently trained nets (Lakshminarayanan et al. 2017, arXiv:1612.01474).

Temperature scaling (Guo et al. 2017, arXiv:1706.04599) and split-conformal APS sets (Romano et al. 2020,
arXiv:2006.02544) are fitted on a calibration split that no net trains on. The full comparison of every method on
several tasks is ``bayesdl run bdl-benchmark``.

    python examples/bdl_benchmark.py                 # 60 epochs, 5 ensemble members
    python examples/bdl_benchmark.py --epochs 20 --members 3

Prints accuracy, NLL, ECE, OOD AUROC (rotated digits) and the 90% set size per method; writes ``reliability.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits  # noqa: E402
from bayesdl.diagnostics.metrics import accuracy, expected_calibration_error, nll, ood_auroc  # noqa: E402
from bayesdl.diagnostics.uncertainty_plots import reliability_diagram  # noqa: E402
from bayesdl.inference import Trainer, fit_ensemble  # noqa: E402
from bayesdl.inference.conformal import ConformalClassifier, set_coverage, set_sizes  # noqa: E402
from bayesdl.inference.predictive import predict  # noqa: E402
from bayesdl.inference.recalibration import Recalibration  # noqa: E402
from bayesdl.inference.swag_collector import SWAGCollector  # noqa: E402
from bayesdl.models import MLP, DeepEnsemble, PlainNet  # noqa: E402
from bayesdl.models.laplace import Laplace  # noqa: E402
from bayesdl.models.swag import SWAG  # noqa: E402


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.clamp_min(1e-12).log()).sum(-1)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("bdl_benchmark", __doc__)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--members", type=int, default=5, help="deep-ensemble members")
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    parser.add_argument(
        "--samples", type=int, default=50, help="Monte Carlo draws per prediction (SWAG, ensemble)"
    )
    parser.add_argument("--num-train", type=int, default=None)
    args = parse_args(
        parser, argv, smoke={"epochs": 2, "members": 2, "hidden": [16], "samples": 4, "num_train": 300}
    )

    x_all, y_all = load_digits("train")
    x_all, y_all = x_all[: args.num_train], y_all[: args.num_train]
    order = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(12345))
    cut = int(0.8 * len(x_all))
    (x, y), (x_cal, y_cal) = (
        (x_all[order[:cut]], y_all[order[:cut]]),
        (x_all[order[cut:]], y_all[order[cut:]]),
    )
    x_test, y_test = load_digits("test")
    x_ood = torch.rot90(x_test.reshape(-1, 8, 8), 1, dims=(1, 2)).reshape(-1, 64)

    def net() -> MLP:
        return MLP(64, args.hidden, 10)

    common = dict(epochs=args.epochs, batch_size=100, lr=1e-3, device=args.device)
    torch.manual_seed(args.seed)
    map_net = PlainNet(net(), "categorical")
    Trainer(map_net, seed=args.seed, **common).fit((x, y))
    laplace = (
        Laplace(map_net, subset="last_layer", hessian="kron").fit((x, y)).optimize_prior_precision("marglik")
    )
    swag_net = PlainNet(net(), "categorical")
    Trainer(swag_net, seed=args.seed, **{**common, "epochs": max(1, 3 * args.epochs // 4)}).fit((x, y))
    collector = SWAGCollector(swag_net, every=max(1, len(x) // 100), max_rank=20)
    Trainer(
        swag_net,
        optimizer="sgd",
        optimizer_kwargs={"momentum": 0.9},
        seed=args.seed + 1,
        callbacks=[collector],
        **{**common, "epochs": max(3, args.epochs // 4), "lr": 1e-3},
    ).fit((x, y))
    swag = SWAG(swag_net, collector, covariance="lowrank" if collector.num_snapshots > 2 else "diag")
    ensemble = DeepEnsemble(net(), num_members=args.members, likelihood="categorical", seed=args.seed)
    fit_ensemble(ensemble, (x, y), **common)

    methods = {"MAP": map_net, "Laplace (KFAC, GLM)": laplace, "SWAG": swag, "deep ensemble": ensemble}
    fig, axes = plt.subplots(2, len(methods), figsize=(3.3 * len(methods), 6.4), squeeze=False)
    results: dict[str, dict[str, float]] = {}
    for col, (name, model) in enumerate(methods.items()):
        torch.manual_seed(args.seed)
        probs, probs_cal, probs_ood = (
            predict(model, v.to(args.device), args.samples).probs.detach().cpu()
            for v in (x_test, x_cal, x_ood)
        )
        scaler = Recalibration("temperature").fit(probs_cal.clamp_min(1e-12).log(), y_cal)
        for suffix, transform, row in (
            ("", lambda p: p, 0),
            (" + T", lambda p, s=scaler: s.predict_proba(p.clamp_min(1e-12).log()), 1),
        ):
            p, p_cal, p_ood = transform(probs), transform(probs_cal), transform(probs_ood)
            sets = ConformalClassifier(alpha=0.1, method="aps").calibrate(p_cal, y_cal).predict_sets(p)
            results[name + suffix] = {
                "accuracy": accuracy(p, y_test),
                "nll": nll(p, y_test),
                "ece": expected_calibration_error(p, y_test, 15),
                "ood_auroc": ood_auroc(_entropy(p), _entropy(p_ood)),
                "set_size_90": float(set_sizes(sets).float().mean()),
                "set_coverage_90": set_coverage(sets, y_test),
            }
            print(
                f"{name + suffix:26s} " + ", ".join(f"{k} {v:.3f}" for k, v in results[name + suffix].items())
            )
            reliability_diagram(p, y_test, 15, ax=axes[row, col], title=name + suffix)
    fig.tight_layout()
    save_figure(fig, args, "reliability")
    return results


if __name__ == "__main__":
    main()
