"""``flow-fashion``: a multi-scale Glow-style flow on dequantised Fashion-MNIST, reporting bits/dim.

Settings (chosen so that the full run fits in about 10 minutes on one CPU core):

* smoke: 64 training / 32 test images, 1 epoch, 1 step per scale, 8 hidden channels;
* quick: the first 5,000 training / 1,000 test images, 4 epochs, 2 steps per scale, 32 hidden channels;
* full: all 60,000 training images, 3 epochs (about 2,800 Adam steps of 64 images, cosine-annealed
  learning rate), 2 scales of 4 Glow steps (ActNorm, 1x1 convolution, affine channel coupling) with
  64 hidden channels (122k parameters), and bits/dim on all 10,000 test images with one dequantisation
  draw each. This is a small model trained briefly and far from converged; the number measures this
  configuration, not the best a flow can do. Measured: 3.752 bits/dim in 7 minutes on one CPU core
  (see examples/flow_fashion.py).
"""

from __future__ import annotations

from typing import Any

import torch

from ..data import load_fashion_mnist_levels
from ..inference import Trainer
from ..models.flows import Dequantized, MultiScaleFlow
from .flow_digits import evaluate, image_grid
from .registry import RunContext, experiment


@experiment("flow-fashion", "Multi-scale Glow-style flow on dequantised Fashion-MNIST: test bits/dim and samples")
def run(ctx: RunContext) -> dict[str, Any]:
    size = "smoke" if ctx.smoke else "quick" if ctx.quick else "full"
    train = load_fashion_mnist_levels("train")[0].float().unsqueeze(1)
    test = load_fashion_mnist_levels("test")[0].float().unsqueeze(1)
    n_train, n_test = {"smoke": (64, 32), "quick": (5000, 1000), "full": (60000, 10000)}[size]
    train, test = train[:n_train], test[:n_test].to(ctx.device)
    epochs = {"smoke": 1, "quick": 4, "full": 3}[size]
    steps, hidden = {"smoke": (1, 8), "quick": (2, 32), "full": (4, 64)}[size]
    torch.manual_seed(ctx.seed)
    flow = MultiScaleFlow((1, 28, 28), num_scales=2, steps_per_scale=steps, hidden_channels=hidden, style="glow")
    model = Dequantized(flow, num_levels=256)
    history = Trainer(model, lr=1e-3, epochs=epochs, batch_size=64, device=ctx.device, progress=ctx.progress,
                      seed=ctx.seed, scheduler="cosine", clip_grad_norm=50.0).fit(train)
    model.eval()
    metrics: dict[str, Any] = {"epochs": epochs, "n_train": n_train, "n_test": n_test,
                               "steps_per_scale": steps, "hidden_channels": hidden,
                               "final_train_loss": history.losses[-1]}
    metrics.update(evaluate(model, test, 1, ctx.seed))
    ctx.report_metric("test bits/dim", metrics["test_bits_per_dim"], "bits/dim", "lower", se=metrics["test_bits_per_dim_se"],
                      bound="upper")
    ctx.report_metric("test NLL", metrics["test_nll_nats"], "nats/image", "lower", se=metrics["test_nll_se"], bound="upper",
                      headline=False)
    with torch.no_grad():
        levels = model.sample_levels(36, generator=torch.Generator(device=ctx.device).manual_seed(ctx.seed))
    ctx.save_figure(image_grid(levels[:, 0] / 255, 6, 6, f"samples ({metrics['test_bits_per_dim']:.3f} bits/dim)"),
                    "samples", "36 samples of the multi-scale flow, quantised to 8 bits")
    ctx.save_figure(image_grid(test[:36, 0] / 255, 6, 6, "test images"), "test_images", "Test images for comparison")
    ctx.note("Bits/dim is an upper bound on the discrete code length: -(E_v log p((k + v)/256) - 784 log 256) / (784 log 2), "
             "one dequantisation draw per test image; the logit preprocessing is inside the flow. "
             f"This run: {n_train} training images, {epochs} epochs, {steps} Glow steps per scale with {hidden} hidden "
             f"channels, evaluated on {n_test} test images. A small model trained briefly: the figure is far from "
             "converged and well above what large flows reach with long training.")
    return metrics
