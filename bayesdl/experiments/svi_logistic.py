"""``svi-logistic``: Bayesian logistic regression on the embedded digits, trained by SVI."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pyro  # noqa: E402
import torch  # noqa: E402
from pyro.infer.autoguide import AutoNormal  # noqa: E402

from ..data import load_digits  # noqa: E402
from ..diagnostics import accuracy, nll  # noqa: E402
from ..inference import Trainer  # noqa: E402
from ..models.logistic import BayesianLogisticRegression  # noqa: E402
from .registry import RunContext, experiment  # noqa: E402


def posterior_predictive_probs(model: BayesianLogisticRegression, guide: AutoNormal, x: torch.Tensor, num_samples: int) -> torch.Tensor:
    """Average softmax probabilities over ``num_samples`` weight draws from the guide: p(y|x, D) ~ mean_s p(y|x, w_s)."""
    from ..nn.pyro_params import module_local_params

    predictive = pyro.infer.Predictive(model, guide=guide, num_samples=num_samples, return_sites=["_RETURN"])
    with torch.no_grad(), module_local_params(model, guide):  # the guide's parameters, not Pyro's global store
        logits = predictive(x)["_RETURN"]
    return logits.softmax(-1).mean(0)


@experiment("svi-logistic", "Bayesian logistic regression on 8x8 digits by SVI (Pyro model, AutoNormal guide, shared trainer)", demo=True)
def run(ctx: RunContext) -> dict[str, Any]:
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    torch.manual_seed(ctx.seed)
    model = BayesianLogisticRegression(64, 10, prior_scale=1.0)
    guide = AutoNormal(model, init_scale=0.05)
    epochs = 3 if ctx.smoke else 40 if ctx.quick else 200
    trainer = Trainer(model, guide=guide, elbo="meanfield", lr=0.03, epochs=epochs, batch_size=100,
                      device=ctx.device, progress=ctx.progress, seed=ctx.seed)
    history = trainer.fit((x_train, y_train))
    history.to_json(ctx.out_dir / "history.json")
    samples = 10 if ctx.smoke else 100 if ctx.quick else 500
    probs = posterior_predictive_probs(model, guide, x_test.to(ctx.device), samples).cpu()
    train_probs = posterior_predictive_probs(model, guide, x_train.to(ctx.device), samples).cpu()

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(range(1, len(history) + 1), history.losses)
    ax.set_xlabel("epoch")
    ax.set_ylabel("negative ELBO per example (nats)")
    ax.set_title("SVI training (the ELBO is a bound)")
    ctx.save_figure(fig, "elbo", "Negative ELBO per training example, by epoch")

    with torch.no_grad():
        loc = guide.median()["weight"].cpu()
        scale = guide.quantiles([0.8413])["weight"][0].cpu() - loc
    fig, axes = plt.subplots(2, 10, figsize=(12, 2.8))
    for c in range(10):
        axes[0, c].imshow(loc[:, c].reshape(8, 8), cmap="RdBu_r")
        axes[1, c].imshow(scale[:, c].reshape(8, 8), cmap="viridis")
        axes[0, c].set_title(str(c))
        for r in range(2):
            axes[r, c].axis("off")
    fig.suptitle("posterior mean (top) and posterior sd (bottom) of the weights of each class")
    ctx.save_figure(fig, "weights", "Posterior mean and standard deviation of the class weights")

    ctx.note("The training loss is the negative ELBO per example, an upper bound on -log p(y|x); "
             "test NLL uses the posterior predictive averaged over guide samples.")
    return {
        "test_accuracy": accuracy(probs, y_test),
        "test_nll": nll(probs, y_test),
        "train_accuracy": accuracy(train_probs, y_train),
        "final_negative_elbo_per_example": history.losses[-1],
        "epochs": epochs,
        "predictive_samples": samples,
    }
