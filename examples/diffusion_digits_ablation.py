"""How the digits' DDPM bound in bits/dim depends on the decoder, the data's grid spacing, the schedule and the
parameterisation: the comparisons quoted on :class:`bayesdl.models.diffusion.DDPM`.

Variants (each a DDPM with an MLP denoiser of 3 residual blocks, T = 1000, batch 128, cosine-decayed Adam 2e-3):

* ``grid``: 17-level discretized decoder and prediction="grid" (the network outputs logits over the levels), 60 epochs;
* ``plain``: the same decoder with eps-prediction, 60 epochs;
* ``spaced1``, ``spaced1-centred``, ``spaced5``, ``spaced10``: the 17 levels placed 1, 1, 5 or 10 grid steps of
  2/255 apart inside a 256-bin decoder (at the bottom of [-1, 1], or centred), eps-prediction, 60 epochs;
* ``deq-linear-eps``, ``deq-cosine-eps``, ``deq-cosine-v``, ``deq-cosine-x0``: 4 uniformly dequantised copies of
  the training digits with a continuous Gaussian decoder, 15 epochs (about the same number of updates); the bound
  on the dequantised density becomes one on P(k) through ``bits_per_dim(..., num_levels=17)`` (Theis et al. 2016).

    python examples/diffusion_digits_ablation.py grid plain deq-cosine-v
    python examples/diffusion_digits_ablation.py all --epoch-scale 0.5

Each prints the bound in bits/dim on the 297 test digits with its standard error and the nats of the main groups of
terms. Each variant takes about 30-90 s on one CPU thread. Writes ``bits_per_dim.png`` (one bar per variant).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import dequantize, load_digits_levels  # noqa: E402
from bayesdl.inference import Trainer, bits_per_dim  # noqa: E402
from bayesdl.models.diffusion import DDPM  # noqa: E402
from bayesdl.nn import DenoisingMLP  # noqa: E402

SPACED = {"spaced1": (1, 0), "spaced1-centred": (1, 120), "spaced5": (5, 88), "spaced10": (10, 48)}
VARIANTS = ["grid", "plain", *SPACED, "deq-linear-eps", "deq-cosine-eps", "deq-cosine-v", "deq-cosine-x0"]


def run_variant(variant: str, train: torch.Tensor, test: torch.Tensor, args) -> float:
    """Train the variant's DDPM and print its test bound; returns the bound in bits/dim."""
    schedule, prediction, levels, out_dim, log_det = "linear", "eps", 17, 64, 0.0
    if variant in ("grid", "plain"):
        x_train, x_test = 2 * train.float() / 16 - 1, 2 * test.float() / 16 - 1
        epochs, decoder = 60, "discretized"
        if variant == "grid":
            prediction, out_dim = "grid", 64 * 17
    elif variant in SPACED:
        multiple, offset = SPACED[variant]
        x_train, x_test = (2 * (multiple * k.float() + offset) / 255 - 1 for k in (train, test))
        epochs, decoder, levels = 60, "discretized", 256
    else:
        _, schedule, prediction = variant.split("-")
        g = torch.Generator().manual_seed(args.seed)
        x_train = torch.cat([2 * dequantize(train, num_levels=17, generator=g) - 1 for _ in range(4)])
        x_test = (
            2 * dequantize(test, num_levels=17, generator=torch.Generator().manual_seed(args.seed + 1)) - 1
        )
        epochs, decoder, log_det = 15, "gaussian", 64 * math.log(2)
    torch.manual_seed(args.seed)
    model = DDPM(
        DenoisingMLP(64, hidden=args.hidden, num_blocks=3, out_features=out_dim),
        data_shape=[64],
        num_steps=args.steps,
        schedule=schedule,
        prediction=prediction,
        decoder=decoder,
        num_levels=levels,
    )
    Trainer(
        model,
        lr=2e-3,
        epochs=max(1, round(epochs * args.epoch_scale)),
        batch_size=128,
        scheduler="cosine",
        device=args.device,
        seed=args.seed,
    ).fit(x_train)
    model.eval()
    bound = model.nll_bound(x_test.to(args.device), seed=args.seed, return_terms=True)
    total = -bound.total.cpu()
    if decoder == "gaussian":  # a bound on the dequantised density, turned into one on P(k)
        bpd = bits_per_dim(total, 64, num_levels=17, log_det_preprocess=log_det)
    else:  # already a bound on the discrete probability
        bpd = bits_per_dim(total, 64)
    terms = bound.terms.mean(0).cpu()  # [T] mean nats per step: L_0, then L_1 ... L_{T-1} (the last is t = T)
    cut, last = int(0.9 * len(terms)), len(terms) - 1
    print(
        f"{variant}: {float(bpd.mean()):.3f} bits/dim (s.e. {float(bpd.std()) / math.sqrt(len(bpd)):.3f}); nats: "
        f"L_0 {float(terms[0]):.1f}, t=2..10 {float(terms[1:10].sum()):.1f}, t=11..{cut} {float(terms[10:cut].sum()):.1f}, "
        f"t={cut + 1}..{last} {float(terms[cut:last].sum()):.1f}, t=T {float(terms[last]):.1f}, "
        f"prior {float(bound.prior.mean()):.4f}"
    )
    return float(bpd.mean())


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("diffusion_digits_ablation", __doc__)
    parser.add_argument("variants", nargs="+", choices=[*VARIANTS, "all"], help="which variants to run")
    parser.add_argument(
        "--epoch-scale", type=float, default=1.0, help="multiply each variant's epochs by this"
    )
    parser.add_argument("--steps", type=int, default=1000, help="diffusion steps T")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--num-test", type=int, default=None)
    args = parse_args(parser, argv, smoke={"epoch_scale": 0.01, "steps": 50, "hidden": 32, "num_test": 32})

    train = load_digits_levels("train")[0]
    test = load_digits_levels("test")[0][: args.num_test]
    chosen = VARIANTS if "all" in args.variants else args.variants
    results = {variant: run_variant(variant, train, test, args) for variant in chosen}
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(results), 3.2))
    ax.bar(range(len(results)), list(results.values()))
    ax.axhline(math.log2(17), color="grey", linestyle="--", label="uniform over 17 levels")
    ax.set_xticks(range(len(results)), list(results), rotation=45, ha="right")
    ax.set(ylabel="test bound (bits/dim)", yscale="log")
    ax.legend(fontsize=7)
    save_figure(fig, args, "bits_per_dim")
    return results


if __name__ == "__main__":
    main()
