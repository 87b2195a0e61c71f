"""``diffusion-fashion``: a DDPM with a small U-Net on 28x28 Fashion-MNIST, with its bits/dim bound
(discretized Gaussian decoder on the 8-bit levels) and sample grids from ancestral and DDIM-50 sampling.

The full settings are sized to finish in under 20 minutes on ONE CPU thread, not to reach the
published quality: a U-Net with 8 base channels (levels 1-2-2, attention at 7x7; 71k parameters),
T = 1000 linear steps, 2 epochs over the 60000 training images at batch 32 (3750 Adam steps, learning
rate 1e-3 halved for the second epoch), no EMA of the weights. The bound is exact over all 1000
steps (one x_t draw per step) on a fixed random subset of 128 test images, so its standard error is
over images; the sample grids show 32 ancestral (1000 steps) and 32 DDIM-50 samples. A GPU run with a
wider U-Net and many more steps is what Ho et al. (2020) did; expect far better bits/dim from it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch

from ..data import load_fashion_mnist_levels
from ..inference import Trainer, bits_per_dim
from ..models.diffusion import DDPM
from ..nn import UNet
from .diffusion_plots import bound_on, bound_terms_figure, image_grid_figure
from .registry import RunContext, experiment
from .settings import RunSize

NUM_DIMS = 28 * 28


def fashion_on_grid(split: str, limit: int | None = None, seed: int | None = None) -> torch.Tensor:
    """Fashion-MNIST levels k in 0..255 mapped to 2k/255 - 1, as [N, 1, 28, 28] (the discretized decoder's grid).

    ``limit`` keeps the first ``limit`` images, or, with a ``seed``, a fixed random subset of that size.
    """
    levels, _ = load_fashion_mnist_levels(split)
    if limit is not None:
        if seed is None:
            levels = levels[:limit]
        else:
            levels = levels[
                torch.randperm(len(levels), generator=torch.Generator().manual_seed(seed))[:limit]
            ]
    return (2.0 * levels.float() / 255.0 - 1.0).unsqueeze(1)


@dataclass(frozen=True)
class DiffusionFashionSettings:
    """Settings of ``diffusion-fashion`` (``--set epochs=5 --set base=16 --set n_bound=512``).

    Attributes:
        n_train: training images (the first of the training file).
        n_bound: test images in the bound (a seeded random subset).
        n_samples: images drawn by each sampler.
        steps: diffusion steps T (linear schedule).
        base: the U-Net's base channels.
        mults: channel multipliers per U-Net level.
        attention: U-Net levels with self-attention.
        epochs: training epochs.
        batch: the minibatch size.
        lr: Adam's initial learning rate (cosine schedule).
        ddim_steps: DDIM sampling steps (at most T).
    """

    n_train: int = 60000
    n_bound: int = 128
    n_samples: int = 32
    steps: int = 1000
    base: int = 8
    mults: tuple[int, ...] = (1, 2, 2)
    attention: tuple[int, ...] = (2,)
    epochs: int = 2
    batch: int = 32
    lr: float = 1e-3
    ddim_steps: int = 50

    @classmethod
    def preset(cls, size: RunSize) -> DiffusionFashionSettings:
        """The settings of a smoke, quick or full run."""
        return {
            "smoke": cls(
                n_train=64, n_bound=2, n_samples=4, steps=20, mults=(1, 2), attention=(1,), epochs=1
            ),
            "quick": cls(n_train=2000, n_bound=4, n_samples=8),
            "full": cls(),
        }[size]


@experiment(
    "diffusion-fashion",
    "DDPM with a small U-Net on Fashion-MNIST 28x28: bits/dim bound, ancestral and DDIM-50 samples",
    config=DiffusionFashionSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    s: DiffusionFashionSettings = ctx.config
    x_train = fashion_on_grid("train", s.n_train)
    x_test = fashion_on_grid("test", s.n_bound, seed=ctx.seed + 1)
    torch.manual_seed(ctx.seed)
    net = UNet(1, base_channels=s.base, channel_mults=list(s.mults), attention_levels=list(s.attention))
    model = DDPM(
        net,
        data_shape=[1, 28, 28],
        num_steps=s.steps,
        schedule="linear",
        decoder="discretized",
        num_levels=256,
    )
    trainer = Trainer(
        model,
        lr=s.lr,
        epochs=s.epochs,
        batch_size=s.batch,
        clip_grad_norm=1.0,
        scheduler="cosine",
        device=ctx.device,
        progress=ctx.progress_label("training DDPM (U-Net)"),
        seed=ctx.seed,
    )
    start = time.perf_counter()
    history = trainer.fit(x_train)
    train_seconds = time.perf_counter() - start
    model.eval()
    start = time.perf_counter()
    bound = bound_on(
        ctx, model, x_test.to(ctx.device), f"DDPM bound over all {s.steps} steps ({s.n_bound} images)"
    )
    bound_seconds = time.perf_counter() - start
    bpd = bits_per_dim(-bound.total.cpu(), NUM_DIMS)
    start = time.perf_counter()
    with ctx.phase(f"DDPM ancestral sampling ({s.steps} steps)"):
        ancestral = model.sample(s.n_samples, seed=ctx.seed, clip=True).cpu()
    ancestral_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ddim_steps = min(s.ddim_steps, s.steps)
    with ctx.phase(f"DDIM sampling ({ddim_steps} steps)"):
        ddim = model.ddim_sample(s.n_samples, num_steps=ddim_steps, eta=0.0, seed=ctx.seed, clip=True).cpu()
    ddim_seconds = time.perf_counter() - start
    ctx.save_figure(
        image_grid_figure(ancestral, f"ancestral samples ({s.steps} steps)"),
        "samples_ancestral",
        "Ancestral samples (x0 estimates clamped to [-1, 1] at each step)",
    )
    ctx.save_figure(
        image_grid_figure(ddim, f"DDIM samples ({ddim_steps} steps, eta = 0)"),
        "samples_ddim50",
        f"DDIM samples with {ddim_steps} steps (x0 estimates clamped to [-1, 1] at each step)",
    )
    ctx.save_figure(
        image_grid_figure(x_train[: s.n_samples], "training images"), "data", "Training images for comparison"
    )
    ctx.save_figure(
        bound_terms_figure(bound.terms, "bound terms on test images"),
        "bound_terms",
        "The mean KL term L_(t-1) of the bound at each step t (log scale)",
    )
    ctx.note(
        f"test_bits_per_dim_bound is the variational bound on -log2 P(x)/784 of a fixed random subset of {s.n_bound} "
        f"8-bit test images (discretized Gaussian decoder, all T = {s.steps} steps, one x_t draw per step); its "
        "standard error is over those images. The samplers clamp the x0 estimate to [-1, 1] at each step; the bound "
        "is for the unclamped model."
    )
    ctx.note(
        f"Settings sized for one CPU thread: U-Net with {s.base} base channels, {s.epochs} epoch(s) over "
        f"{s.n_train} training images at batch {s.batch}, no weight EMA. This is far less training than "
        "Ho et al. (2020), so the bound and the samples are those of a small, briefly trained model."
    )
    ctx.report_metric(
        "test bits/dim",
        float(bpd.mean()),
        "bits/dim",
        "lower",
        se=float(bpd.std() / math.sqrt(len(bpd))) if len(bpd) > 1 else None,
        bound="upper",
    )
    ctx.report_metric(
        "ancestral sampling speed", s.n_samples / ancestral_seconds, "images/s", "higher", headline=False
    )
    ctx.report_metric(
        "DDIM-50 sampling speed", s.n_samples / ddim_seconds, "images/s", "higher", headline=False
    )
    return {
        "test_bits_per_dim_bound": float(bpd.mean()),
        "test_bits_per_dim_se": float(bpd.std() / math.sqrt(len(bpd))) if len(bpd) > 1 else 0.0,
        "test_images_in_bound": s.n_bound,
        "prior_term_nats": float(bound.prior.mean()),
        "decoder_term_nats": float(bound.decoder.mean()),
        "final_train_loss": history.losses[-1],
        "train_seconds": train_seconds,
        "train_steps": s.epochs * math.ceil(s.n_train / s.batch),
        "bound_seconds": bound_seconds,
        "ancestral_images_per_second": s.n_samples / ancestral_seconds,
        "ddim50_images_per_second": s.n_samples / ddim_seconds,
        "num_steps": s.steps,
        "epochs": s.epochs,
        "train_images": s.n_train,
    }
