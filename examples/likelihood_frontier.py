"""Three ways to a likelihood on the same 17-level 8x8 digits, in bits/dim of the discrete data.

* a gated PixelCNN with a 17-way softmax per pixel: an **exact** -log2 P(k) / 64;
* a neural spline flow (``NSFCoupling``, Durkan et al. 2019, arXiv:1906.04032) on uniformly dequantised levels
  (k + v)/17: a **bound**, E_v[-log p] + 64 log 17 >= -log P(k) (Theis et al. 2016, arXiv:1511.01844);
* flow matching (Lipman et al. 2022, arXiv:2210.02747) on 2 (k + v)/17 - 1, scored through its ODE by
  ``ode_log_likelihood`` with Hutchinson's trace estimator: a dequantisation **bound**, itself estimated, so it comes
  with the probes' standard error beside the test set's.

Every model trains on the same 1300 images (the last ``--num-val`` = 200 of the training split are held out for the PixelCNN's
best epoch and the flow's early stopping) and is scored on the same test images. ``bayesdl run likelihood-frontier``
puts every family of bayesdl in this table (MAF, RealNVP, the multi-scale flow, VAEs, DDPM, VP-SDE, MADE, NADE, the RBM).

    python examples/likelihood_frontier.py                       # 60 epochs each
    python examples/likelihood_frontier.py --epochs 20 --probes 8

Prints one line per model; writes ``frontier.png``.
"""

from __future__ import annotations

import math
import time

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits_levels  # noqa: E402
from bayesdl.inference import Trainer, ode_log_likelihood  # noqa: E402
from bayesdl.models.autoregressive import PixelCNN  # noqa: E402
from bayesdl.models.continuous import FlowMatching  # noqa: E402
from bayesdl.models.flows import Dequantized, NSFCoupling  # noqa: E402
from bayesdl.nn import DenoisingMLP  # noqa: E402

K, D = 17, 64


class UnitBoxFlowMatching(torch.nn.Module):
    """Flow matching trained on freshly dequantised levels mapped to [-1, 1]: x = 2 (k + v) / K - 1."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.model = FlowMatching(DenoisingMLP(D, hidden=hidden, num_blocks=3), [D])

    def loss(self, levels: torch.Tensor) -> torch.Tensor:
        return self.model.loss(2 * (levels + torch.rand_like(levels)) / K - 1)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("likelihood_frontier", __doc__)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument(
        "--hidden", type=int, default=128, help="width of the flows' MLPs (the PixelCNN has a quarter)"
    )
    parser.add_argument("--num-train", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--num-val", type=int, default=200, help="the last training images, held out")
    parser.add_argument("--num-test", type=int, default=None, help="score only the first N test images")
    parser.add_argument("--probes", type=int, default=4, help="Hutchinson probes per image")
    parser.add_argument("--tol", type=float, default=1e-4, help="rtol = atol of the ODE solver")
    args = parse_args(
        parser,
        argv,
        smoke={
            "epochs": 1,
            "hidden": 16,
            "num_train": 150,
            "num_val": 50,
            "num_test": 8,
            "probes": 2,
            "tol": 1e-2,
        },
    )
    levels = load_digits_levels("train")[0].float()[: args.num_train]
    train, held_out = levels[: -args.num_val], levels[-args.num_val :]
    test = load_digits_levels("test")[0].float()[: args.num_test].to(args.device)
    g = torch.Generator(device=args.device).manual_seed(args.seed)
    to_bits = 1.0 / (D * math.log(2))
    torch.manual_seed(args.seed)
    pixelcnn = PixelCNN(
        1,
        8,
        num_layers=4,
        hidden_channels=max(4, args.hidden // 4),
        kernel_size=5,
        likelihood="levels",
        num_levels=K,
    )
    nsf = Dequantized(NSFCoupling(D, 5, [args.hidden, args.hidden], bins=8, logit_alpha=0.05), num_levels=K)
    fm = UnitBoxFlowMatching(hidden=args.hidden)
    results: dict[str, dict[str, float]] = {}
    for name, model, data, extra in [
        (
            "PixelCNN, 17-way (exact)",
            pixelcnn,
            (train.reshape(-1, 1, 8, 8), held_out.reshape(-1, 1, 8, 8)),
            {},
        ),
        ("NSF coupling (bound)", nsf, (train, held_out), {"early_stopping_patience": 10}),
        ("flow matching, ODE (bound)", fm, (train, None), {}),
    ]:
        start = time.perf_counter()
        Trainer(
            model,
            lr=2e-3,
            epochs=args.epochs,
            batch_size=100,
            scheduler="cosine",
            device=args.device,
            seed=args.seed,
            progress=False,
            **extra,
        ).fit(data[0], val_data=data[1])
        seconds = time.perf_counter() - start
        model.eval()
        probe_se = 0.0
        with torch.no_grad():
            if model is pixelcnn:
                nll = -pixelcnn.log_prob(test.reshape(-1, 1, 8, 8))
            elif model is nsf:
                nll = nsf.nll_discrete(test, num_samples=4, generator=g)
        if model is fm:
            x = 2 * (test + torch.rand(test.shape, generator=g, device=args.device)) / K - 1
            ode = ode_log_likelihood(
                fm.model,
                x,
                divergence="hutchinson",
                num_probes=args.probes,
                rtol=args.tol,
                atol=args.tol,
                seed=args.seed,
            )
            nll = -ode.log_prob + D * math.log(K / 2)  # density of (k + v) = density of x times (2/K)^D
            probe_se = ode.mean_stderr() * to_bits
        bpd = nll.detach().cpu().double() * to_bits
        results[name] = {
            "bits_per_dim": float(bpd.mean()),
            "se": float(bpd.std() / math.sqrt(len(bpd))),
            "probe_se": probe_se,
            "train_seconds": seconds,
            "parameters": sum(p.numel() for p in model.parameters()),
        }
        print(
            f"{name:28s} {results[name]['bits_per_dim']:.3f} ± {results[name]['se']:.3f} bits/dim"
            + (f" (probe se {probe_se:.3f})" if model is fm else "")
            + f", {results[name]['parameters']} parameters, {seconds:.0f} s training"
        )
    print(f"uniform model: log2(17) = {math.log2(K):.3f} bits/dim")
    fig, ax = plt.subplots(figsize=(5.5, 2.4))
    names = list(results)
    ax.errorbar(
        [results[n]["bits_per_dim"] for n in names],
        range(len(names)),
        xerr=[2 * results[n]["se"] for n in names],
        fmt="o",
        capsize=3,
    )
    ax.axvline(math.log2(K), color="gray", ls="--", label="uniform")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("test bits/dim of the 17-level digits (2 se)")
    ax.legend(fontsize=7)
    save_figure(fig, args, "frontier")
    return results


if __name__ == "__main__":
    main()
