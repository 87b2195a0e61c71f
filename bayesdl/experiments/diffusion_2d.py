"""``diffusion-2d``: a DDPM with an MLP denoiser on 2-D toy densities, with its NLL bound and sample quality."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import toy_density
from ..diagnostics.sample_distance import energy_distance
from ..inference import Trainer
from ..models.diffusion import DDPM
from ..nn import DenoisingMLP
from .registry import RunContext, experiment


def _settings(ctx: RunContext) -> dict[str, Any]:
    if ctx.smoke:
        return dict(densities=["two_moons"], n_train=1000, n_eval=300, steps=50, hidden=32, epochs=3)
    if ctx.quick:
        return dict(densities=["two_moons"], n_train=20000, n_eval=1000, steps=1000, hidden=128, epochs=30)
    return dict(densities=["two_moons", "eight_gaussians", "checkerboard"], n_train=50000, n_eval=2000, steps=1000,
                hidden=128, epochs=60)


@experiment("diffusion-2d", "DDPM with an MLP denoiser on 2-D toy densities: NLL bound (nats) and energy distance to held-out data")
def run(ctx: RunContext) -> dict[str, Any]:
    s = _settings(ctx)
    metrics: dict[str, Any] = {"num_steps": s["steps"], "epochs": s["epochs"]}
    for k, name in enumerate(s["densities"]):
        train = toy_density(name, s["n_train"], seed=ctx.seed + 100 * k)
        held_a = toy_density(name, s["n_eval"], seed=ctx.seed + 100 * k + 1)
        held_b = toy_density(name, s["n_eval"], seed=ctx.seed + 100 * k + 2)
        scale = float(train.std())  # the model sees x / scale; the bound is mapped back to the data's units
        torch.manual_seed(ctx.seed)
        model = DDPM(DenoisingMLP(2, hidden=s["hidden"], num_blocks=3), data_shape=[2], num_steps=s["steps"])
        trainer = Trainer(model, lr=2e-3, epochs=s["epochs"], batch_size=512, scheduler="cosine",
                          device=ctx.device, progress=ctx.progress, seed=ctx.seed)
        history = trainer.fit(train / scale)
        model.eval()
        test = (held_a / scale).to(ctx.device)
        with ctx.phase(f"DDPM bound over all {s['steps']} steps ({name})"):
            bound = model.nll_bound(test, seed=ctx.seed, return_terms=True)
        nll = (bound.total + 2 * math.log(scale)).cpu()  # -log p(x) = -log p(x/scale) + D log(scale)
        with ctx.phase(f"DDPM ancestral sampling ({s['steps']} steps)"):
            samples = model.sample(s["n_eval"], seed=ctx.seed, keep=_keep_steps(s["steps"]))
        samples, path = samples[0].cpu() * scale, {t: v.cpu() * scale for t, v in samples[1].items()}
        with ctx.phase("DDIM sampling (50 steps)"):
            ddim = model.ddim_sample(s["n_eval"], num_steps=min(50, s["steps"]), seed=ctx.seed).cpu() * scale
        metrics[name] = {
            "nll_bound_nats": float(nll.mean()),
            "nll_bound_se": float(nll.std() / math.sqrt(len(nll))),
            "prior_term_nats": float(bound.prior.mean()),
            "decoder_term_nats": float(bound.decoder.mean()),
            "energy_distance_ancestral": energy_distance(samples, held_a),
            "energy_distance_ddim50": energy_distance(ddim, held_a),
            "energy_distance_floor_heldout_pair": energy_distance(held_b, held_a),
            "final_train_loss": history.losses[-1],
        }
        ctx.report_metric("test NLL", metrics[name]["nll_bound_nats"], "nats/point", "lower", se=metrics[name]["nll_bound_se"],
                          bound="upper", group=name)
        ctx.report_metric("energy distance, ancestral samples", metrics[name]["energy_distance_ancestral"], "", "lower",
                          group=name, headline=False)
        ctx.report_metric("energy distance, DDIM-50 samples", metrics[name]["energy_distance_ddim50"], "", "lower",
                          group=name, headline=False)
        ctx.report_metric("energy distance, held-out floor", metrics[name]["energy_distance_floor_heldout_pair"], "", "none",
                          group=name, headline=False)
        _figures(ctx, name, held_a, samples, ddim, path)
    ctx.note("nll_bound_nats is the variational bound on -log p(x) (an upper bound on the NLL) of held-out points, "
             "summed over all T steps with one draw of x_t per step, in nats per 2-D point, in the data's own units.")
    ctx.note("The energy distance floor is the distance between two independent held-out sets of the same size; "
             "a model at the floor is indistinguishable from the data by this statistic.")
    return metrics


def _keep_steps(num_steps: int) -> list[int]:
    return sorted({num_steps, int(0.5 * num_steps), int(0.25 * num_steps), int(0.1 * num_steps), int(0.03 * num_steps), 0})


def _figures(ctx: RunContext, name: str, data: torch.Tensor, samples: torch.Tensor, ddim: torch.Tensor, path: dict[int, torch.Tensor]) -> None:
    lim = float(data.abs().max()) * 1.15
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, pts, title in zip(axes, (data, samples, ddim), ("held-out data", "ancestral samples (T steps)", "DDIM samples (50 steps, eta=0)")):
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
    ctx.save_figure(fig, f"samples_{name}", f"{name}: held-out data next to DDPM samples")
    steps = sorted(path, reverse=True)
    fig, axes = plt.subplots(1, len(steps), figsize=(2.3 * len(steps), 2.5))
    for ax, t in zip(axes, steps):
        ax.scatter(path[t][:, 0], path[t][:, 1], s=1, alpha=0.4)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(f"t = {t}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{name}: the reverse process x_T -> x_0", fontsize=9)
    ctx.save_figure(fig, f"reverse_{name}", f"{name}: samples of the reverse chain at several steps t")
