"""``diffusion-2d``: a DDPM with an MLP denoiser on 2-D toy densities, with its NLL bound and sample quality."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import toy_density
from ..diagnostics.sample_distance import energy_distance
from ..inference import Trainer
from ..models.diffusion import DDPM
from ..nn import DenoisingMLP
from .diffusion_plots import bound_on
from .registry import RunContext, experiment
from .settings import RunSize


@dataclass(frozen=True)
class Diffusion2dSettings:
    """Settings of ``diffusion-2d`` (``--set densities=two_moons,rings --set epochs=100``).

    Attributes:
        densities: the toy densities (names of :func:`bayesdl.data.toy_density`).
        n_train: training points per density.
        n_eval: held-out points per density (each of the two held-out sets) and samples drawn.
        steps: diffusion steps T.
        hidden: the denoising MLP's width (3 residual blocks).
        epochs: training epochs.
        lr: Adam's initial learning rate (cosine schedule).
        batch_size: the minibatch size.
        ddim_steps: DDIM sampling steps (at most T).
    """

    densities: tuple[str, ...] = ("two_moons", "eight_gaussians", "checkerboard")
    n_train: int = 50000
    n_eval: int = 2000
    steps: int = 1000
    hidden: int = 128
    epochs: int = 60
    lr: float = 2e-3
    batch_size: int = 512
    ddim_steps: int = 50

    @classmethod
    def preset(cls, size: RunSize) -> Diffusion2dSettings:
        """The settings of a smoke, quick or full run."""
        return {
            "smoke": cls(("two_moons",), 1000, 300, 50, 32, 3),
            "quick": cls(("two_moons",), 20000, 1000, 1000, 128, 30),
            "full": cls(),
        }[size]


@experiment(
    "diffusion-2d",
    "DDPM with an MLP denoiser on 2-D toy densities: NLL bound (nats) and energy distance to held-out data",
    config=Diffusion2dSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    s: Diffusion2dSettings = ctx.config
    metrics: dict[str, Any] = {"num_steps": s.steps, "epochs": s.epochs}
    for k, name in enumerate(s.densities):
        train = toy_density(name, s.n_train, seed=ctx.seed + 100 * k)
        held_a = toy_density(name, s.n_eval, seed=ctx.seed + 100 * k + 1)
        held_b = toy_density(name, s.n_eval, seed=ctx.seed + 100 * k + 2)
        scale = float(train.std())  # the model sees x / scale; the bound is mapped back to the data's units
        torch.manual_seed(ctx.seed)
        model = DDPM(DenoisingMLP(2, hidden=s.hidden, num_blocks=3), data_shape=[2], num_steps=s.steps)
        trainer = Trainer(
            model,
            lr=s.lr,
            epochs=s.epochs,
            batch_size=s.batch_size,
            scheduler="cosine",
            device=ctx.device,
            progress=ctx.progress_label(f"training DDPM on {name}"),
            seed=ctx.seed,
        )
        history = trainer.fit(train / scale)
        model.eval()
        test = (held_a / scale).to(ctx.device)
        bound = bound_on(ctx, model, test, f"DDPM bound over all {s.steps} steps ({name})")
        nll = (bound.total + 2 * math.log(scale)).cpu()  # -log p(x) = -log p(x/scale) + D log(scale)
        with ctx.phase(f"DDPM ancestral sampling ({s.steps} steps)"):
            samples = model.sample(s.n_eval, seed=ctx.seed, keep=_keep_steps(s.steps))
        samples, path = samples[0].cpu() * scale, {t: v.cpu() * scale for t, v in samples[1].items()}
        ddim_steps = min(s.ddim_steps, s.steps)
        with ctx.phase(f"DDIM sampling ({ddim_steps} steps)"):
            ddim = model.ddim_sample(s.n_eval, num_steps=ddim_steps, seed=ctx.seed).cpu() * scale
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
        ctx.report_metric(
            "test NLL",
            metrics[name]["nll_bound_nats"],
            "nats/point",
            "lower",
            se=metrics[name]["nll_bound_se"],
            bound="upper",
            group=name,
        )
        ctx.report_metric(
            "energy distance, ancestral samples",
            metrics[name]["energy_distance_ancestral"],
            "",
            "lower",
            group=name,
            headline=False,
        )
        ctx.report_metric(
            f"energy distance, DDIM-{ddim_steps} samples",
            metrics[name]["energy_distance_ddim50"],
            "",
            "lower",
            group=name,
            headline=False,
        )
        ctx.report_metric(
            "energy distance, held-out floor",
            metrics[name]["energy_distance_floor_heldout_pair"],
            "",
            "none",
            group=name,
            headline=False,
        )
        _figures(ctx, name, held_a, samples, ddim, path, ddim_steps)
    ctx.note(
        "nll_bound_nats is the variational bound on -log p(x) (an upper bound on the NLL) of held-out points, "
        "summed over all T steps with one draw of x_t per step, in nats per 2-D point, in the data's own units."
    )
    ctx.note(
        "The energy distance floor is the distance between two independent held-out sets of the same size; "
        "a model at the floor is indistinguishable from the data by this statistic."
    )
    return metrics


def _keep_steps(num_steps: int) -> list[int]:
    return sorted(
        {
            num_steps,
            int(0.5 * num_steps),
            int(0.25 * num_steps),
            int(0.1 * num_steps),
            int(0.03 * num_steps),
            0,
        }
    )


def _figures(
    ctx: RunContext,
    name: str,
    data: torch.Tensor,
    samples: torch.Tensor,
    ddim: torch.Tensor,
    path: dict[int, torch.Tensor],
    ddim_steps: int,
) -> None:
    lim = float(data.abs().max()) * 1.15
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, pts, title in zip(
        axes,
        (data, samples, ddim),
        ("held-out data", "ancestral samples (T steps)", f"DDIM samples ({ddim_steps} steps, eta=0)"),
    ):
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
