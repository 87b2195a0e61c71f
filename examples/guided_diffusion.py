"""A class-conditional DDPM on the 8x8 digits: a classifier-free guidance sweep, and RePaint inpainting.

``ConditionalDDPM`` (Ho & Salimans 2022, arXiv:2207.12598) trains one denoiser for p(x | y) and p(x): each label
is replaced by a null label with probability ``--p-uncond``. Sampling with scale w uses the guided noise estimate
(1 + w) eps(x_t, y) - w eps(x_t, null). For each w this script prints how often a classifier trained on real digits
recognises the label that the samples were drawn for (binomial SE), and the squared kernel MMD between samples and
test digits in that classifier's penultimate features (not FID, which needs Inception weights). It then completes
the bottom half of test digits given their top half and label, with RePaint (Lugmayr et al. 2022,
arXiv:2201.09865).

    python examples/guided_diffusion.py                          # T = 1000, 100 epochs, DDIM-100 (eta = 1) sampling
    python examples/guided_diffusion.py --guidance 0 1 2 4 8 --sample-steps 0   # ancestral over all T steps

Writes ``samples_by_guidance.png`` (one row per w, one column per class) and ``inpainting.png``.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import torch  # noqa: E402
from _common import image_grid, make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits, load_digits_levels  # noqa: E402
from bayesdl.diagnostics.sample_distance import kernel_mmd, median_bandwidth  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models import MLP, ConditionalDDPM, PlainNet  # noqa: E402
from bayesdl.nn import DenoisingMLP  # noqa: E402

LEVELS = 17


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = make_parser("guided_diffusion", __doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1000, help="diffusion steps T")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument(
        "--p-uncond", type=float, default=0.1, help="probability of the null label in training"
    )
    parser.add_argument("--guidance", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0, 4.0])
    parser.add_argument(
        "--sample-steps", type=int, default=100, help="DDIM steps (eta = 1); 0 for ancestral over all T"
    )
    parser.add_argument(
        "--resample", type=int, default=5, help="RePaint's resampling count U (1: replacement)"
    )
    parser.add_argument("--num-train", type=int, default=None)
    args = parse_args(
        parser,
        argv,
        smoke={
            "epochs": 1,
            "steps": 10,
            "hidden": 32,
            "guidance": [0.0, 2.0],
            "sample_steps": 0,
            "resample": 2,
            "num_train": 256,
        },
    )

    levels, y_train = load_digits_levels("train")
    x_train = (2 * levels.float() / (LEVELS - 1) - 1)[: args.num_train]
    y_train = y_train[: args.num_train]
    levels, y_test = load_digits_levels("test")
    x_test = 2 * levels.float() / (LEVELS - 1) - 1
    device = args.device

    # the judge: an MLP classifier trained on the real digits in [0, 1]
    torch.manual_seed(args.seed)
    classifier = PlainNet(MLP(64, [256, 256], 10))
    Trainer(
        classifier, lr=1e-3, epochs=2 if args.smoke else 60, batch_size=100, device=device, seed=args.seed
    ).fit(load_digits("train"))
    classifier.eval()

    def judge(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            z = ((images.to(device) + 1) / 2).clamp(0, 1)
            return classifier(z).argmax(1).cpu(), classifier.net.layers[:-1](
                z
            ).cpu()  # labels, penultimate features

    test_features = judge(x_test)[1]
    bandwidth = median_bandwidth(test_features)

    torch.manual_seed(args.seed)
    net = DenoisingMLP(64, hidden=args.hidden, num_blocks=3, out_features=64 * LEVELS, num_classes=10)
    model = ConditionalDDPM(
        net,
        num_classes=10,
        p_uncond=args.p_uncond,
        data_shape=[64],
        num_steps=args.steps,
        prediction="grid",
        decoder="discretized",
        num_levels=LEVELS,
    )
    Trainer(
        model, lr=2e-3, epochs=args.epochs, batch_size=128, scheduler="cosine", device=device, seed=args.seed
    ).fit((x_train, y_train))
    model.eval()

    def draw(n: int, y: torch.Tensor, w: float, seed: int) -> torch.Tensor:
        if args.sample_steps:
            return model.ddim_sample(
                n, num_steps=args.sample_steps, eta=1.0, y=y.to(device), guidance=w, seed=seed
            ).cpu()
        return model.sample(n, y=y.to(device), guidance=w, seed=seed).cpu()

    print(
        f"{'w':>5} {'accuracy':>16} {'feature MMD^2':>20}   (classifier on real test digits: "
        f"{float((judge(x_test)[0] == y_test).float().mean()):.3f})"
    )
    results: dict[str, list[float]] = {"guidance": [], "accuracy": [], "feature_mmd2": []}
    grid = []
    for w in args.guidance:
        samples = draw(len(y_test), y_test, w, args.seed + 1)  # the test set's class mix
        predicted, features = judge(samples)
        acc = float((predicted == y_test).float().mean())
        mmd = kernel_mmd(features, test_features, bandwidth=bandwidth)
        print(
            f"{w:5.2f} {acc:9.3f} ± {math.sqrt(acc * (1 - acc) / len(y_test)):.3f} {mmd.mmd2:12.5f} ± {mmd.se:.5f}"
        )
        results["guidance"].append(w)
        results["accuracy"].append(acc)
        results["feature_mmd2"].append(mmd.mmd2)
        grid.append(draw(10, torch.arange(10), w, args.seed + 2))
    save_figure(
        image_grid(
            (torch.cat(grid) + 1) / 2,
            len(args.guidance),
            "columns: class 0-9",
            row_labels=tuple(f"w = {w:g}" for w in args.guidance),
        ),
        args,
        "samples_by_guidance",
    )

    # RePaint: the bottom half of 10 test digits, given the top half and the label
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[:4] = True
    mask = mask.flatten()
    pick = torch.stack([torch.nonzero(y_test == c)[0, 0] for c in range(10)])
    filled = model.complete(
        x_test[pick].to(device),
        mask,
        y=y_test[pick].to(device),
        resample=args.resample,
        jump=max(1, args.steps // 100),
        seed=args.seed,
    ).cpu()
    assert torch.equal(filled[:, mask], x_test[pick][:, mask])  # the observed half is kept exactly
    shown = torch.cat([x_test[pick], torch.where(mask, x_test[pick], torch.tensor(-1.0)), filled])
    save_figure(
        image_grid((shown + 1) / 2, 3, f"test digits / top half given / RePaint (U = {args.resample})"),
        args,
        "inpainting",
    )
    return results


if __name__ == "__main__":
    main()
