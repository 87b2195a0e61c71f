"""Autoregressive models with exact likelihoods on binarised 8x8 digits: NADE, MADE and a gated PixelCNN.

Each factorises p(x) = prod_i p(x_i | x_<i) over the 64 binary pixels in some order, so log p(x) is exact:

* NADE: one hidden layer whose pre-activations are shared across the conditionals (Larochelle & Murray 2011);
* MADE: an MLP with masked weights so that output i sees only inputs before i (Germain et al. 2015,
  arXiv:1502.03509); with ``num_masks > 1`` it trains over several orderings and averages them at test time
  (a mixture over orderings, still an exact density);
* PixelCNN: masked gated convolutions in raster order (van den Oord et al. 2016, arXiv:1606.05328).

Each model keeps the epoch with the lowest NLL on 200 held-out training images. Because the top half of an image
is a prefix in raster order, NADE, natural-order MADE and PixelCNN can draw the bottom half exactly from
p(x_bottom | x_top) (``complete``).

    python examples/ar_digits.py                             # the full epochs (NADE 60, MADE 60/100, PixelCNN 24)
    python examples/ar_digits.py --epoch-scale 0.25          # a quarter of every model's epochs

Prints the exact test NLL (nats per image) of each model; writes ``samples.png`` and ``completions.png``.
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
from bayesdl.models import MADE, NADE, PixelCNN  # noqa: E402


@torch.no_grad()
def mean_nll(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Exact -log p(x), nats per example, averaged over x (in chunks of 500)."""
    model.eval()
    return -sum(float(model.log_prob(chunk).sum()) for chunk in x.split(500)) / len(x)


def fit_and_score(
    models: dict, x_train: torch.Tensor, x_val: torch.Tensor, x_test: torch.Tensor, side: int, args
) -> dict:
    """Train each ``name: (model, is_image, epochs, lr)`` with early model selection on x_val; return test NLLs."""
    results = {}
    for name, (model, is_image, epochs, lr) in models.items():
        shape = (
            (lambda x: x.reshape(len(x), 1, side, side)) if is_image else (lambda x: x.reshape(len(x), -1))
        )
        Trainer(
            model,
            lr=lr,
            epochs=max(1, round(epochs * args.epoch_scale)),
            batch_size=50,
            clip_grad_norm=100.0,
            device=args.device,
            seed=args.seed,
        ).fit(shape(x_train), val_data=shape(x_val))
        model = model.cpu()
        results[name] = nll = mean_nll(model, shape(x_test))
        print(
            f"{name:14s} exact test NLL {nll:7.2f} nats per image ({nll / (side * side * math.log(2)):.3f} bits/dim)"
        )
    return results


def sample_and_complete(models: dict, x_test: torch.Tensor, side: int, args) -> None:
    """Write samples.png (16 draws per model) and completions.png (bottom halves given the top halves)."""
    rows = [model.sample(16, seed=args.seed).reshape(16, -1) for model, *_ in models.values()]
    save_figure(image_grid(torch.cat(rows), len(rows), row_labels=tuple(models)), args, "samples")
    observed = torch.zeros(side, side, dtype=torch.bool)
    observed[: side // 2] = True
    x = x_test[:8]
    completions = [torch.where(observed.reshape(-1), x, torch.full((), 0.5))]
    for model, is_image, *_ in models.values():
        partial = x.reshape(8, 1, side, side) if is_image else x
        mask = observed.reshape(1, 1, side, side) if is_image else observed.reshape(1, -1)
        completions.append(model.complete(partial, mask, seed=args.seed).reshape(8, -1))
    labels = ("observed top half", *models, "original")
    fig = image_grid(
        torch.cat([*completions, x]), len(labels), "bottom half drawn given the top half", labels
    )
    save_figure(fig, args, "completions")
    plt.close("all")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("ar_digits", __doc__)
    parser.add_argument(
        "--epoch-scale", type=float, default=1.0, help="multiply every model's epochs by this"
    )
    parser.add_argument("--nade-hidden", type=int, default=100)
    parser.add_argument("--made-hidden", type=int, default=256)
    parser.add_argument("--masks", type=int, default=8, help="orderings of the order-agnostic MADE")
    parser.add_argument("--pixelcnn-layers", type=int, default=4)
    parser.add_argument("--pixelcnn-channels", type=int, default=48)
    parser.add_argument("--num-train", type=int, default=None)
    args = parse_args(
        parser,
        argv,
        smoke={
            "epoch_scale": 0.01,
            "nade_hidden": 16,
            "made_hidden": 32,
            "masks": 2,
            "pixelcnn_layers": 2,
            "pixelcnn_channels": 8,
            "num_train": 300,
        },
    )

    x_all, _ = load_digits("train", binarize="static", seed=args.seed)
    x_test, _ = load_digits("test", binarize="static", seed=args.seed + 1)
    order = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(args.seed))
    x_val, x_train = x_all[order[:200]], x_all[order[200:]][: args.num_train]
    torch.manual_seed(args.seed)
    models = {  # name: (model, takes images [B, 1, 8, 8], epochs, learning rate)
        "NADE": (NADE(64, args.nade_hidden), False, 60, 3e-3),
        "MADE": (MADE(64, [args.made_hidden], natural_ordering=True, seed=args.seed), False, 60, 3e-3),
        f"MADE x{args.masks} masks": (
            MADE(64, [args.made_hidden], num_masks=args.masks, seed=args.seed),
            False,
            100,
            3e-3,
        ),
        "PixelCNN": (
            PixelCNN(
                1, 8, num_layers=args.pixelcnn_layers, hidden_channels=args.pixelcnn_channels, kernel_size=5
            ),
            True,
            24,
            3e-3,
        ),
    }
    results = fit_and_score(models, x_train, x_val, x_test, 8, args)
    completable = {
        name: spec for name, spec in models.items() if "masks" not in name
    }  # a prefix needs one fixed order
    sample_and_complete(completable, x_test, 8, args)
    return results


if __name__ == "__main__":
    main()
