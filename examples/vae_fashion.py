"""Four VAEs on statically binarised Fashion-MNIST, scored by the test ELBO (a bound) and IWAE log p(x).

All share a 784-400-50 Gaussian encoder and a 50-400-784 Bernoulli decoder:

* ``vae``: the ELBO with the KL in closed form (Kingma & Welling 2013, arXiv:1312.6114);
* ``iwae5``: trained on the 5-sample importance-weighted bound (Burda et al. 2015, arXiv:1509.00519);
* ``iaf``: a Gaussian posterior followed by 2 inverse autoregressive flow steps (Kingma et al. 2016, arXiv:1606.04934);
* ``vampprior``: the prior is a mixture of the encoder's posteriors at 500 learned pseudo-inputs
  (Tomczak & Welling 2017, arXiv:1705.07120).

Each model is scored on the same seeded random subset of test images; because the subset adds sampling error
between images, the script also prints each model's per-image difference from the plain VAE with its standard error.

    python examples/vae_fashion.py                        # all 60000 images, 10 epochs, K=5000 on 200 test images
    python examples/vae_fashion.py --models vae vampprior --epochs 3 --num-train 8000 --k 500

Needs Fashion-MNIST on disk (Debian's ``dataset-fashion-mnist`` or ``$BAYESDL_DATA``; nothing is downloaded).
Writes ``elbo_vs_loglik.png`` and ``samples.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import image_grid, make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_fashion_mnist  # noqa: E402
from bayesdl.inference import Trainer, elbo_terms, log_likelihood  # noqa: E402
from bayesdl.models.vae import VAE, FlowPosteriorEncoder, MLPDecoder, MLPEncoder, VampPrior  # noqa: E402

LATENT, HIDDEN = 50, [400]


def build(kind: str, x_train: torch.Tensor, pseudo_inputs: int) -> VAE:
    decoder = MLPDecoder(LATENT, [784], HIDDEN, likelihood="bernoulli")
    if kind == "iaf":
        return VAE(
            FlowPosteriorEncoder([784], LATENT, HIDDEN, flow="iaf", num_flows=2, flow_hidden_sizes=[200]),
            decoder,
        )
    encoder = MLPEncoder([784], LATENT, HIDDEN)
    if kind == "iwae5":
        return VAE(encoder, decoder, objective="iwae", num_particles=5)
    if kind == "vampprior":  # pseudo-inputs start at random training images
        prior = VampPrior(LATENT, [784], num_components=pseudo_inputs).init_from_data(
            x_train[torch.randperm(len(x_train))]
        )
        return VAE(encoder, decoder, prior=prior)
    return VAE(encoder, decoder)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("vae_fashion", __doc__)
    parser.add_argument(
        "--models",
        nargs="+",
        choices=["vae", "iwae5", "iaf", "vampprior"],
        default=["vae", "iwae5", "iaf", "vampprior"],
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--num-train", type=int, default=60000)
    parser.add_argument("--num-test", type=int, default=200, help="size of the random test subset")
    parser.add_argument("--k", type=int, default=5000, help="importance samples for log p(x)")
    parser.add_argument("--pseudo-inputs", type=int, default=500)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parse_args(
        parser, argv, smoke={"epochs": 1, "num_train": 256, "num_test": 20, "k": 20, "pseudo_inputs": 10}
    )

    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    g = torch.Generator().manual_seed(args.seed)
    x_train = x_train[torch.randperm(len(x_train), generator=g)[: args.num_train]]
    x_test = x_test[torch.randperm(len(x_test), generator=g)[: args.num_test]]

    results: dict[str, dict[str, float]] = {}
    per_image: dict[str, torch.Tensor] = {}
    samples = []
    for kind in args.models:
        torch.manual_seed(args.seed)
        vae = build(kind, x_train, args.pseudo_inputs)
        Trainer(vae, lr=args.lr, epochs=args.epochs, batch_size=128, device=args.device, seed=args.seed).fit(
            x_train
        )
        vae = vae.cpu().eval()
        elbo = elbo_terms(vae, x_test, num_samples=100, batch_size=50, seed=args.seed).elbo
        est = log_likelihood(
            vae, x_test, num_samples=args.k, batch_size=50, chunk_size=min(args.k, 500), seed=args.seed
        )
        per_image[kind] = est.log_prob
        results[kind] = {
            "test_elbo_bound": float(elbo.mean()),
            "test_log_likelihood": est.mean(),
            "test_log_likelihood_stderr": est.mean_stderr(),
        }
        samples.append(vae.sample(10, seed=args.seed))
    print(f"{'model':10s} {'ELBO (bound)':>12s} {f'IWAE-{args.k} log p(x)':>22s}   minus vae (paired)")
    for kind, scores in results.items():
        line = f"{kind:10s} {scores['test_elbo_bound']:12.2f} {scores['test_log_likelihood']:13.2f} +- {scores['test_log_likelihood_stderr']:.2f}"
        if "vae" in per_image and kind != "vae":
            diff = per_image[kind] - per_image["vae"]
            scores["minus_vae"], scores["minus_vae_stderr"] = (
                float(diff.mean()),
                float(diff.std() / len(diff) ** 0.5),
            )
            line += f"   {scores['minus_vae']:+.2f} +- {scores['minus_vae_stderr']:.2f}"
        print(line)

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    positions = torch.arange(len(results)).float()
    ax.bar(
        positions - 0.2,
        [s["test_elbo_bound"] for s in results.values()],
        width=0.4,
        label="test ELBO (bound)",
    )
    ax.bar(
        positions + 0.2,
        [s["test_log_likelihood"] for s in results.values()],
        width=0.4,
        label=f"IWAE-{args.k} log p(x)",
    )
    values = [v for s in results.values() for v in (s["test_elbo_bound"], s["test_log_likelihood"])]
    ax.set_ylim(min(values) - 5, max(values) + 5)
    ax.set_xticks(positions.tolist(), list(results))
    ax.set_ylabel("nats per test image")
    ax.legend(fontsize=7)
    save_figure(fig, args, "elbo_vs_loglik")
    save_figure(image_grid(torch.cat(samples), len(samples), row_labels=tuple(results)), args, "samples")
    return results


if __name__ == "__main__":
    main()
