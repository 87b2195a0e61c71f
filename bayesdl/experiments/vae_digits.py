"""``vae-digits``: a VAE with a 2-D latent space on statically binarised 8x8 digits.

Reports the test ELBO (a lower bound) beside importance-sampled log p(x) with K = 1, 10, 100, 1000
samples (Burda et al. 2015, arXiv:1509.00519): K=1 is an unbiased estimate of the ELBO, and the
estimate rises towards log p(x) as K grows.

Two variants are trained beside it on the same data:

* the same VAE with an IAF flow posterior (2 steps conditioned on the encoder features; Kingma et
  al. 2016, arXiv:1606.04934), scored by its test ELBO and the largest-K estimate;
* a PixelVAE (Gulrajani et al. 2016, arXiv:1611.05013): a 4-D latent code and a gated PixelCNN decoder
  conditioned on it, trained without and with free bits. Its KL per example shows whether the
  decoder ignores z (posterior collapse, KL near 0) and whether free bits keep information in z.

Full settings (about 5 minutes on one CPU core): the 2-D VAE and the IAF-posterior VAE for 1000 epochs with
K up to 5000 on all test images; the PixelVAEs for 50 epochs, scored with K=1000 on the first 150 test
images (a PixelCNN decoder pass per importance sample makes K=1000 on every test image cost minutes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import load_digits
from ..inference import (
    KLWarmup,
    Trainer,
    active_units,
    elbo_terms,
    log_likelihood,
    posterior_means,
)
from ..models.vae import VAE, FlowPosteriorEncoder, MLPDecoder, MLPEncoder, PixelCNNDecoder
from .image_grid import image_grid
from .registry import RunContext, experiment
from .settings import RunSize
from .vae_figures import curve_figure, evaluate


@dataclass(frozen=True)
class VaeDigitsSettings:
    """Settings of ``vae-digits`` (``--set epochs=300 --set ks=1,10,100 --set pixel_k=100``).

    Attributes:
        epochs: training epochs of the 2-D VAE and of the IAF-posterior VAE (a KL warm-up over the first 5%).
        hidden: hidden units of the encoder and decoder MLPs.
        lr: Adam's learning rate.
        batch_size: the minibatch size.
        ks: importance samples K of the IWAE estimates (the largest is the headline).
        num_train: training digits (None: all 1500).
        num_test: test digits (None: all 297).
        pixel_epochs: PixelVAE training epochs (each of the two PixelVAEs).
        pixel_k: importance samples of the PixelVAE estimates.
        pixel_test: test digits scored for the PixelVAEs (a PixelCNN pass per sample is costly).
        pixel_latent: the PixelVAE's latent dimensions.
        pixel_free_bits: the free-bits floor of the second PixelVAE, nats per latent dimension.
    """

    epochs: int = 1000
    hidden: int = 200
    lr: float = 2e-3
    batch_size: int = 100
    ks: tuple[int, ...] = (1, 10, 100, 1000, 5000)
    num_train: int | None = None
    num_test: int | None = None
    pixel_epochs: int = 50
    pixel_k: int = 1000
    pixel_test: int = 150
    pixel_latent: int = 4
    pixel_free_bits: float = 0.5

    @classmethod
    def preset(cls, size: RunSize) -> VaeDigitsSettings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            return cls(
                epochs=3,
                ks=(1, 10, 100),
                num_train=300,
                num_test=60,
                pixel_epochs=1,
                pixel_k=10,
                pixel_test=20,
            )
        return (
            cls(epochs=150, ks=(1, 10, 100, 1000), pixel_epochs=6, pixel_k=100, pixel_test=60)
            if size == "quick"
            else cls()
        )


def flow_posterior_scores(
    ctx: RunContext, x_train: torch.Tensor, x_test: torch.Tensor, epochs: int, k: int
) -> dict[str, Any]:
    """Train the 2-D VAE with an IAF posterior and return its test ELBO (bound) and IWAE-k log-likelihood."""
    cfg: VaeDigitsSettings = ctx.config
    torch.manual_seed(ctx.seed)
    vae = VAE(
        FlowPosteriorEncoder([64], 2, [cfg.hidden], flow="iaf", num_flows=2, flow_hidden_sizes=[32]),
        MLPDecoder(2, [64], [cfg.hidden], likelihood="bernoulli"),
    )
    Trainer(
        vae,
        lr=cfg.lr,
        epochs=epochs,
        batch_size=cfg.batch_size,
        device=ctx.device,
        progress=ctx.progress_label("training VAE, IAF posterior"),
        seed=ctx.seed,
        callbacks=[KLWarmup(epochs=max(1, epochs // 20))],
        restore_best=False,
    ).fit(x_train)
    vae = vae.cpu().eval()
    scores = evaluate(
        vae,
        x_test,
        [k],
        seed=ctx.seed,
        progress=ctx.progress_label(f"IWAE-{k} log-likelihood (IAF posterior)"),
    )
    estimate = scores.pop("log_likelihood")[f"K={k}"]
    return {
        **scores,
        "test_log_likelihood": estimate["mean"],
        "test_log_likelihood_stderr": estimate["stderr"],
        "test_log_likelihood_K": k,
    }


def pixelvae_scores(
    ctx: RunContext, x_train: torch.Tensor, x_test: torch.Tensor, epochs: int, k: int
) -> tuple[dict[str, Any], list[torch.Tensor]]:
    """Train a PixelVAE without and with free bits; return KL per example, ELBO, IWAE-k log p(x) and samples."""
    cfg: VaeDigitsSettings = ctx.config
    images_train, images_test = x_train.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8)
    out: dict[str, Any] = {}
    samples = []
    with torch.no_grad():
        for free_bits in (0.0, cfg.pixel_free_bits):
            torch.manual_seed(ctx.seed)
            decoder = PixelCNNDecoder(
                cfg.pixel_latent, [1, 8, 8], num_layers=4, hidden_channels=16, condition_dims=[32]
            )
            vae = VAE(MLPEncoder([1, 8, 8], cfg.pixel_latent, [cfg.hidden]), decoder, free_bits=free_bits)
            with torch.enable_grad():
                Trainer(
                    vae,
                    lr=cfg.lr,
                    epochs=epochs,
                    batch_size=cfg.batch_size,
                    device=ctx.device,
                    progress=ctx.progress_label(f"training PixelVAE (free bits {free_bits:g})"),
                    seed=ctx.seed,
                    restore_best=False,
                ).fit(images_train)
            vae = vae.cpu().eval()
            terms = elbo_terms(vae, images_test, num_samples=10, seed=ctx.seed)
            est = log_likelihood(
                vae,
                images_test,
                num_samples=k,
                batch_size=50,
                chunk_size=min(k, 100),
                seed=ctx.seed,
                progress=ctx.progress_label(f"IWAE-{k} log-likelihood (PixelVAE, free bits {free_bits:g})"),
            )
            out[f"free_bits_{free_bits:g}"] = {
                "test_kl_per_example": float(terms.kl.mean()),
                "test_reconstruction": float(terms.reconstruction.mean()),
                "test_elbo_bound": float(terms.elbo.mean()),
                "test_log_likelihood": est.mean(),
                "test_log_likelihood_stderr": est.mean_stderr(),
                "test_log_likelihood_K": k,
                "active_units": active_units(vae, images_test)[0],
            }
            samples.append(vae.sample(8, mean=False, seed=ctx.seed).reshape(8, 64))
    return out, samples


@experiment(
    "vae-digits",
    "VAE with a 2-D latent space on binarised 8x8 digits: ELBO vs IWAE-K log-likelihood, samples, latent map",
    demo=True,
    config=VaeDigitsSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: VaeDigitsSettings = ctx.config
    x_train, _ = load_digits("train", binarize="static", seed=0)
    x_test, y_test = load_digits("test", binarize="static", seed=1)
    x_train, x_test, y_test = x_train[: cfg.num_train], x_test[: cfg.num_test], y_test[: cfg.num_test]
    epochs, pixel_epochs, pixel_k, pixel_test, ks = (
        cfg.epochs,
        cfg.pixel_epochs,
        cfg.pixel_k,
        cfg.pixel_test,
        sorted(cfg.ks),
    )
    torch.manual_seed(ctx.seed)
    vae = VAE(MLPEncoder([64], 2, [cfg.hidden]), MLPDecoder(2, [64], [cfg.hidden], likelihood="bernoulli"))
    trainer = Trainer(
        vae,
        lr=cfg.lr,
        epochs=epochs,
        batch_size=cfg.batch_size,
        device=ctx.device,
        progress=ctx.progress_label("training VAE"),
        seed=ctx.seed,
        callbacks=[KLWarmup(epochs=max(1, epochs // 20))],
        restore_best=False,
    )
    start = time.perf_counter()
    history = trainer.fit(x_train, val_data=x_test)
    train_seconds = time.perf_counter() - start
    history.to_json(ctx.out_dir / "history.json")
    vae = vae.cpu().eval()

    metrics = evaluate(vae, x_test, ks, seed=ctx.seed, progress=ctx.progress_label("IWAE log-likelihood"))
    largest = f"K={ks[-1]}"
    headline = {
        "test_log_likelihood": metrics["log_likelihood"][largest]["mean"],
        "test_log_likelihood_K": ks[-1],
    }

    ctx.save_figure(
        curve_figure({"VAE": history}, "negative ELBO per example (an upper bound on -log p(x))"),
        "elbo_curve",
        "Training and test negative ELBO (one-sample estimate) by epoch; the first epochs use a KL warm-up",
    )

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    means = [metrics["log_likelihood"][f"K={k}"]["mean"] for k in ks]
    errs = [metrics["log_likelihood"][f"K={k}"]["stderr"] or float("nan") for k in ks]  # K = 1: no error bar
    ax.errorbar(ks, means, yerr=errs, marker="o", label="IWAE-K estimate of log p(x)")
    ax.axhline(metrics["test_elbo_bound"], color="gray", ls="--", label="test ELBO (bound)")
    ax.set_xscale("log")
    ax.set_xlabel("importance samples K")
    ax.set_ylabel("nats per test image")
    ax.legend(fontsize=7)
    ctx.save_figure(
        fig,
        "elbo_vs_iwae",
        "Test ELBO (a lower bound) and the importance-sampled log-likelihood for growing K",
    )

    ctx.save_figure(
        image_grid(vae.sample(64, seed=ctx.seed), rows=8, title="decoder means for z ~ p(z)"),
        "samples",
        "Decoder means p(x|z) for 64 draws from the prior",
    )
    pairs = torch.cat([x_test[:10], vae.reconstruct(x_test[:10])])
    ctx.save_figure(
        image_grid(pairs, rows=2, title="test images (top) and reconstructions (bottom)"),
        "reconstructions",
        "Test images and the decoder means at their posterior means",
    )
    rows = torch.cat([vae.interpolate(x_test[i], x_test[i + 1], steps=8) for i in range(0, 8, 2)])
    ctx.save_figure(
        image_grid(rows, rows=4, title="latent interpolation between pairs of test images"),
        "interpolation",
        "Decoder means along straight lines between posterior means",
    )
    z = posterior_means(vae, x_test)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    scatter = ax.scatter(z[:, 0], z[:, 1], c=y_test, cmap="tab10", s=8)
    fig.colorbar(scatter, ax=ax, label="digit")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title("posterior means of the test images", fontsize=9)
    ctx.save_figure(fig, "latent_scatter", "Posterior means E_q[z|x] of the test images, coloured by label")

    flow = flow_posterior_scores(ctx, x_train, x_test, epochs, ks[-1])
    pixel, pixel_samples = pixelvae_scores(ctx, x_train, x_test[:pixel_test], pixel_epochs, pixel_k)
    ctx.save_figure(
        image_grid(torch.cat(pixel_samples), rows=2, row_labels=list(pixel)),
        "pixelvae_samples",
        "PixelVAE samples (z ~ p(z), then pixels drawn in raster order), without (top) and with (bottom) free bits",
    )
    collapsed, kept = pixel["free_bits_0"], pixel[f"free_bits_{cfg.pixel_free_bits:g}"]
    ctx.note(
        f"PixelVAE ({cfg.pixel_latent}-D z, gated PixelCNN decoder, {pixel_epochs} epochs): KL per test example "
        f"{collapsed['test_kl_per_example']:.3f} nats without free bits "
        f"({'the decoder ignores z: posterior collapse' if collapsed['test_kl_per_example'] < 0.1 else 'z is used'}), "
        f"{kept['test_kl_per_example']:.3f} nats with free bits of {cfg.pixel_free_bits} nats per dimension. "
        f"Its log-likelihoods use K={pixel_k} on {len(x_test[:pixel_test])} test images. "
        f"IAF posterior (2-D z): test ELBO {flow['test_elbo_bound']:.2f} (bound), IWAE-{ks[-1]} {flow['test_log_likelihood']:.2f} nats."
    )
    ctx.note(
        f"test_elbo_bound is the ELBO, a lower bound on log p(x); test_log_likelihood is the importance-sampled "
        f"estimate with K={ks[-1]} samples from q(z|x) (its expectation is also a bound, which tightens as K grows). "
        "Standard errors are delta-method Monte Carlo errors of the data-set mean."
    )
    big = metrics["log_likelihood"][largest]
    ctx.report_metric(
        f"test log-likelihood (IWAE-{ks[-1]})",
        big["mean"],
        "nats/image",
        "higher",
        method="VAE",
        se=big["stderr"],
        bound="lower",
    )
    ctx.report_metric(
        "test ELBO",
        metrics["test_elbo_bound"],
        "nats/image",
        "higher",
        method="VAE",
        bound="lower",
        headline=False,
    )
    ctx.report_metric(
        f"test log-likelihood (IWAE-{ks[-1]})",
        flow["test_log_likelihood"],
        "nats/image",
        "higher",
        method="VAE, IAF posterior",
        se=flow["test_log_likelihood_stderr"],
        bound="lower",
    )
    ctx.report_metric(
        "test ELBO",
        flow["test_elbo_bound"],
        "nats/image",
        "higher",
        method="VAE, IAF posterior",
        bound="lower",
        headline=False,
    )
    pixel_group = f"PixelVAE (first {len(x_test[:pixel_test])} test images)"
    for key, m in pixel.items():
        label = "free bits " + key.removeprefix("free_bits_")
        ctx.report_metric(
            f"test log-likelihood (IWAE-{pixel_k})",
            m["test_log_likelihood"],
            "nats/image",
            "higher",
            method=label,
            se=m["test_log_likelihood_stderr"],
            bound="lower",
            group=pixel_group,
            headline=False,
        )
        ctx.report_metric(
            "test KL",
            m["test_kl_per_example"],
            "nats/image",
            "none",
            method=label,
            group=pixel_group,
            headline=False,
        )
    return {
        **headline,
        **metrics,
        "train_seconds": train_seconds,
        "epochs": epochs,
        "iaf_posterior": flow,
        "pixelvae": pixel,
        "final_train_negative_elbo": history.losses[-1],
    }
