"""``diffusion-digits``: a DDPM on the embedded 8x8 digits, with its bits/dim bound and a sample grid.

The 17 grey levels k are uniformly dequantised, u = (k + U(0, 1)) / 17, and mapped to y = 2u - 1.
The DDPM (continuous Gaussian decoder) bounds -log p(y); then -log p(u) = -log p(y) - 64 log 2, and
-log P(k) <= E[-log p(u)] + 64 log 17 (Theis et al. 2016), which ``bits_per_dim`` turns into bits/dim.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..data import dequantize, load_digits_levels
from ..data.digits import DIGITS_LEVELS
from ..inference import Trainer, bits_per_dim
from ..models.diffusion import DDPM
from ..nn import DenoisingMLP
from .diffusion_plots import bound_terms_figure, image_grid_figure
from .registry import RunContext, experiment

NUM_DIMS = 64


def dequantized_digits(split: str, copies: int, seed: int) -> torch.Tensor:
    """``copies`` uniformly dequantised copies of a digits split, mapped to [-1, 1): y = 2 (k + U) / 17 - 1, [copies * N, 64]."""
    levels, _ = load_digits_levels(split)
    g = torch.Generator().manual_seed(seed)
    return torch.cat([2 * dequantize(levels, num_levels=DIGITS_LEVELS, generator=g) - 1 for _ in range(copies)])


@experiment("diffusion-digits", "DDPM (MLP denoiser) on 8x8 digits: bits/dim bound (dequantised data) and samples", demo=True)
def run(ctx: RunContext) -> dict[str, Any]:
    steps = 100 if ctx.smoke else 1000
    epochs = 1 if ctx.smoke else 15 if ctx.quick else 200
    hidden = 64 if ctx.smoke else 256
    x_train = dequantized_digits("train", 1 if ctx.smoke else 4, seed=ctx.seed)
    x_test = dequantized_digits("test", 1, seed=ctx.seed + 1)
    if ctx.smoke:
        x_train, x_test = x_train[:256], x_test[:32]
    torch.manual_seed(ctx.seed)
    model = DDPM(DenoisingMLP(NUM_DIMS, hidden=hidden, num_blocks=3), data_shape=[NUM_DIMS], num_steps=steps, schedule="linear")
    trainer = Trainer(model, lr=2e-3, epochs=epochs, batch_size=128, scheduler="cosine", device=ctx.device,
                      progress=ctx.progress, seed=ctx.seed)
    history = trainer.fit(x_train)
    model.eval()
    bound = model.nll_bound(x_test.to(ctx.device), seed=ctx.seed, return_terms=True)
    bpd = bits_per_dim(-bound.total.cpu(), NUM_DIMS, num_levels=DIGITS_LEVELS, log_det_preprocess=NUM_DIMS * math.log(2))
    samples = model.sample(64, seed=ctx.seed).cpu()
    ctx.save_figure(image_grid_figure(samples, "DDPM samples (ancestral, decoder mean at t = 1)"), "samples",
                    "64 ancestral samples from the DDPM trained on the 8x8 digits")
    ctx.save_figure(image_grid_figure(x_test[:32], "held-out digits (dequantised)"), "data", "Held-out digits for comparison")
    ctx.save_figure(bound_terms_figure(bound.terms, "bound terms on test digits"), "bound_terms",
                    "The mean KL term L_{t-1} of the bound at each step t (log scale)")
    ctx.note(f"test_bits_per_dim_bound is a variational bound on -log2 P(k)/64 of the 17-level test digits: the DDPM bound "
             f"(all T = {steps} steps, one x_t draw per step) on uniformly dequantised data plus the dequantisation gap; "
             f"a uniform model scores log2(17) = {math.log2(17):.3f}.")
    return {
        "test_bits_per_dim_bound": float(bpd.mean()),
        "test_bits_per_dim_se": float(bpd.std() / math.sqrt(len(bpd))),
        "test_nll_bound_nats_dequantized": float(bound.total.mean()),
        "uniform_bits_per_dim": math.log2(DIGITS_LEVELS),
        "prior_term_nats": float(bound.prior.mean()),
        "decoder_term_nats": float(bound.decoder.mean()),
        "final_train_loss": history.losses[-1],
        "num_steps": steps,
        "epochs": epochs,
    }
