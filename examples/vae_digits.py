"""A variational autoencoder with a 2-D latent space on binarised 8x8 digits: the ELBO against log p(x).

    q(z | x) = N(mu(x), diag sigma(x)^2),   p(z) = N(0, I_2),   p(x | z) = prod_i Bernoulli(x_i | f_i(z))

The encoder and decoder are MLPs with one hidden layer of 200 units. Training maximises the ELBO
E_q[log p(x|z)] - KL(q(z|x) || p(z)) with the KL in closed form (Kingma & Welling 2013, arXiv:1312.6114) and a
short KL warm-up. The ELBO is a lower bound on log p(x); the importance-weighted estimate with K samples from q
(Burda, Grosse & Salakhutdinov 2015, arXiv:1509.00519) is a tighter bound in expectation that rises towards
log p(x) as K grows. ``--posterior iaf`` replaces the Gaussian q by a Gaussian followed by two inverse
autoregressive flow steps (Kingma et al. 2016, arXiv:1606.04934).

    python examples/vae_digits.py                           # 1000 epochs, K up to 5000 on all 297 test digits
    python examples/vae_digits.py --epochs 150 --ks 1 10 100 1000 --posterior iaf

Prints the test ELBO and the IWAE-K estimates with their Monte Carlo standard errors; writes ``elbo_vs_iwae.png``,
``samples.png``, ``reconstructions.png`` and ``latent_scatter.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import image_grid, make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_digits  # noqa: E402
from bayesdl.inference import KLWarmup, Trainer, elbo_terms, log_likelihood, posterior_means  # noqa: E402
from bayesdl.models.vae import VAE, FlowPosteriorEncoder, MLPDecoder, MLPEncoder  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("vae_digits", __doc__)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--latent", type=int, default=2, help="latent dimensions")
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--posterior", choices=["gaussian", "iaf"], default="gaussian")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument(
        "--ks", type=int, nargs="+", default=[1, 10, 100, 1000, 5000], help="importance samples K"
    )
    parser.add_argument("--num-test", type=int, default=None, help="score only the first N test digits")
    args = parse_args(parser, argv, smoke={"epochs": 3, "ks": [1, 10], "num_test": 40})

    x_train, _ = load_digits("train", binarize="static", seed=0)
    x_test, y_test = load_digits("test", binarize="static", seed=1)
    x_test, y_test = x_test[: args.num_test], y_test[: args.num_test]
    torch.manual_seed(args.seed)
    if args.posterior == "iaf":
        encoder = FlowPosteriorEncoder(
            [64], args.latent, [args.hidden], flow="iaf", num_flows=2, flow_hidden_sizes=[32]
        )
    else:
        encoder = MLPEncoder([64], args.latent, [args.hidden])
    vae = VAE(encoder, MLPDecoder(args.latent, [64], [args.hidden], likelihood="bernoulli"))
    Trainer(
        vae,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=100,
        device=args.device,
        seed=args.seed,
        callbacks=[KLWarmup(epochs=max(1, args.epochs // 20))],
    ).fit(x_train)
    vae = vae.cpu().eval()

    elbo = elbo_terms(vae, x_test, num_samples=100, seed=args.seed).elbo
    print(f"test ELBO {float(elbo.mean()):.2f} nats per image (a lower bound on log p(x))")
    estimates = {}
    for k in args.ks:
        est = log_likelihood(vae, x_test, num_samples=k, chunk_size=min(k, 500), seed=args.seed + k)
        estimates[k] = (est.mean(), est.mean_stderr())
        error = (
            f" +- {est.mean_stderr():.3f} (Monte Carlo s.e.)"
            if k > 1
            else " (K=1: an unbiased estimate of the ELBO)"
        )
        print(f"IWAE-{k:<5d} log p(x) {est.mean():.2f}{error}")

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.errorbar(
        list(estimates),
        [m for m, _ in estimates.values()],
        yerr=[s for _, s in estimates.values()],
        marker="o",
        label="IWAE-K estimate of log p(x)",
    )
    ax.axhline(float(elbo.mean()), color="gray", linestyle="--", label="test ELBO (bound)")
    ax.set(xscale="log", xlabel="importance samples K", ylabel="nats per test image")
    ax.legend(fontsize=7)
    save_figure(fig, args, "elbo_vs_iwae")
    save_figure(image_grid(vae.sample(64, seed=args.seed), 8, "decoder means for z ~ p(z)"), args, "samples")
    pairs = torch.cat([x_test[:10], vae.reconstruct(x_test[:10])])
    save_figure(
        image_grid(pairs, 2, "test digits (top) and reconstructions (bottom)"), args, "reconstructions"
    )
    if args.latent == 2:
        z = posterior_means(vae, x_test)
        fig, ax = plt.subplots(figsize=(4.5, 4))
        points = ax.scatter(z[:, 0], z[:, 1], c=y_test, cmap="tab10", s=8)
        fig.colorbar(points, ax=ax, label="digit")
        ax.set(xlabel="z1", ylabel="z2", title="posterior means of the test digits")
        save_figure(fig, args, "latent_scatter")
    return {
        "test_elbo_bound": float(elbo.mean()),
        **{f"log_likelihood_K{k}": m for k, (m, _) in estimates.items()},
    }


if __name__ == "__main__":
    main()
