"""MAF and RealNVP on dequantised 8x8 digits: an upper bound on the discrete NLL, in nats and bits/dim.

The digits take 17 grey levels k in {0, ..., 16}. A flow is a density on continuous data, so each image is
dequantised: y = (k + v) / 17 with v ~ U[0, 1)^64, and -E_v[log p(y)] + 64 log 17 is an upper bound on the
discrete NLL -log P(k) (Theis, van den Oord & Bethge 2016, arXiv:1511.01844). ``Dequantized`` wraps a flow in that
bound; ``logit_alpha`` adds the logit preprocessing as the flow's first layer (its log-det is inside log p).
200 training images are held out for early stopping. Bits/dim = NLL / (64 log 2); the uniform model scores 4.09.

    python examples/flow_digits.py                            # at most 200 epochs (patience 20), [256, 256]
    python examples/flow_digits.py --epochs 50 --hidden 128 128

Prints the test NLL and bits/dim per flow; writes ``samples_maf.png``, ``samples_realnvp.png`` and ``test_images.png``.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import torch  # noqa: E402
from _common import image_grid, make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits_levels  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models.flows import MAF, Dequantized, RealNVP  # noqa: E402

LEVELS = 17


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("flow_digits", __doc__)
    parser.add_argument(
        "--epochs", type=int, default=200, help="at most this many (early stopping on held-out images)"
    )
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--maf-layers", type=int, default=5)
    parser.add_argument("--realnvp-layers", type=int, default=8)
    parser.add_argument("--dequantisation-draws", type=int, default=10, help="noise draws per test image")
    parser.add_argument("--num-train", type=int, default=None, help="use only the first N training images")
    args = parse_args(
        parser,
        argv,
        smoke={
            "epochs": 1,
            "hidden": [32],
            "maf_layers": 2,
            "realnvp_layers": 2,
            "dequantisation_draws": 2,
            "num_train": 300,
        },
    )

    levels = load_digits_levels("train")[0].float()[: args.num_train]
    train, held_out = levels[:-200], levels[-200:]
    test = load_digits_levels("test")[0].float().to(args.device)
    flows = {
        "maf": MAF(64, num_layers=args.maf_layers, hidden_sizes=args.hidden, logit_alpha=0.05),
        "realnvp": RealNVP(64, num_layers=args.realnvp_layers, hidden_sizes=args.hidden, logit_alpha=0.05),
    }
    results: dict[str, dict[str, float]] = {}
    for name, flow in flows.items():
        torch.manual_seed(args.seed)
        model = Dequantized(flow, num_levels=LEVELS)
        history = Trainer(
            model,
            lr=1e-3,
            epochs=args.epochs,
            batch_size=100,
            scheduler="cosine",
            clip_grad_norm=50.0,
            early_stopping_patience=args.patience,
            device=args.device,
            seed=args.seed,
        ).fit(train, val_data=held_out)
        model.eval()
        generator = torch.Generator(device=args.device).manual_seed(args.seed)
        with torch.no_grad():
            nll = float(model.nll_discrete(test, args.dequantisation_draws, generator=generator).mean())
            samples = model.sample_levels(64, generator=generator)
        results[name] = {
            "test_nll_nats": nll,
            "test_bits_per_dim": nll / (64 * math.log(2)),
            "epochs_trained": len(history),
        }
        print(
            f"{name:8s} test NLL {nll:.2f} nats per image ({results[name]['test_bits_per_dim']:.3f} bits/dim; an upper "
            f"bound), {len(history)} epochs"
        )
        save_figure(image_grid(samples / (LEVELS - 1), 8, f"{name} samples"), args, f"samples_{name}")
    save_figure(image_grid(test[:64] / (LEVELS - 1), 8, "test digits"), args, "test_images")
    return results


if __name__ == "__main__":
    main()
