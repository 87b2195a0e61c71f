"""Normalizing flows fitted by maximum likelihood to toy 2-D densities: RealNVP, MAF and a planar flow.

A flow maps data x to a standard normal base z = f(x) through invertible layers, so its density is exact:
log p(x) = log N(f(x); 0, I) + log |det df/dx|. Training minimises the mean test-style NLL in nats.

* RealNVP: affine coupling layers, each transforming half of the coordinates given the other half
  (Dinh, Sohl-Dickstein & Bengio 2016, arXiv:1605.08803);
* MAF: masked autoregressive affine layers with ActNorm (Papamakarios, Pavlakou & Murray 2017, arXiv:1705.07057);
* planar: x -> x + u tanh(w.x + b) (Rezende & Mohamed 2015, arXiv:1505.05770); it has no closed-form inverse,
  so bayesdl evaluates its density by bisection per layer (the slowest of the three to train).

    python examples/flow_2d.py                              # 4 densities, 10000 points, 20 epochs, big flows
    python examples/flow_2d.py --densities two_moons --epochs 10 --layers 6

Prints the test NLL (nats, on fresh points) per density and flow; writes ``densities.png`` and ``samples.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import toy_density  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models.flows import MAF, PlanarFlow, RealNVP  # noqa: E402

LIMIT = 5.0  # the plots show [-LIMIT, LIMIT]^2


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("flow_2d", __doc__)
    parser.add_argument(
        "--densities", nargs="+", default=["two_moons", "eight_gaussians", "checkerboard", "rings"]
    )
    parser.add_argument("--num-train", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--layers", type=int, default=12, help="RealNVP couplings (MAF uses two thirds as many)"
    )
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--planar-layers", type=int, default=16)
    parser.add_argument("--grid", type=int, default=200, help="points per axis of the density heatmaps")
    args = parse_args(
        parser,
        argv,
        smoke={
            "densities": ["two_moons"],
            "num_train": 128,
            "epochs": 1,
            "layers": 2,
            "hidden": [16],
            "planar_layers": 2,
            "grid": 20,
        },
    )

    axis = torch.linspace(-LIMIT, LIMIT, args.grid)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    grid_points = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1).to(args.device)
    n = len(args.densities)
    heat, heat_axes = plt.subplots(n, 4, figsize=(12, 3 * n), squeeze=False)
    samp, samp_axes = plt.subplots(n, 3, figsize=(9, 3 * n), squeeze=False)
    results: dict[str, dict[str, float]] = {}
    for row, density in enumerate(args.densities):
        x_train = toy_density(density, args.num_train, seed=args.seed)
        x_test = toy_density(density, max(args.num_train // 4, 256), seed=args.seed + 1000).to(args.device)
        heat_axes[row, 0].scatter(x_train[:3000, 0], x_train[:3000, 1], s=1, alpha=0.4)
        heat_axes[row, 0].set_title(f"{density}: data")
        torch.manual_seed(args.seed)
        flows = {
            "RealNVP": (RealNVP(2, num_layers=args.layers, hidden_sizes=args.hidden), 2e-3),
            "MAF": (
                MAF(2, num_layers=max(1, 2 * args.layers // 3), hidden_sizes=args.hidden, actnorm=True),
                2e-3,
            ),
            "planar": (PlanarFlow(2, num_layers=args.planar_layers), 5e-2),
        }
        results[density] = {}
        for col, (name, (flow, lr)) in enumerate(flows.items()):
            Trainer(
                flow,
                lr=lr,
                epochs=args.epochs,
                batch_size=256,
                scheduler="cosine",
                clip_grad_norm=10.0,
                device=args.device,
                seed=args.seed,
            ).fit(x_train)
            flow.eval()
            with torch.no_grad():
                results[density][name] = nll = -float(flow.log_prob(x_test).mean())
                density_values = flow.log_prob(grid_points).exp().reshape(args.grid, args.grid).cpu()
                draws = flow.sample(
                    2000, generator=torch.Generator(device=args.device).manual_seed(args.seed)
                ).cpu()
            print(f"{density:16s} {name:8s} test NLL {nll:.3f} nats")
            heat_axes[row, col + 1].imshow(
                density_values, origin="lower", extent=[-LIMIT, LIMIT, -LIMIT, LIMIT], cmap="magma"
            )
            heat_axes[row, col + 1].set_title(f"{name}: test NLL {nll:.2f}")
            samp_axes[row, col].scatter(draws[:, 0], draws[:, 1], s=1, alpha=0.4, color="C1")
            samp_axes[row, col].set_title(f"{density}: {name} samples")
    for ax in [*heat_axes.flat, *samp_axes.flat]:
        ax.set(xlim=(-LIMIT, LIMIT), ylim=(-LIMIT, LIMIT), xticks=[], yticks=[])
    save_figure(heat, args, "densities")
    save_figure(samp, args, "samples")
    return results


if __name__ == "__main__":
    main()
