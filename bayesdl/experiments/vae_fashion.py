"""``vae-fashion``: VAEs on statically binarised Fashion-MNIST, with test ELBO and IWAE log-likelihood in nats.

Four models share a 784-400-50 MLP encoder and a 50-400-784 Bernoulli decoder: a plain VAE (ELBO),
an IWAE trained on the k=5 importance-weighted bound (Burda et al. 2015, arXiv:1509.00519), a VAE
whose posterior is the encoder's Gaussian followed by two IAF steps conditioned on the encoder
features (Kingma et al. 2016, arXiv:1606.04934), and a VAE with a VampPrior (Tomczak & Welling 2017,
arXiv:1705.07120). Each is scored by its test ELBO (a bound; Monte Carlo KL for the flow posterior
and the VampPrior) and by the importance-sampled log p(x) with K=5000 samples from its own encoder,
both on the same fixed random subset of test images, with Monte Carlo standard errors.

Full settings were sized for one CPU core in about 12 minutes but took 22 (the VampPrior's 500-component
mixture dominates both its training and its K=5000 evaluation); they are far below the papers' budgets: all 60000
training images but 10 epochs per model (the papers train for hundreds to thousands), and the
IWAE-5000 estimate on a seeded random subset of 200 of the 10000 test images (K=5000 costs about
5000 decoder passes per image per model). Quick: 8000 images, 3 epochs, K=500 on 100 test images.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import load_fashion_mnist
from ..inference import Trainer
from ..models.vae import VAE, FlowPosteriorEncoder, MLPDecoder, MLPEncoder, VampPrior
from .image_grid import image_grid
from .registry import RunContext, experiment
from .settings import RunSize
from .vae_figures import curve_figure, evaluate

LATENT = 50
HIDDEN = [400]
MODELS = ("vae", "iwae5", "iaf_posterior", "vampprior")


@dataclass(frozen=True)
class VaeFashionSettings:
    """Settings of ``vae-fashion`` (``--set epochs=50 --set k_eval=1000 --set n_test=500``).

    Attributes:
        n_train: training images (a seeded random subset; None: all 60000).
        n_test: test images scored (a seeded random subset).
        epochs: training epochs of each model.
        k_eval: importance samples K of the log-likelihood estimate.
        elbo_samples: Monte Carlo samples of the test ELBO.
        pseudo_inputs: VampPrior components.
        lr: Adam's learning rate.
        batch_size: the minibatch size.
    """

    n_train: int | None = None
    n_test: int = 200
    epochs: int = 10
    k_eval: int = 5000
    elbo_samples: int = 100
    pseudo_inputs: int = 500
    lr: float = 1e-3
    batch_size: int = 128

    @classmethod
    def preset(cls, size: RunSize) -> VaeFashionSettings:
        """The settings of a smoke, quick or full run."""
        return {
            "smoke": cls(512, 40, 1, 50, 20, 10),
            "quick": cls(8000, 100, 3, 500, 100, 100),
            "full": cls(),
        }[size]


def build(kind: str, num_pseudo_inputs: int, x_train: torch.Tensor) -> VAE:
    """The VAE variant ``kind`` (one of ``MODELS``) with the shared architecture."""
    if kind == "iaf_posterior":
        encoder = FlowPosteriorEncoder(
            [784], LATENT, HIDDEN, flow="iaf", num_flows=2, flow_hidden_sizes=[200]
        )
        return VAE(encoder, MLPDecoder(LATENT, [784], HIDDEN, likelihood="bernoulli"))
    encoder, decoder = (
        MLPEncoder([784], LATENT, HIDDEN),
        MLPDecoder(LATENT, [784], HIDDEN, likelihood="bernoulli"),
    )
    if kind == "iwae5":
        return VAE(encoder, decoder, objective="iwae", num_particles=5)
    if kind == "vampprior":
        prior = VampPrior(LATENT, [784], num_components=num_pseudo_inputs).init_from_data(
            x_train[torch.randperm(len(x_train))]
        )
        return VAE(encoder, decoder, prior=prior)
    return VAE(encoder, decoder)


@experiment(
    "vae-fashion",
    "VAE, IWAE(k=5), IAF posterior and VampPrior on binarised Fashion-MNIST: test ELBO (bound) and IWAE-5000 log-likelihood",
    config=VaeFashionSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: VaeFashionSettings = ctx.config
    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    n_train, n_test, epochs, k_eval, pseudo = (
        cfg.n_train or len(x_train),
        cfg.n_test,
        cfg.epochs,
        cfg.k_eval,
        cfg.pseudo_inputs,
    )
    g = torch.Generator().manual_seed(ctx.seed)
    x_train = x_train[torch.randperm(len(x_train), generator=g)[:n_train]]
    x_test = x_test[
        torch.randperm(len(x_test), generator=g)[:n_test]
    ]  # a fixed random subset of the test file

    results: dict[str, Any] = {}
    histories = {}
    samples = []
    per_example: dict[str, torch.Tensor] = {}
    for kind in MODELS:
        torch.manual_seed(ctx.seed)
        vae = build(kind, pseudo, x_train)
        trainer = Trainer(
            vae,
            lr=cfg.lr,
            epochs=epochs,
            batch_size=cfg.batch_size,
            device=ctx.device,
            progress=ctx.progress_label(f"training {kind}"),
            seed=ctx.seed,
        )
        start = time.perf_counter()
        histories[kind] = trainer.fit(x_train)
        seconds = time.perf_counter() - start
        histories[kind].to_json(ctx.out_dir / f"history_{kind}.json")
        vae = vae.cpu().eval()
        scores = evaluate(
            vae,
            x_test,
            [k_eval],
            elbo_samples=cfg.elbo_samples,
            batch_size=50,
            chunk_size=500,
            seed=ctx.seed,
            per_example=True,
            progress=ctx.progress_label(f"IWAE log-likelihood ({kind})"),
        )
        estimate = scores.pop("log_likelihood")[f"K={k_eval}"]
        per_example[kind] = estimate.pop("per_example")
        results[kind] = {
            "test_log_likelihood": estimate["mean"],
            "test_log_likelihood_stderr": estimate["stderr"],
            "test_log_likelihood_subset_stderr": estimate["subset_stderr"],
            "median_ess": estimate["median_ess"],
            **scores,
            "train_seconds": seconds,
        }
        samples.append(vae.sample(10, seed=ctx.seed))

    ctx.save_figure(
        curve_figure(histories, "training loss (negative ELBO; negative IWAE-5 bound for iwae5)"),
        "training_curves",
        "Training loss by epoch for each model",
    )
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    names = list(results)
    pos = torch.arange(len(names)).float()
    ax.bar(pos - 0.2, [results[n]["test_elbo_bound"] for n in names], width=0.4, label="test ELBO (bound)")
    ax.bar(
        pos + 0.2,
        [results[n]["test_log_likelihood"] for n in names],
        width=0.4,
        label=f"IWAE-{k_eval} log p(x)",
    )
    lows = min(
        min(results[n]["test_elbo_bound"] for n in names),
        min(results[n]["test_log_likelihood"] for n in names),
    )
    highs = max(results[n]["test_log_likelihood"] for n in names)
    ax.set_ylim(lows - 0.1 * abs(highs - lows) - 1, highs + 0.1 * abs(highs - lows) + 1)
    ax.set_xticks(pos.tolist(), names)
    ax.set_ylabel("nats per test image")
    ax.legend(fontsize=7)
    ctx.save_figure(
        fig, "elbo_vs_loglik", "Test ELBO (lower bound) and importance-sampled log-likelihood per model"
    )
    ctx.save_figure(
        image_grid(torch.cat(samples), rows=len(names), row_labels=names),
        "samples",
        "Decoder means for z ~ p(z): one row per model",
    )
    ctx.note(
        f"test_elbo_bound is a lower bound on log p(x). test_log_likelihood is the importance-sampled estimate "
        f"with K={k_eval} samples from each model's encoder, and test_elbo_bound the {cfg.elbo_samples}-sample ELBO, both on the same "
        f"seeded random subset of {n_test} of the 10000 test images; stderr is the Monte Carlo standard error of the "
        "IWAE estimate (the subset adds sampling error between images: compare models on this same subset). "
        f"Training: {n_train} images, {epochs} epochs, batch {cfg.batch_size}, Adam lr {cfg.lr:g}. iaf_posterior: Gaussian q_0 then 2 IAF steps "
        "(MADE 50-200-50 per step, conditioned on the 400 encoder features); its KL and test_kl are Monte Carlo estimates."
    )
    for kind in MODELS[1:]:  # paired over the same images: much tighter than comparing the two subset means
        diff = per_example[kind] - per_example["vae"]
        results[kind]["log_likelihood_minus_vae"] = float(diff.mean())
        results[kind]["log_likelihood_minus_vae_stderr"] = float(diff.std() / len(diff) ** 0.5)
    ctx.note(
        "log_likelihood_minus_vae: the per-image difference of IWAE-K estimates from the plain VAE's on the same "
        "images, with its standard error over images (positive = higher likelihood than the plain VAE)."
    )
    for kind, m in results.items():
        ctx.report_metric(
            f"test log-likelihood (IWAE-{k_eval})",
            m["test_log_likelihood"],
            "nats/image",
            "higher",
            method=kind,
            se=m["test_log_likelihood_stderr"],
            bound="lower",
        )
        ctx.report_metric(
            "test ELBO",
            m["test_elbo_bound"],
            "nats/image",
            "higher",
            method=kind,
            bound="lower",
            headline=False,
        )
        if "log_likelihood_minus_vae" in m:
            ctx.report_metric(
                "log-likelihood minus the VAE's (paired)",
                m["log_likelihood_minus_vae"],
                "nats/image",
                "higher",
                method=kind,
                se=m["log_likelihood_minus_vae_stderr"],
                headline=False,
            )
        ctx.report_metric("train time", m["train_seconds"], "s", "lower", method=kind, headline=False)
    best = max(results, key=lambda n: results[n]["test_log_likelihood"])
    return {
        "best_test_log_likelihood": results[best]["test_log_likelihood"],
        "best_model": best,
        "num_importance_samples": k_eval,
        "num_test_images": n_test,
        "num_train_images": n_train,
        "epochs": epochs,
        "models": results,
    }
