"""RBMs with 500 hidden units on binarised Fashion-MNIST: CD-1, CD-10 and PCD, scored by AIS.

The recipe of ``rbm_digits.py`` (whose training, scoring and plotting functions this script reuses) at 784
visible units: 10 epochs of SGD with momentum over all 60000 images (batch 100, cosine-decayed rate 0.05), then
log Z by AIS with 100 chains and 10000 inverse temperatures and the mean log-likelihood of all 10000 test images.

    python examples/rbm_fashion.py                        # 500 hidden, 10 epochs, all images
    python examples/rbm_fashion.py --num-train 10000 --hidden 100 --epochs 3 --betas 2000

Needs Fashion-MNIST on disk (Debian's ``dataset-fashion-mnist`` or ``$BAYESDL_DATA``; nothing is downloaded).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
from _common import make_parser, parse_args  # noqa: E402
from rbm_digits import plot_filters_and_samples, test_log_likelihood, train_rbm  # noqa: E402

from bayesdl.data import load_fashion_mnist  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("rbm_fashion", __doc__)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--num-train", type=int, default=60000)
    parser.add_argument("--num-test", type=int, default=10000)
    parser.add_argument("--chains", type=int, default=100, help="AIS chains")
    parser.add_argument("--betas", type=int, default=10000, help="AIS inverse temperatures")
    parser.add_argument("--gibbs-steps", type=int, default=1000, help="sweeps per drawn sample")
    args = parse_args(
        parser,
        argv,
        smoke={
            "hidden": 12,
            "epochs": 1,
            "num_train": 300,
            "num_test": 100,
            "chains": 10,
            "betas": 50,
            "gibbs_steps": 10,
        },
    )

    x_test, _ = load_fashion_mnist("test", binarize="static", seed=args.seed + 1)
    if (
        args.smoke
    ):  # reading the 60000-image training file would dominate a smoke run: split the test file instead
        x_train, x_test = x_test[: args.num_train], x_test[args.num_train :]
    else:
        x_train = load_fashion_mnist("train", binarize="static", seed=args.seed)[0][: args.num_train]
    x_test = x_test[: args.num_test]
    models = {
        label: train_rbm(x_train, args.hidden, method, k, args)
        for label, method, k in (("CD-1", "cd", 1), ("CD-10", "cd", 10), ("PCD", "pcd", 1))
    }
    results = {}
    for label, rbm in models.items():
        mean, sem, log_z_se = test_log_likelihood(rbm, x_test, args)
        results[label] = mean
        print(
            f"{label:5s} test log-likelihood {mean:.1f} +- {sem:.1f} nats (s.e. over images; log Z s.e. {log_z_se:.2f})"
        )
    plot_filters_and_samples(models, 28, args)
    return results


if __name__ == "__main__":
    main()
