"""``flow-fashion``: a multi-scale Glow-style flow on dequantised Fashion-MNIST, reporting bits/dim."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402

from ..data import load_fashion_mnist_levels  # noqa: E402
from ..inference import Trainer  # noqa: E402
from ..models.flows import Dequantized, MultiScaleFlow  # noqa: E402
from .flow_digits import evaluate, image_grid  # noqa: E402
from .registry import RunContext, experiment  # noqa: E402


@experiment("flow-fashion", "Multi-scale Glow-style flow on dequantised Fashion-MNIST: test bits/dim and samples")
def run(ctx: RunContext) -> dict[str, Any]:
    size = "smoke" if ctx.smoke else "quick" if ctx.quick else "full"
    train = load_fashion_mnist_levels("train")[0].float().unsqueeze(1)
    test = load_fashion_mnist_levels("test")[0].float().unsqueeze(1)
    n_train, n_test = {"smoke": (64, 32), "quick": (5000, 1000), "full": (60000, 10000)}[size]
    train, test = train[:n_train], test[:n_test].to(ctx.device)
    epochs = {"smoke": 1, "quick": 4, "full": 30}[size]
    steps, hidden = {"smoke": (1, 8), "quick": (2, 32), "full": (8, 128)}[size]
    torch.manual_seed(ctx.seed)
    flow = MultiScaleFlow((1, 28, 28), num_scales=2, steps_per_scale=steps, hidden_channels=hidden, style="glow")
    model = Dequantized(flow, num_levels=256)
    history = Trainer(model, lr=1e-3, epochs=epochs, batch_size=64, device=ctx.device, progress=ctx.progress,
                      seed=ctx.seed, clip_grad_norm=50.0).fit(train)
    model.eval()
    metrics: dict[str, Any] = {"epochs": epochs, "n_train": n_train, "n_test": n_test,
                               "steps_per_scale": steps, "hidden_channels": hidden,
                               "final_train_loss": history.losses[-1]}
    metrics.update(evaluate(model, test, 1, ctx.seed))
    with torch.no_grad():
        levels = model.sample_levels(36, generator=torch.Generator(device=ctx.device).manual_seed(ctx.seed))
    ctx.save_figure(image_grid(levels[:, 0] / 255, 6, 6, f"samples ({metrics['test_bits_per_dim']:.3f} bits/dim)"),
                    "samples", "36 samples of the multi-scale flow, quantised to 8 bits")
    ctx.save_figure(image_grid(test[:36, 0] / 255, 6, 6, "test images"), "test_images", "Test images for comparison")
    ctx.note("Bits/dim is an upper bound on the discrete code length: -(E_v log p((k + v)/256) - 784 log 256) / (784 log 2), "
             "one dequantisation draw per test image; the logit preprocessing is inside the flow. "
             "Smoke and quick runs use a small subset and a few epochs, so their numbers are far from converged.")
    return metrics
