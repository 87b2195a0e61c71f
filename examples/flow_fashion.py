"""A multi-scale Glow-style flow on dequantised Fashion-MNIST, scored in bits/dim.

The flow has 2 scales; each applies Glow steps (ActNorm, an invertible 1x1 convolution with an LU-factorised
weight, an affine coupling over channels; Kingma & Dhariwal 2018, arXiv:1807.03039) and then factors out half of
the dimensions, as in RealNVP's multi-scale architecture (Dinh et al. 2016, arXiv:1605.08803). ``Dequantized``
adds uniform noise to the 256 grey levels, so -E_v[log p((k + v)/256)] + 784 log 256 is an upper bound on the
discrete code length (Theis et al. 2016, arXiv:1511.01844). The full settings are a small model trained briefly
(3 epochs, about 7 minutes on one CPU core), far from converged.

    python examples/flow_fashion.py                        # 60000 images, 3 epochs, 2 scales x 4 steps, 64 channels
    python examples/flow_fashion.py --num-train 5000 --epochs 4 --steps 2 --hidden 32

Needs Fashion-MNIST on disk (Debian's ``dataset-fashion-mnist`` or ``$BAYESDL_DATA``; nothing is downloaded).
Prints the test bits/dim; writes ``samples.png`` and ``test_images.png``.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import torch  # noqa: E402
from _common import image_grid, make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_fashion_mnist_levels  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models.flows import Dequantized, MultiScaleFlow  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("flow_fashion", __doc__)
    parser.add_argument("--num-train", type=int, default=60000)
    parser.add_argument("--num-test", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4, help="Glow steps per scale")
    parser.add_argument("--hidden", type=int, default=64, help="hidden channels of the coupling networks")
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parse_args(
        parser, argv, smoke={"num_train": 64, "num_test": 32, "epochs": 1, "steps": 1, "hidden": 8}
    )

    test = load_fashion_mnist_levels("test")[0].float().unsqueeze(1)  # [N, 1, 28, 28], levels 0..255
    train = (
        test if args.smoke else load_fashion_mnist_levels("train")[0].float().unsqueeze(1)
    )  # smoke: skip the big file
    train, test = train[: args.num_train], test[-args.num_test :].to(args.device)
    torch.manual_seed(args.seed)
    flow = MultiScaleFlow(
        (1, 28, 28), num_scales=2, steps_per_scale=args.steps, hidden_channels=args.hidden, style="glow"
    )
    model = Dequantized(flow, num_levels=256)
    Trainer(
        model,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=64,
        scheduler="cosine",
        clip_grad_norm=50.0,
        device=args.device,
        seed=args.seed,
    ).fit(train)
    model.eval()
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    with torch.no_grad():  # one dequantisation draw per test image, in chunks that fit in memory
        nll = torch.cat([model.nll_discrete(chunk, 1, generator=generator) for chunk in test.split(500)])
        samples = model.sample_levels(36, generator=generator)
    bpd = nll / (784 * math.log(2))
    print(
        f"test {float(bpd.mean()):.3f} bits/dim (an upper bound; s.e. {float(bpd.std()) / math.sqrt(len(bpd)):.3f} over "
        f"{len(bpd)} test images)"
    )
    save_figure(image_grid(samples / 255, 6, "samples (quantised to 8 bits)"), args, "samples")
    save_figure(image_grid(test[:36].cpu() / 255, 6, "test images"), args, "test_images")
    return {"test_bits_per_dim": float(bpd.mean())}


if __name__ == "__main__":
    main()
