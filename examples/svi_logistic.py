"""Bayesian logistic regression on the 8x8 digits, fitted by stochastic variational inference.

The model is a Pyro model: a Normal(0, 1) prior on a 64 x 10 weight matrix and the biases, and a categorical
likelihood; the guide is Pyro's ``AutoNormal`` (a mean-field Gaussian). bayesdl's ``Trainer`` runs the SVI loop:
minibatches of 100, the data term scaled by N/B, Adam, and ``TraceMeanField_ELBO`` (the KL in closed form).
Predictions average the softmax over draws of the weights from the guide.

    python examples/svi_logistic.py                  # 200 epochs, 500 predictive draws
    python examples/svi_logistic.py --epochs 50 --samples 100 --out /tmp/svi

Prints the test accuracy and NLL and writes ``elbo.png`` (training curve) and ``weights.png`` (posterior mean and
sd of each class's weights). The same model is the registered experiment ``bayesdl run svi-logistic``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pyro  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402
from pyro.infer.autoguide import AutoNormal  # noqa: E402

from bayesdl.data import load_digits  # noqa: E402
from bayesdl.diagnostics import accuracy, nll  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models.logistic import BayesianLogisticRegression  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("svi_logistic", __doc__)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--prior-scale", type=float, default=1.0, help="sd of the Normal prior on the weights"
    )
    parser.add_argument("--samples", type=int, default=500, help="guide draws for the posterior predictive")
    args = parse_args(parser, argv, smoke={"epochs": 2, "samples": 10})

    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    torch.manual_seed(args.seed)
    model = BayesianLogisticRegression(64, 10, prior_scale=args.prior_scale)
    guide = AutoNormal(model, init_scale=0.05)
    trainer = Trainer(
        model,
        guide=guide,
        elbo="meanfield",
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
    )
    history = trainer.fit((x_train, y_train))

    # Posterior predictive p(y | x, D) ~ mean over s of softmax(x W_s + b_s), W_s drawn from the guide.
    # Calling Pyro directly: read the trained parameters from the modules, not from Pyro's global parameter store.
    predictive = pyro.infer.Predictive(model, guide=guide, num_samples=args.samples, return_sites=["_RETURN"])
    with torch.no_grad(), pyro.settings.context(module_local_params=True):
        probs = predictive(x_test.to(trainer.device))["_RETURN"].softmax(-1).mean(0).cpu()
    results = {
        "test_accuracy": accuracy(probs, y_test),
        "test_nll": nll(probs, y_test),
        "final_negative_elbo_per_example": history.losses[-1],
    }
    print(
        f"test accuracy {results['test_accuracy']:.3f}, test NLL {results['test_nll']:.3f} nats "
        f"(posterior predictive over {args.samples} draws); final -ELBO {history.losses[-1]:.3f} nats per example (a bound)"
    )

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(range(1, len(history) + 1), history.losses)
    ax.set(
        xlabel="epoch", ylabel="negative ELBO per example (nats)", title="SVI training (the ELBO is a bound)"
    )
    save_figure(fig, args, "elbo")

    with torch.no_grad(), pyro.settings.context(module_local_params=True):
        loc = guide.median()["weight"].cpu()
        sd = (
            guide.quantiles([0.8413])["weight"][0].cpu() - loc
        )  # the 84th percentile is one sd above the mean
    fig, axes = plt.subplots(2, 10, figsize=(12, 2.9))
    for c in range(10):
        mean_image = axes[0, c].imshow(
            loc[:, c].reshape(8, 8), cmap="RdBu_r", vmin=-loc.abs().max(), vmax=loc.abs().max()
        )
        sd_image = axes[1, c].imshow(sd[:, c].reshape(8, 8), cmap="viridis", vmin=0, vmax=sd.max())
        axes[0, c].set_title(str(c))
    for ax in axes.flat:
        ax.axis("off")
    fig.colorbar(mean_image, ax=axes[0].tolist(), shrink=0.8, label="mean")
    fig.colorbar(sd_image, ax=axes[1].tolist(), shrink=0.8, label="sd")
    fig.suptitle("posterior mean (top) and sd (bottom) of each class's weights")
    save_figure(fig, args, "weights")
    return results


if __name__ == "__main__":
    main()
