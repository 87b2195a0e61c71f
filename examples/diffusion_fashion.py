"""A DDPM with a small U-Net on Fashion-MNIST (28x28, 8-bit): a bits/dim bound, ancestral and DDIM samples.

Pixels k in {0, ..., 255} are mapped to 2k/255 - 1. The network is a U-Net (8 base channels, channel multipliers
1-2-2, self-attention at the lowest resolution, sinusoidal time embedding) predicting the noise eps; the decoder
is the discretised Gaussian over the 256 levels, so the T-step bound is a bound on -log P(k) (Ho, Jain & Abbeel
2020, arXiv:2006.11239). The full settings are sized for one CPU thread in about 12 minutes (2 epochs, 3750
Adam steps, no weight EMA), far below the paper's 35M-parameter model and 800k steps.

    python examples/diffusion_fashion.py                      # 60000 images, 2 epochs, bound on 128 test images
    python examples/diffusion_fashion.py --num-train 2000 --num-bound 4

Needs Fashion-MNIST on disk (Debian's ``dataset-fashion-mnist`` or ``$BAYESDL_DATA``; nothing is downloaded).
Prints the bound and the sampling speeds; writes ``samples_ancestral.png`` and ``samples_ddim50.png``.
"""

from __future__ import annotations

import math
import time

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import torch  # noqa: E402
from _common import image_grid, make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_fashion_mnist_levels  # noqa: E402
from bayesdl.inference import Trainer, bits_per_dim  # noqa: E402
from bayesdl.models.diffusion import DDPM  # noqa: E402
from bayesdl.nn import UNet  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("diffusion_fashion", __doc__)
    parser.add_argument("--num-train", type=int, default=60000)
    parser.add_argument(
        "--num-bound", type=int, default=128, help="random test images the bound is computed on"
    )
    parser.add_argument("--num-samples", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=1000, help="diffusion steps T")
    parser.add_argument("--base-channels", type=int, default=8)
    parser.add_argument("--channel-mults", type=int, nargs="+", default=[1, 2, 2])
    args = parse_args(
        parser,
        argv,
        smoke={
            "num_train": 64,
            "num_bound": 2,
            "num_samples": 4,
            "epochs": 1,
            "steps": 20,
            "channel_mults": [1, 2],
        },
    )

    train_levels = load_fashion_mnist_levels("test" if args.smoke else "train")[
        0
    ]  # smoke: skip reading 60000 images
    test_levels = load_fashion_mnist_levels("test")[0]
    pick = torch.randperm(len(test_levels), generator=torch.Generator().manual_seed(args.seed + 1))[
        : args.num_bound
    ]
    x_train = (2 * train_levels[: args.num_train].float() / 255 - 1).unsqueeze(1)
    x_test = (2 * test_levels[pick].float() / 255 - 1).unsqueeze(1)
    torch.manual_seed(args.seed)
    net = UNet(
        1,
        base_channels=args.base_channels,
        channel_mults=args.channel_mults,
        attention_levels=[len(args.channel_mults) - 1],
    )
    model = DDPM(
        net,
        data_shape=[1, 28, 28],
        num_steps=args.steps,
        schedule="linear",
        decoder="discretized",
        num_levels=256,
    )
    Trainer(
        model,
        lr=1e-3,
        epochs=args.epochs,
        batch_size=32,
        clip_grad_norm=1.0,
        scheduler="cosine",
        device=args.device,
        seed=args.seed,
    ).fit(x_train)
    model.eval()
    bpd = bits_per_dim(-model.nll_bound(x_test.to(args.device), seed=args.seed).cpu(), 784)
    error = f" (s.e. {float(bpd.std()) / math.sqrt(len(bpd)):.3f})" if len(bpd) > 1 else ""
    print(f"test bound {float(bpd.mean()):.3f} bits/dim{error} on {len(bpd)} random test images")
    start = time.perf_counter()
    ancestral = model.sample(args.num_samples, seed=args.seed, clip=True).cpu()
    middle = time.perf_counter()
    ddim = model.ddim_sample(
        args.num_samples, num_steps=min(50, args.steps), eta=0.0, seed=args.seed, clip=True
    ).cpu()
    end = time.perf_counter()
    print(
        f"ancestral sampling {args.num_samples / (middle - start):.2f} images/s ({args.steps} steps); "
        f"DDIM-50 {args.num_samples / (end - middle):.2f} images/s"
    )
    rows = max(1, args.num_samples // 8)
    save_figure(
        image_grid((ancestral + 1) / 2, rows, f"ancestral samples ({args.steps} steps)"),
        args,
        "samples_ancestral",
    )
    save_figure(image_grid((ddim + 1) / 2, rows, "DDIM samples (50 steps, eta = 0)"), args, "samples_ddim50")
    return {"test_bits_per_dim_bound": float(bpd.mean())}


if __name__ == "__main__":
    main()
