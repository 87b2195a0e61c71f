"""A denoising diffusion model (DDPM) on toy 2-D densities, with its likelihood bound and sample quality.

The forward process adds Gaussian noise over T steps, q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
with a linear beta schedule; an MLP predicts the added noise eps from (x_t, t) and is trained on the simple loss
E ||eps - eps_theta(x_t, t)||^2 (Ho, Jain & Abbeel 2020, arXiv:2006.11239). ``nll_bound`` sums the variational
bound over all T steps (one draw of x_t per step): an upper bound on -log p(x) in nats, reported in the data's
units (the model sees x / sd). Sample quality is the energy distance between samples and held-out points, next to
the same statistic between two held-out sets (its floor). DDIM (Song, Meng & Ermon 2020, arXiv:2010.02502)
samples in 50 deterministic steps.

    python examples/diffusion_2d.py                          # 3 densities, 50000 points, 60 epochs, T = 1000
    python examples/diffusion_2d.py --densities two_moons --epochs 30 --num-train 20000

Prints the NLL bound with its standard error and the energy distances; writes ``samples_<density>.png``.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import toy_density  # noqa: E402
from bayesdl.diagnostics.sample_distance import energy_distance  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models.diffusion import DDPM  # noqa: E402
from bayesdl.nn import DenoisingMLP  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("diffusion_2d", __doc__)
    parser.add_argument("--densities", nargs="+", default=["two_moons", "eight_gaussians", "checkerboard"])
    parser.add_argument("--num-train", type=int, default=50000)
    parser.add_argument(
        "--num-eval", type=int, default=2000, help="held-out points for the bound and the distances"
    )
    parser.add_argument("--steps", type=int, default=1000, help="diffusion steps T")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=60)
    args = parse_args(
        parser,
        argv,
        smoke={
            "densities": ["two_moons"],
            "num_train": 1000,
            "num_eval": 300,
            "steps": 50,
            "hidden": 32,
            "epochs": 3,
        },
    )
    results: dict[str, dict[str, float]] = {}
    for k, name in enumerate(args.densities):
        train = toy_density(name, args.num_train, seed=args.seed + 100 * k)
        held_out = toy_density(name, args.num_eval, seed=args.seed + 100 * k + 1)
        second_held_out = toy_density(name, args.num_eval, seed=args.seed + 100 * k + 2)
        scale = float(train.std())
        torch.manual_seed(args.seed)
        model = DDPM(DenoisingMLP(2, hidden=args.hidden, num_blocks=3), data_shape=[2], num_steps=args.steps)
        Trainer(
            model,
            lr=2e-3,
            epochs=args.epochs,
            batch_size=512,
            scheduler="cosine",
            device=args.device,
            seed=args.seed,
        ).fit(train / scale)
        model.eval()
        bound = model.nll_bound((held_out / scale).to(args.device), seed=args.seed)
        nll = bound.cpu() + 2 * math.log(scale)  # -log p(x) = -log p(x / scale) + D log(scale), D = 2
        ancestral = model.sample(args.num_eval, seed=args.seed).cpu() * scale
        ddim = model.ddim_sample(args.num_eval, num_steps=min(50, args.steps), seed=args.seed).cpu() * scale
        results[name] = {
            "nll_bound": float(nll.mean()),
            "nll_bound_se": float(nll.std() / math.sqrt(len(nll))),
            "energy_distance_ancestral": energy_distance(ancestral, held_out),
            "energy_distance_ddim50": energy_distance(ddim, held_out),
            "energy_distance_floor": energy_distance(second_held_out, held_out),
        }
        r = results[name]
        print(
            f"{name:16s} NLL bound {r['nll_bound']:.3f} +- {r['nll_bound_se']:.3f} nats; energy distance: ancestral "
            f"{r['energy_distance_ancestral']:.4f}, DDIM-50 {r['energy_distance_ddim50']:.4f}, "
            f"held-out pair (floor) {r['energy_distance_floor']:.4f}"
        )
        limit = float(held_out.abs().max()) * 1.15
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
        for ax, points, title in zip(
            axes,
            (held_out, ancestral, ddim),
            ("held-out data", f"ancestral samples ({args.steps} steps)", "DDIM samples (50 steps)"),
        ):
            ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", title=title)
        save_figure(fig, args, f"samples_{name}")
    return results


if __name__ == "__main__":
    main()
