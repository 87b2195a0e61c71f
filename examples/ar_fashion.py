"""NADE, MADE and a gated PixelCNN on statically binarised Fashion-MNIST (28x28): exact test NLL in nats.

The recipe of ``ar_digits.py`` (whose ``fit_and_score`` and ``sample_and_complete`` this script reuses) at
784 pixels, sized for one CPU core: NADE with 100 hidden units (5 epochs), a natural-order MADE [500] (20 epochs)
and a PixelCNN of 4 gated layers x 16 channels (3 epochs), trained on 20000 images with 2000 held out, scored on
all 10000 test images. The papers' models (NADE H=500, MADE 8 masks x [8000], PixelCNN 8 x 64) need hours on a
CPU; literature on binarised *MNIST*: gated PixelCNN about 81 nats, NADE 88, MADE 88 (not comparable here).

    python examples/ar_fashion.py                          # 20000 training images, all 10000 test images
    python examples/ar_fashion.py --num-train 3000 --num-test 1000 --epoch-scale 0.5

Needs Fashion-MNIST on disk (Debian's ``dataset-fashion-mnist`` or ``$BAYESDL_DATA``; nothing is downloaded).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import torch  # noqa: E402
from _common import make_parser, parse_args  # noqa: E402
from ar_digits import fit_and_score, sample_and_complete  # noqa: E402

from bayesdl.data import load_fashion_mnist  # noqa: E402
from bayesdl.models import MADE, NADE, PixelCNN  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("ar_fashion", __doc__)
    parser.add_argument(
        "--epoch-scale", type=float, default=1.0, help="multiply every model's epochs by this"
    )
    parser.add_argument("--num-train", type=int, default=20000)
    parser.add_argument("--num-val", type=int, default=2000)
    parser.add_argument("--num-test", type=int, default=10000)
    parser.add_argument("--nade-hidden", type=int, default=100)
    parser.add_argument("--made-hidden", type=int, default=500)
    parser.add_argument("--pixelcnn-layers", type=int, default=4)
    parser.add_argument("--pixelcnn-channels", type=int, default=16)
    args = parse_args(
        parser,
        argv,
        smoke={
            "epoch_scale": 0.2,
            "num_train": 200,
            "num_val": 50,
            "num_test": 50,
            "nade_hidden": 8,
            "made_hidden": 32,
            "pixelcnn_layers": 1,
            "pixelcnn_channels": 4,
        },
    )

    x_test, _ = load_fashion_mnist("test", binarize="static", seed=args.seed + 1)
    if (
        args.smoke
    ):  # reading the 60000-image training file would dominate a smoke run: split the test file instead
        x_pool, x_test = x_test[: args.num_train + args.num_val], x_test[args.num_train + args.num_val :]
    else:
        x_pool, _ = load_fashion_mnist("train", binarize="static", seed=args.seed)
    x_train, x_val, x_test = x_pool[: args.num_train], x_pool[-args.num_val :], x_test[: args.num_test]
    torch.manual_seed(args.seed)
    models = {  # name: (model, takes images [B, 1, 28, 28], epochs, learning rate)
        "NADE": (NADE(784, args.nade_hidden), False, 5, 3e-3),
        "MADE": (MADE(784, [args.made_hidden], natural_ordering=True, seed=args.seed), False, 20, 1e-3),
        "PixelCNN": (
            PixelCNN(
                1, 28, num_layers=args.pixelcnn_layers, hidden_channels=args.pixelcnn_channels, kernel_size=5
            ),
            True,
            3,
            3e-3,
        ),
    }
    results = fit_and_score(models, x_train, x_val, x_test, 28, args)
    sample_and_complete(models, x_test, 28, args)
    return results


if __name__ == "__main__":
    main()
