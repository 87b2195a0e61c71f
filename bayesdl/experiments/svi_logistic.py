"""``svi-logistic``: Bayesian logistic regression on the embedded digits, trained by SVI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import pyro
import torch
from pyro.infer.autoguide import AutoNormal

from ..data import load_digits
from ..diagnostics import accuracy, nll
from ..inference import Trainer
from ..models.logistic import BayesianLogisticRegression
from .registry import RunContext, experiment
from .scoring import classification_scores
from .settings import RunSize


@dataclass(frozen=True)
class SviLogisticSettings:
    """Settings of ``svi-logistic`` (``--set epochs=100`` and so on).

    Attributes:
        epochs: passes over the 1500 training digits.
        lr: Adam's learning rate.
        batch_size: the minibatch size.
        prior_scale: the sd of the Normal prior on every weight.
        predictive_samples: guide draws averaged in the posterior predictive.
    """

    epochs: int = 200
    lr: float = 0.03
    batch_size: int = 100
    prior_scale: float = 1.0
    predictive_samples: int = 500

    @classmethod
    def preset(cls, size: RunSize) -> SviLogisticSettings:
        """The settings of a smoke, quick or full run."""
        return {
            "smoke": cls(epochs=3, predictive_samples=10),
            "quick": cls(epochs=40, predictive_samples=100),
            "full": cls(),
        }[size]


def posterior_predictive_probs(
    model: BayesianLogisticRegression, guide: AutoNormal, x: torch.Tensor, num_samples: int
) -> torch.Tensor:
    """Average softmax probabilities over ``num_samples`` weight draws from the guide: p(y|x, D) ~ mean_s p(y|x, w_s)."""
    from ..nn.pyro_params import module_local_params

    predictive = pyro.infer.Predictive(model, guide=guide, num_samples=num_samples, return_sites=["_RETURN"])
    with (
        torch.no_grad(),
        module_local_params(model, guide),
    ):  # the guide's parameters, not Pyro's global store
        logits = predictive(x)["_RETURN"]
    return logits.softmax(-1).mean(0)


@experiment(
    "svi-logistic",
    "Bayesian logistic regression on 8x8 digits by SVI (Pyro model, AutoNormal guide, shared trainer)",
    demo=True,
    config=SviLogisticSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: SviLogisticSettings = ctx.config
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    torch.manual_seed(ctx.seed)
    model = BayesianLogisticRegression(64, 10, prior_scale=cfg.prior_scale)
    guide = AutoNormal(model, init_scale=0.05)
    epochs = cfg.epochs
    trainer = Trainer(
        model,
        guide=guide,
        elbo="meanfield",
        lr=cfg.lr,
        epochs=epochs,
        batch_size=cfg.batch_size,
        device=ctx.device,
        progress=ctx.progress,
        seed=ctx.seed,
    )
    history = trainer.fit((x_train, y_train))
    history.to_json(ctx.out_dir / "history.json")
    samples = cfg.predictive_samples
    probs = posterior_predictive_probs(model, guide, x_test.to(ctx.device), samples).cpu()
    train_probs = posterior_predictive_probs(model, guide, x_train.to(ctx.device), samples).cpu()

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(range(1, len(history) + 1), history.losses)
    ax.set_xlabel("epoch")
    ax.set_ylabel("negative ELBO per example (nats)")
    ax.set_title("SVI training (the ELBO is a bound)")
    ctx.save_figure(fig, "elbo", "Negative ELBO per training example, by epoch")

    with torch.no_grad():
        loc = guide.median()["weight"].cpu().numpy()
        scale = guide.quantiles([0.8413])["weight"][0].cpu().numpy() - loc
    # one colour scale per row, so that the ten classes can be compared, with a colour bar for each row
    mean_limit, sd_limit = float(abs(loc).max()), float(scale.max())
    fig, axes = plt.subplots(2, 10, figsize=(13, 2.8))
    for c in range(10):
        mean_image = axes[0, c].imshow(
            loc[:, c].reshape(8, 8), cmap="RdBu_r", vmin=-mean_limit, vmax=mean_limit
        )
        sd_image = axes[1, c].imshow(scale[:, c].reshape(8, 8), cmap="viridis", vmin=0.0, vmax=sd_limit)
        axes[0, c].set_title(str(c))
        for r in range(2):
            axes[r, c].axis("off")
    fig.colorbar(mean_image, ax=axes[0].tolist(), fraction=0.02, pad=0.01, label="mean")
    fig.colorbar(sd_image, ax=axes[1].tolist(), fraction=0.02, pad=0.01, label="sd")
    fig.suptitle("posterior mean (top) and posterior sd (bottom) of the weights of each class")
    ctx.save_figure(fig, "weights", "Posterior mean and standard deviation of the class weights")

    ctx.note(
        "The training loss is the negative ELBO per example, an upper bound on -log p(y|x); "
        "test NLL uses the posterior predictive averaged over guide samples."
    )
    scores = classification_scores(probs, y_test)
    ctx.report_metric("test accuracy", scores["accuracy"], "%", "higher", se=scores["accuracy_se"])
    ctx.report_metric("test NLL", scores["nll"], "nats/example", "lower", se=scores["nll_se"])
    ctx.report_metric(
        "training negative ELBO", history.losses[-1], "nats/example", "lower", bound="upper", headline=False
    )
    return {
        "test_accuracy": accuracy(probs, y_test),
        "test_nll": nll(probs, y_test),
        "train_accuracy": accuracy(train_probs, y_train),
        "final_negative_elbo_per_example": history.losses[-1],
        "epochs": epochs,
        "predictive_samples": samples,
    }
