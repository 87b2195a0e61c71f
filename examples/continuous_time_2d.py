"""Continuous-time models on toy 2-D densities: exact ODE likelihoods of a VP SDE and of flow matching, next to the
discrete DDPM bound.

Four models share one network architecture (a residual MLP, ``DenoisingMLP``):

* a VP SDE trained by denoising score matching (Song et al. 2021, arXiv:2011.13456), and the same with likelihood
  weighting and importance-sampled t (Song, Durkan, Murray & Ermon 2021, arXiv:2101.09258);
* flow matching on the conditional OT path (Lipman et al. 2022, arXiv:2210.02747; rectified flow, Liu et al. 2022);
* a DDPM with T = 1000 linear steps (Ho et al. 2020), scored by its variational bound, and the same network read as a
  VP-SDE score (``ScoreSDE.from_ddpm``), scored by the probability-flow ODE.

Every ODE NLL comes from ``bayesdl.inference.ode_log_likelihood`` (exact divergence, dopri5): the exact
negative log-density of the continuous model up to the solver tolerance. The bound is an upper bound on the DDPM's
-log p. Both are in nats in the data's units (the models see x / sd), with the standard error over test points; one
Hutchinson estimate shows the probe SE. For reference, the energy distance of ODE samples to held-out data.

    python examples/continuous_time_2d.py                     # two_moons and eight_gaussians, 20000 points, 40 epochs
    python examples/continuous_time_2d.py --densities rings --epochs 20

Writes ``samples_<density>.png``.
"""

from __future__ import annotations

import math
import time

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import toy_density  # noqa: E402
from bayesdl.diagnostics.sample_distance import energy_distance  # noqa: E402
from bayesdl.inference import Trainer, ode_log_likelihood  # noqa: E402
from bayesdl.models import DDPM  # noqa: E402
from bayesdl.models.continuous import FlowMatching, ScoreSDE  # noqa: E402
from bayesdl.nn import DenoisingMLP  # noqa: E402


def _mean_se(values: torch.Tensor) -> tuple[float, float]:
    return float(values.mean()), float(values.std() / math.sqrt(len(values)))


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("continuous_time_2d", __doc__)
    parser.add_argument("--densities", nargs="+", default=["two_moons", "eight_gaussians"])
    parser.add_argument("--num-train", type=int, default=20000)
    parser.add_argument("--num-eval", type=int, default=1000, help="held-out points for the likelihoods")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--tol", type=float, default=1e-5, help="rtol = atol of the ODE solver")
    parser.add_argument("--probes", type=int, default=16, help="Hutchinson probes of the one estimated row")
    args = parse_args(
        parser,
        argv,
        smoke={
            "densities": ["two_moons"],
            "num_train": 600,
            "num_eval": 60,
            "hidden": 16,
            "epochs": 2,
            "tol": 1e-3,
            "probes": 4,
        },
    )
    results: dict[str, dict[str, float]] = {}
    for k, name in enumerate(args.densities):
        train = toy_density(name, args.num_train, seed=args.seed + 100 * k)
        test = toy_density(name, args.num_eval, seed=args.seed + 100 * k + 1)
        scale = float(train.std())
        shift = 2 * math.log(scale)  # -log p(x) = -log p(x / scale) + D log scale
        x_test = (test / scale).to(args.device)

        def net() -> DenoisingMLP:
            return DenoisingMLP(2, hidden=args.hidden, num_blocks=3)

        torch.manual_seed(args.seed)
        models = {
            "vp-sde": ScoreSDE(net(), [2]),
            "vp-sde-likelihood": ScoreSDE(net(), [2], weighting="likelihood", time_sampling="importance"),
            "flow-matching": FlowMatching(net(), [2]),
            "ddpm": DDPM(net(), data_shape=[2], num_steps=1000),
        }
        row: dict[str, float] = {}
        samples = {}
        for label, model in models.items():
            start = time.perf_counter()
            Trainer(
                model,
                lr=2e-3,
                epochs=args.epochs,
                batch_size=512,
                scheduler="cosine",
                device=args.device,
                seed=args.seed,
                progress=False,
            ).fit(train / scale)
            model.eval()
            row[f"{label}_train_s"] = time.perf_counter() - start
            if label == "ddpm":
                bound = model.nll_bound(x_test, seed=args.seed).cpu() + shift
                row["ddpm_bound"], row["ddpm_bound_se"] = _mean_se(bound)
                model = ScoreSDE.from_ddpm(model)
                label = "ddpm-as-vp-sde"
            result = ode_log_likelihood(model, x_test, rtol=args.tol, atol=args.tol)
            nll = -result.log_prob.cpu() + shift
            row[f"{label}_ode_nll"], row[f"{label}_ode_nll_se"] = _mean_se(nll)
            row[f"{label}_nfe"] = result.nfe
            if label == "ddpm-as-vp-sde":
                row["ode_minus_bound"], row["ode_minus_bound_se"] = _mean_se(nll - bound)
            draws = model.sample(args.num_eval, seed=args.seed, rtol=args.tol, atol=args.tol).cpu() * scale
            samples[label] = draws
            row[f"{label}_energy_distance"] = energy_distance(draws, test)
        hutch = ode_log_likelihood(
            models["flow-matching"],
            x_test,
            divergence="hutchinson",
            num_probes=args.probes,
            rtol=args.tol,
            atol=args.tol,
            seed=args.seed,
        )
        row["flow-matching_hutchinson_nll"] = -hutch.mean() + shift
        row["flow-matching_hutchinson_probe_se"] = hutch.mean_stderr()
        results[name] = row
        print(
            f"== {name}: NLL in nats per point (mean +- SE over {args.num_eval} test points), rtol = atol = {args.tol:g}"
        )
        for label in ("vp-sde", "vp-sde-likelihood", "flow-matching", "ddpm-as-vp-sde"):
            print(
                f"  {label:20s} ODE NLL {row[f'{label}_ode_nll']:.4f} +- {row[f'{label}_ode_nll_se']:.4f} "
                f"(exact density of the continuous model; nfe {row[f'{label}_nfe']}, "
                f"energy distance {row[f'{label}_energy_distance']:.4f})"
            )
        print(
            f"  {'ddpm':20s} bound   {row['ddpm_bound']:.4f} +- {row['ddpm_bound_se']:.4f} (upper bound on -log p, T = 1000)"
        )
        print(
            f"  same network: ODE NLL - DDPM bound = {row['ode_minus_bound']:.4f} +- {row['ode_minus_bound_se']:.4f}"
        )
        print(
            f"  flow matching, Hutchinson ({args.probes} probes): {row['flow-matching_hutchinson_nll']:.4f} "
            f"(probe SE {row['flow-matching_hutchinson_probe_se']:.4f})"
        )
        print("  training seconds: " + ", ".join(f"{m} {row[f'{m}_train_s']:.0f}" for m in models))
        limit = float(test.abs().max()) * 1.15
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
        panels = [(test, "held-out data")] + [
            (samples[m], f"{m} (ODE)") for m in ("vp-sde", "flow-matching", "ddpm-as-vp-sde")
        ]
        for ax, (points, title) in zip(axes, panels):
            ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", title=title)
        save_figure(fig, args, f"samples_{name}")
    return results


if __name__ == "__main__":
    main()
