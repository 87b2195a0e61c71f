"""``likelihood-frontier``: every density model of bayesdl scored on the same data with the same preprocessing.

Two tables, each on one fixed split of scikit-learn's 8x8 digits (the last ``num_val`` training images held out for
early stopping where a family uses it, the same images for every model):

* **17-level digits, bits/dim** of the discrete data, -log2 P(k) / 64: RealNVP, MAF, NSF (coupling and autoregressive
  rational-quadratic splines) and the multi-scale (Glow-style) flow on uniformly dequantised levels; a VAE with a
  17-way categorical decoder scored by IWAE-K; the DDPM's variational bound with its 17-level discretised decoder;
  VP-SDE and flow matching scored through the probability-flow ODE on dequantised levels mapped to [-1, 1]; a gated
  PixelCNN with a 17-way softmax per pixel.
* **Statically binarised digits, nats per image**: MADE, NADE, PixelCNN (exact), the Bernoulli VAE (IWAE-K) and an RBM
  (AIS).

Each row says what its figure is:

* ``exact``: a product of normalised conditionals (MADE, NADE, PixelCNN);
* ``bound``: the DDPM bound and the IWAE-K figure (its expectation is a lower bound on log p, tightening with K),
  and every dequantised continuous model: E_v[-log p((k + v)/K)] + D log K >= -log P(k) (Theis et al. 2016,
  arXiv:1511.01844), averaged over dequantisation draws;
* ``estimate``: the RBM, whose log Z comes from AIS (Salakhutdinov & Murray 2008): unbiased for Z, so log Z is
  underestimated and the log-likelihood overestimated in expectation.

``se`` is the standard error of the test-set mean (the spread over test images / sqrt(N)); ``estimator_se`` is the
Monte Carlo error of the estimator where it has one (IWAE importance sampling, Hutchinson probes, AIS log Z). Parameter
counts, training seconds and sampling seconds per image (batch of ``sample_images``; ODE at ``ode_tol``, DDPM with all
steps, PixelCNN pixel by pixel) come with every row. The run writes ``frontier.md`` with both tables.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import nn

from ..data import load_digits, load_digits_levels
from ..data.digits import DIGITS_LEVELS
from ..errors import InputError
from ..inference import KLWarmup, Trainer, bits_per_dim, log_likelihood, ode_log_likelihood
from ..models.autoregressive import MADE, NADE, PixelCNN
from ..models.continuous import FlowMatching, ScoreSDE
from ..models.diffusion import DDPM
from ..models.flows import MAF, Dequantized, MultiScaleFlow, NSFAutoregressive, NSFCoupling, RealNVP
from ..models.vae import VAE, MLPDecoder, MLPEncoder
from ..models.vae.likelihoods import CategoricalLikelihood
from ..nn import DenoisingMLP
from . import _rbm_helpers as rbm
from .ar_common import ModelSpec, fit_and_score
from .diffusion_plots import bound_on
from .flow_digits import evaluate as evaluate_flow
from .registry import RunContext, experiment
from .scoring import mean_and_se
from .settings import RunSize

SIDE = (8, 8)
DIMS = 64
LEVELS_GROUP = "17-level digits (bits/dim)"
BINARY_GROUP = "binarised digits (nats/image)"
KINDS = ("exact", "estimate", "bound")
LEVEL_FAMILIES = (
    "realnvp",
    "maf",
    "nsf-coupling",
    "nsf-autoregressive",
    "multiscale",
    "vae",
    "ddpm",
    "vp-sde",
    "flow-matching",
    "pixelcnn",
)
BINARY_FAMILIES = ("made", "nade", "pixelcnn-binary", "vae-binary", "rbm")
FAMILIES = LEVEL_FAMILIES + BINARY_FAMILIES
#: Adam learning rates, as tuned in the single-family experiments (flow-digits, vae-digits, diffusion-digits, ar-digits)
LR = {"flow": 1e-3, "vae": 2e-3, "diffusion": 2e-3, "ar": 3e-3}


@dataclass(frozen=True)
class LikelihoodFrontierSettings:
    """Settings of ``likelihood-frontier`` (``--set families=maf,pixelcnn,rbm --set flow_epochs=100``).

    Attributes:
        families: the rows to train and score, from ``realnvp, maf, nsf-coupling, nsf-autoregressive, multiscale, vae,
            ddpm, vp-sde, flow-matching, pixelcnn`` (17 levels) and ``made, nade, pixelcnn-binary, vae-binary, rbm``.
        num_train: training images before the validation split (None: all 1500).
        num_val: the last training images, held out for early stopping (flows) and best-epoch selection (MADE, NADE,
            PixelCNN); no family trains on them.
        num_test: test images scored (None: all 297).
        batch_size: the minibatch size of the neural models.
        flow_epochs: the most epochs of the vector flows (early stopping, patience ``patience``).
        patience: early-stopping patience of the flows in epochs.
        flow_hidden: hidden widths of the flows' conditioners.
        flow_layers: layers (MADE layers, couplings, spline transforms) of each vector flow.
        spline_bins: bins of the rational-quadratic splines.
        multiscale_steps: flow steps per scale of the multi-scale flow (2 scales).
        multiscale_hidden: channels of its coupling networks.
        dequantization_draws: dequantisation draws averaged per test image for the flows and the ODE models.
        vae_epochs: VAE training epochs (both VAEs; a KL warm-up over the first 5%).
        vae_latent: latent dimensions of both VAEs.
        vae_hidden: hidden units of their encoder and decoder MLPs.
        iwae_k: importance samples K of the IWAE estimates.
        diffusion_epochs: DDPM training epochs.
        diffusion_steps: DDPM steps T (linear schedule).
        diffusion_hidden: width of the denoising MLPs (DDPM, VP-SDE, flow matching; 3 residual blocks).
        sde_epochs: training epochs of the VP-SDE and of flow matching.
        ode_test: test images scored through the ODE (None: all ``num_test``).
        ode_tol: rtol = atol of the dopri5 solver (likelihood and sampling).
        ode_probes: Hutchinson probes per image (>= 2 for a probe standard error).
        pixelcnn_epochs: epochs of both PixelCNNs.
        pixelcnn_layers: gated layers of both PixelCNNs.
        pixelcnn_hidden: their channels.
        ar_epochs: epochs of MADE and NADE.
        ar_hidden: hidden units of MADE (one layer) and NADE.
        rbm_epochs: RBM epochs (PCD-1, SGD with momentum, cosine schedule).
        rbm_hidden: RBM hidden units.
        ais_chains: AIS runs for the RBM's log Z.
        ais_betas: AIS inverse temperatures.
        sample_images: images drawn per model to time sampling.
    """

    families: tuple[str, ...] = FAMILIES
    num_train: int | None = None
    num_val: int = 200
    num_test: int | None = None
    batch_size: int = 100
    flow_epochs: int = 200
    patience: int = 20
    flow_hidden: tuple[int, ...] = (256, 256)
    flow_layers: int = 5
    spline_bins: int = 8
    multiscale_steps: int = 4
    multiscale_hidden: int = 64
    dequantization_draws: int = 10
    vae_epochs: int = 1000
    vae_latent: int = 8
    vae_hidden: int = 200
    iwae_k: int = 5000
    diffusion_epochs: int = 100
    diffusion_steps: int = 1000
    diffusion_hidden: int = 256
    sde_epochs: int = 200
    ode_test: int | None = None
    ode_tol: float = 1e-5
    ode_probes: int = 4
    pixelcnn_epochs: int = 24
    pixelcnn_layers: int = 4
    pixelcnn_hidden: int = 48
    ar_epochs: int = 60
    ar_hidden: int = 256
    rbm_epochs: int = 300
    rbm_hidden: int = 100
    ais_chains: int = 100
    ais_betas: int = 14500
    sample_images: int = 16

    @classmethod
    def preset(cls, size: RunSize) -> LikelihoodFrontierSettings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            return cls(
                num_train=160,
                num_val=40,
                num_test=24,
                batch_size=40,
                flow_epochs=1,
                flow_hidden=(16,),
                flow_layers=2,
                spline_bins=4,
                multiscale_steps=1,
                multiscale_hidden=8,
                dequantization_draws=2,
                vae_epochs=1,
                vae_latent=2,
                vae_hidden=16,
                iwae_k=8,
                diffusion_epochs=1,
                diffusion_steps=20,
                diffusion_hidden=16,
                sde_epochs=1,
                ode_test=4,
                ode_tol=1e-2,
                ode_probes=2,
                pixelcnn_epochs=1,
                pixelcnn_layers=2,
                pixelcnn_hidden=8,
                ar_epochs=1,
                ar_hidden=16,
                rbm_epochs=1,
                rbm_hidden=24,
                ais_chains=8,
                ais_betas=50,
                sample_images=2,
            )
        if size == "quick":
            return cls(
                flow_epochs=20,
                flow_hidden=(128, 128),
                multiscale_hidden=32,
                dequantization_draws=2,
                vae_epochs=60,
                iwae_k=1000,
                diffusion_epochs=30,
                sde_epochs=30,
                ode_test=64,
                ode_tol=1e-4,
                pixelcnn_epochs=5,
                pixelcnn_hidden=32,
                ar_epochs=15,
                rbm_epochs=30,
                ais_betas=4000,
                sample_images=8,
            )
        return cls()


def frontier_row(
    group: str,
    model: str,
    value: float,
    se: float,
    kind: str,
    what: str,
    *,
    estimator_se: float | None = None,
    parameters: int,
    train_seconds: float,
    sample_seconds: float,
    test_images: int,
) -> dict[str, Any]:
    """One row of the table, with its kind checked (``exact``, ``estimate`` or ``bound``).

    Example:
        >>> frontier_row("g", "MADE", 20.0, 0.5, "exact", "exact NLL", parameters=10, train_seconds=1.0,
        ...              sample_seconds=0.01, test_images=5)["kind"]
        'exact'
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return {
        "group": group,
        "model": model,
        "value": float(value),
        "se": float(se),
        "estimator_se": estimator_se,
        "kind": kind,
        "what": what,
        "parameters": int(parameters),
        "train_seconds": round(float(train_seconds), 2),
        "sample_seconds_per_image": float(sample_seconds),
        "test_images": int(test_images),
    }


def frontier_table(rows: list[dict[str, Any]]) -> str:
    """The rows as Markdown, one table per group, best figure first.

    Example:
        >>> row = frontier_row("binarised", "NADE", 23.5, 0.4, "exact", "exact NLL", parameters=13000, train_seconds=9.0,
        ...                    sample_seconds=0.002, test_images=297)
        >>> print(frontier_table([row]).splitlines()[4])
        | NADE | 23.50 ± 0.40 | exact | exact NLL | 13.0k | 9.0 | 2.00 ms | 297 |
    """
    out = []
    for group in dict.fromkeys(r["group"] for r in rows):
        unit = "nats/image" if group == BINARY_GROUP else "bits/dim"
        out += [
            f"### {group}",
            "",
            f"| model | {unit} ± se | kind | what it is | parameters | train s | sampling / image | test images |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in sorted((r for r in rows if r["group"] == group), key=lambda r: r["value"]):
            extra = "" if r["estimator_se"] is None else f" (estimator se {r['estimator_se']:.2g})"
            out.append(
                f"| {r['model']} | {r['value']:.2f} ± {r['se']:.2f}{extra} | {r['kind']} | {r['what']} | "
                f"{r['parameters'] / 1000:.1f}k | {r['train_seconds']:.1f} | {_duration(r['sample_seconds_per_image'])} | "
                f"{r['test_images']} |"
            )
        out.append("")
    return "\n".join(out)


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def num_parameters(model: nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def seconds_per_image(draw: Callable[..., torch.Tensor], count: int, **kwargs: Any) -> float:
    """The wall time of ``draw(count, **kwargs)`` divided by ``count``, gradients off."""
    with torch.no_grad():
        start = time.perf_counter()
        draw(count, **kwargs)
    return (time.perf_counter() - start) / count


class DequantizedToUnitBox(nn.Module):
    """A continuous-time model trained on levels k dequantised as x = 2 (k + v) / K - 1, v ~ U[0, 1)^D fresh per batch.

    The preprocessing matches :class:`~bayesdl.results.ODELogLikelihood`'s ``bits_per_dim(D, num_levels=K,
    log_det_preprocess=D log 2)``, so the ODE log-density of x gives an upper bound on -log2 P(k) / D.
    """

    def __init__(self, model: nn.Module, num_levels: int) -> None:
        super().__init__()
        self.model = model
        self.num_levels = num_levels

    def dequantize(self, levels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        v = torch.rand(levels.shape, generator=generator, device=levels.device)
        return 2.0 * (levels.float() + v) / self.num_levels - 1.0

    def loss(self, levels: torch.Tensor) -> torch.Tensor:
        return self.model.loss(self.dequantize(levels))


def _fit(
    ctx: RunContext,
    model: nn.Module,
    data: torch.Tensor,
    epochs: int,
    lr: float,
    label: str,
    val: torch.Tensor | None = None,
    **kwargs: Any,
) -> float:
    """Train ``model`` with the shared Trainer (seeded by the run) and return the seconds it took."""
    torch.manual_seed(ctx.seed)
    start = time.perf_counter()
    Trainer(
        model,
        lr=lr,
        epochs=epochs,
        batch_size=ctx.config.batch_size,
        device=ctx.device,
        seed=ctx.seed,
        progress=ctx.progress_label(f"training {label}"),
        **kwargs,
    ).fit(data, val_data=val)
    model.eval()
    return time.perf_counter() - start


def _generator(ctx: RunContext) -> torch.Generator:
    return torch.Generator(device=ctx.device).manual_seed(ctx.seed)


def _flows(cfg: LikelihoodFrontierSettings) -> dict[str, tuple[str, Callable[[], nn.Module]]]:
    hidden = list(cfg.flow_hidden)
    return {
        "realnvp": (
            "RealNVP",
            lambda: RealNVP(DIMS, num_layers=cfg.flow_layers, hidden_sizes=hidden, logit_alpha=0.05),
        ),
        "maf": ("MAF", lambda: MAF(DIMS, num_layers=cfg.flow_layers, hidden_sizes=hidden, logit_alpha=0.05)),
        "nsf-coupling": (
            "NSF (coupling)",
            lambda: NSFCoupling(DIMS, cfg.flow_layers, hidden, bins=cfg.spline_bins, logit_alpha=0.05),
        ),
        "nsf-autoregressive": (
            "NSF (autoregressive)",
            lambda: NSFAutoregressive(DIMS, cfg.flow_layers, hidden, bins=cfg.spline_bins, logit_alpha=0.05),
        ),
        "multiscale": (
            "multi-scale flow (Glow steps)",
            lambda: MultiScaleFlow(
                (1, *SIDE),
                num_scales=2,
                steps_per_scale=cfg.multiscale_steps,
                hidden_channels=cfg.multiscale_hidden,
                style="glow",
            ),
        ),
    }


def flow_rows(
    ctx: RunContext, train: torch.Tensor, val: torch.Tensor, test: torch.Tensor
) -> list[dict[str, Any]]:
    """The dequantised flows (levels [N, 64]); each is trained with early stopping on ``val``."""
    cfg: LikelihoodFrontierSettings = ctx.config
    rows = []
    for key, (label, build) in _flows(cfg).items():
        if key not in cfg.families:
            continue
        torch.manual_seed(ctx.seed)
        flow = build()
        shape = (-1, *flow.event_shape)
        model = Dequantized(flow, num_levels=DIGITS_LEVELS)
        seconds = _fit(
            ctx,
            model,
            train.reshape(shape),
            cfg.flow_epochs,
            LR["flow"],
            label,
            val=val.reshape(shape),
            scheduler="cosine",
            clip_grad_norm=50.0,
            early_stopping_patience=cfg.patience,
        )
        scores = evaluate_flow(model, test.reshape(shape).to(ctx.device), cfg.dequantization_draws, ctx.seed)
        sample = seconds_per_image(model.sample_levels, cfg.sample_images, generator=_generator(ctx))
        rows.append(
            frontier_row(
                LEVELS_GROUP,
                label,
                scores["test_bits_per_dim"],
                scores["test_bits_per_dim_se"],
                "bound",
                f"dequantisation bound, {cfg.dequantization_draws} draws per image",
                parameters=num_parameters(model),
                train_seconds=seconds,
                sample_seconds=sample,
                test_images=len(test),
            )
        )
    return rows


def _iwae(ctx: RunContext, vae: VAE, x: torch.Tensor, label: str) -> tuple[float, float, float]:
    """IWAE-K: the mean log p(x) over ``x`` (nats), its test-set standard error and its importance-sampling error."""
    k = ctx.config.iwae_k
    est = log_likelihood(
        vae,
        x,
        num_samples=k,
        batch_size=100,
        chunk_size=min(k, 500),
        seed=ctx.seed,
        progress=ctx.progress_label(f"IWAE-{k} ({label})"),
    )
    _, spread = mean_and_se(est.log_prob)
    return est.mean(), spread, est.mean_stderr()


def vae_row(
    ctx: RunContext, group: str, train: torch.Tensor, test: torch.Tensor, binary: bool
) -> dict[str, Any]:
    """A VAE (Bernoulli decoder on binary pixels, or a 17-way categorical decoder on the levels) scored by IWAE-K."""
    cfg: LikelihoodFrontierSettings = ctx.config
    torch.manual_seed(ctx.seed)
    likelihood = "bernoulli" if binary else CategoricalLikelihood(DIGITS_LEVELS)
    encoder = MLPEncoder(
        [DIMS], cfg.vae_latent, [cfg.vae_hidden], input_scale=1.0 if binary else 1.0 / (DIGITS_LEVELS - 1)
    )
    vae = VAE(encoder, MLPDecoder(cfg.vae_latent, [DIMS], [cfg.vae_hidden], likelihood=likelihood))
    label = "VAE (Bernoulli decoder)" if binary else "VAE (17-way decoder)"
    seconds = _fit(
        ctx,
        vae,
        train,
        cfg.vae_epochs,
        LR["vae"],
        label,
        callbacks=[KLWarmup(epochs=max(1, cfg.vae_epochs // 20))],
        restore_best=False,
    )
    log_p, se, mc_se = _iwae(ctx, vae, test.to(ctx.device), label)
    sample = seconds_per_image(vae.sample, cfg.sample_images, mean=False, seed=ctx.seed)
    scale = 1.0 if binary else 1.0 / (DIMS * math.log(2))
    return frontier_row(
        group,
        label,
        -log_p * scale,
        se * scale,
        "bound",
        f"IWAE-{cfg.iwae_k} (its mean is a bound on log p)",
        estimator_se=mc_se * scale,
        parameters=num_parameters(vae),
        train_seconds=seconds,
        sample_seconds=sample,
        test_images=len(test),
    )


def ddpm_row(ctx: RunContext, train: torch.Tensor, test: torch.Tensor) -> dict[str, Any]:
    """The DDPM of ``diffusion-digits`` (grid prediction, 17-level discretised decoder): its variational bound."""
    cfg: LikelihoodFrontierSettings = ctx.config
    torch.manual_seed(ctx.seed)
    net = DenoisingMLP(DIMS, hidden=cfg.diffusion_hidden, num_blocks=3, out_features=DIMS * DIGITS_LEVELS)
    model = DDPM(
        net,
        data_shape=[DIMS],
        num_steps=cfg.diffusion_steps,
        schedule="linear",
        prediction="grid",
        decoder="discretized",
        num_levels=DIGITS_LEVELS,
    )
    on_grid = 2.0 * test / (DIGITS_LEVELS - 1) - 1.0
    seconds = _fit(
        ctx,
        model,
        2.0 * train / (DIGITS_LEVELS - 1) - 1.0,
        cfg.diffusion_epochs,
        LR["diffusion"],
        "DDPM",
        scheduler="cosine",
    )
    bound = bound_on(ctx, model, on_grid.to(ctx.device), f"DDPM bound ({cfg.diffusion_steps} steps)")
    bpd, se = mean_and_se(bits_per_dim(-bound.total.cpu(), DIMS))
    sample = seconds_per_image(model.sample, cfg.sample_images, seed=ctx.seed)
    return frontier_row(
        LEVELS_GROUP,
        "DDPM",
        bpd,
        se,
        "bound",
        f"variational bound, T = {cfg.diffusion_steps}, 17-level decoder (no dequantisation)",
        parameters=num_parameters(model),
        train_seconds=seconds,
        sample_seconds=sample,
        test_images=len(test),
    )


def ode_rows(ctx: RunContext, train: torch.Tensor, test: torch.Tensor) -> list[dict[str, Any]]:
    """VP-SDE and flow matching on dequantised levels, scored through the probability-flow ODE (Hutchinson)."""
    cfg: LikelihoodFrontierSettings = ctx.config
    builders = {
        "vp-sde": ("VP-SDE (probability-flow ODE)", ScoreSDE),
        "flow-matching": ("flow matching (ODE)", FlowMatching),
    }
    scored = test[: cfg.ode_test].to(ctx.device)
    draws, tol = cfg.dequantization_draws, cfg.ode_tol
    rows = []
    for key, (label, cls) in builders.items():
        if key not in cfg.families:
            continue
        torch.manual_seed(ctx.seed)
        model = cls(DenoisingMLP(DIMS, hidden=cfg.diffusion_hidden, num_blocks=3), [DIMS])
        wrapped = DequantizedToUnitBox(model, DIGITS_LEVELS)
        seconds = _fit(ctx, wrapped, train, cfg.sde_epochs, LR["diffusion"], label, scheduler="cosine")
        x = wrapped.dequantize(
            scored.repeat(draws, 1), _generator(ctx)
        )  # every dequantisation draw in one solve
        with ctx.phase(f"ODE log-likelihood of {label} ({len(x)} dequantised images)"):
            result = ode_log_likelihood(
                model,
                x,
                divergence="hutchinson",
                num_probes=cfg.ode_probes,
                rtol=tol,
                atol=tol,
                seed=ctx.seed,
            )
        per_image = result.bits_per_dim(DIMS, num_levels=DIGITS_LEVELS, log_det_preprocess=DIMS * math.log(2))
        bpd, se = mean_and_se(per_image.reshape(draws, -1).mean(0))
        probe_se = result.mean_stderr() / (DIMS * math.log(2))
        sample = seconds_per_image(model.sample, cfg.sample_images, rtol=tol, atol=tol, seed=ctx.seed)
        rows.append(
            frontier_row(
                LEVELS_GROUP,
                label,
                bpd,
                se,
                "bound",
                f"dequantisation bound through the ODE, Hutchinson estimate ({cfg.ode_probes} probes, "
                f"{draws} draws, dopri5 tol {tol:g}, {result.nfe} NFE)",
                estimator_se=probe_se,
                parameters=num_parameters(model),
                train_seconds=seconds,
                sample_seconds=sample,
                test_images=len(scored),
            )
        )
    return rows


def autoregressive_rows(
    ctx: RunContext,
    specs: list[ModelSpec],
    group: str,
    train: torch.Tensor,
    val: torch.Tensor,
    test: torch.Tensor,
) -> list[dict[str, Any]]:
    """MADE, NADE and the PixelCNNs through ``ar-digits``' training and exact scoring (best validation epoch kept)."""
    cfg: LikelihoodFrontierSettings = ctx.config
    rows = []
    for spec in specs:
        scores, _ = fit_and_score(spec, train, val, test, SIDE, ctx)
        sample = seconds_per_image(spec.model.sample, cfg.sample_images, seed=ctx.seed)
        scale = 1.0 if group == BINARY_GROUP else 1.0 / (DIMS * math.log(2))
        rows.append(
            frontier_row(
                group,
                spec.name,
                scores["test_nll"] * scale,
                scores["test_nll_se"] * scale,
                "exact",
                "exact NLL (normalised conditionals)",
                parameters=scores["num_parameters"],
                train_seconds=scores["train_seconds"],
                sample_seconds=sample,
                test_images=len(test),
            )
        )
    return rows


def rbm_row(ctx: RunContext, train: torch.Tensor, test: torch.Tensor) -> dict[str, Any]:
    """A PCD-1 RBM (the ``rbm-digits`` training), its test log-likelihood with log Z from AIS (exact for <= 20 units)."""
    cfg: LikelihoodFrontierSettings = ctx.config
    training = rbm.RbmSettings(epochs=cfg.rbm_epochs).training()
    model, _, seconds = rbm.train_rbm(ctx, train, num_hidden=cfg.rbm_hidden, method="pcd", k=1, **training)
    scores = rbm.score_rbm(
        model,
        train,
        test,
        num_chains=cfg.ais_chains,
        num_betas=cfg.ais_betas,
        seed=ctx.seed,
        progress=ctx.progress_label("AIS log Z (RBM)"),
    )
    exact = scores["log_z_method"] == "exact"
    sample = seconds_per_image(model.sample, cfg.sample_images, num_steps=1000, seed=ctx.seed)
    what = (
        "exact log Z (enumerated)"
        if exact
        else f"AIS log Z ({scores['ais_chains']} chains x {scores['ais_betas']} temperatures; leans optimistic)"
    )
    return frontier_row(
        BINARY_GROUP,
        "RBM (PCD-1)",
        -scores["test_log_likelihood"],
        scores["test_log_likelihood_sem"],
        "exact" if exact else "estimate",
        what,
        estimator_se=None if exact else scores["log_z_std_err"],
        parameters=num_parameters(model),
        train_seconds=seconds,
        sample_seconds=sample,
        test_images=len(test),
    )


def frontier_figure(rows: list[dict[str, Any]]) -> Any:
    """One panel per group: each row's figure with 2 se, coloured by its kind."""
    groups = list(dict.fromkeys(r["group"] for r in rows))
    colours = {"exact": "tab:green", "estimate": "tab:orange", "bound": "tab:blue"}
    fig, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), 0.35 * len(rows) + 1.5), squeeze=False)
    for ax, group in zip(axes[0], groups):
        mine = sorted((r for r in rows if r["group"] == group), key=lambda r: -r["value"])
        for i, r in enumerate(mine):
            ax.errorbar(r["value"], i, xerr=2 * r["se"], fmt="o", color=colours[r["kind"]], capsize=3)
        ax.set_yticks(range(len(mine)), [f"{r['model']} [{r['kind']}]" for r in mine], fontsize=8)
        ax.set_xlabel(group)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        "likelihood frontier on the digits (lower is better; green exact, orange estimate, blue bound)",
        fontsize=9,
    )
    return fig


def _check_families(families: tuple[str, ...]) -> None:
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise InputError(f"families must be a non-empty list from {list(FAMILIES)}; unknown: {unknown}")


@experiment(
    "likelihood-frontier",
    "Every density model on the same digits: bits/dim (17 levels) and nats (binarised), each "
    "labelled exact, estimate or bound, with parameters, training and sampling time",
    config=LikelihoodFrontierSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: LikelihoodFrontierSettings = ctx.config
    _check_families(cfg.families)
    torch.optim.Adam(
        [nn.Parameter(torch.zeros(1))]
    )  # the first optimizer imports torch._dynamo (seconds): not a row's time
    levels = load_digits_levels("train")[0].float()[: cfg.num_train]
    levels_test = load_digits_levels("test")[0].float()[: cfg.num_test]
    train, val = levels[: -cfg.num_val], levels[-cfg.num_val :]
    rows = flow_rows(ctx, train, val, levels_test)
    if "vae" in cfg.families:
        rows.append(vae_row(ctx, LEVELS_GROUP, train, levels_test, binary=False))
    if "ddpm" in cfg.families:
        rows.append(ddpm_row(ctx, train, levels_test))
    rows += ode_rows(ctx, train, levels_test)
    torch.manual_seed(ctx.seed)
    pixel_levels = PixelCNN(
        1,
        SIDE,
        num_layers=cfg.pixelcnn_layers,
        hidden_channels=cfg.pixelcnn_hidden,
        kernel_size=5,
        likelihood="levels",
        num_levels=DIGITS_LEVELS,
    )
    specs = [
        ModelSpec(
            "PixelCNN (17-way softmax)", pixel_levels, True, cfg.pixelcnn_epochs, LR["ar"], cfg.batch_size
        )
    ]
    rows += autoregressive_rows(
        ctx,
        [s for s, k in zip(specs, ["pixelcnn"]) if k in cfg.families],
        LEVELS_GROUP,
        train,
        val,
        levels_test,
    )

    binary = load_digits("train", binarize="static", seed=ctx.seed)[0][: cfg.num_train]
    binary_test = load_digits("test", binarize="static", seed=ctx.seed + 1)[0][: cfg.num_test]
    btrain, bval = binary[: -cfg.num_val], binary[-cfg.num_val :]
    torch.manual_seed(ctx.seed)
    specs = {
        "made": ModelSpec(
            "MADE",
            MADE(DIMS, [cfg.ar_hidden], natural_ordering=True, seed=ctx.seed),
            False,
            cfg.ar_epochs,
            LR["ar"],
            cfg.batch_size,
        ),
        "nade": ModelSpec("NADE", NADE(DIMS, cfg.ar_hidden), False, cfg.ar_epochs, LR["ar"], cfg.batch_size),
        "pixelcnn-binary": ModelSpec(
            "PixelCNN (Bernoulli)",
            PixelCNN(
                1, SIDE, num_layers=cfg.pixelcnn_layers, hidden_channels=cfg.pixelcnn_hidden, kernel_size=5
            ),
            True,
            cfg.pixelcnn_epochs,
            LR["ar"],
            cfg.batch_size,
        ),
    }
    rows += autoregressive_rows(
        ctx, [s for k, s in specs.items() if k in cfg.families], BINARY_GROUP, btrain, bval, binary_test
    )
    if "vae-binary" in cfg.families:
        rows.append(vae_row(ctx, BINARY_GROUP, btrain, binary_test, binary=True))
    if "rbm" in cfg.families:
        rows.append(rbm_row(ctx, btrain, binary_test))

    table = frontier_table(rows)
    (ctx.out_dir / "frontier.md").write_text(table + "\n", encoding="utf-8")
    ctx.save_figure(
        frontier_figure(rows), "frontier", "Each model's test figure with 2 standard errors, coloured by kind"
    )
    for r in rows:
        binary_row = r["group"] == BINARY_GROUP
        name, unit = ("test NLL", "nats/image") if binary_row else ("test bits/dim", "bits/dim")
        ctx.report_metric(
            name,
            r["value"],
            unit,
            "lower",
            method=r["model"],
            se=r["se"],
            group=r["group"],
            bound="upper" if r["kind"] == "bound" else None,
        )
        ctx.report_metric(
            "parameters", r["parameters"], "", "none", method=r["model"], group=r["group"], headline=False
        )
        ctx.report_metric(
            "train time",
            r["train_seconds"],
            "s",
            "lower",
            method=r["model"],
            group=r["group"],
            headline=False,
        )
        ctx.report_metric(
            "sampling time per image",
            r["sample_seconds_per_image"],
            "s",
            "lower",
            method=r["model"],
            group=r["group"],
            headline=False,
        )
    ctx.note(
        "Same data for every row: the 17-level digits (train minus the last held-out images; test as listed) and their "
        "static binarisation. Bits/dim are of the discrete 17-level data, -log2 P(k)/64; a uniform model scores "
        f"log2(17) = {math.log2(DIGITS_LEVELS):.3f}."
    )
    ctx.note(
        "Kinds: exact = normalised conditionals; bound = a variational bound (DDPM), an IWAE-K figure (its expectation is a "
        "bound on log p) or a dequantisation bound for a continuous density (flows, VP-SDE, flow matching; Theis et al. "
        "2016, arXiv:1511.01844); estimate = the RBM's AIS log Z (unbiased for Z, so log Z is low and the NLL low in "
        "expectation). se is the test-set standard error; estimator se is the Monte Carlo error (IWAE, Hutchinson "
        "probes, AIS). See frontier.md for the table."
    )
    ctx.note(
        "Sampling time per image: flows one pass; the ODE models one dopri5 solve; DDPM all T steps; PixelCNN, MADE and NADE "
        "pixel by pixel; the RBM 1000 Gibbs sweeps; measured in the same process as training, on a batch of "
        f"{cfg.sample_images}."
    )
    return {"rows": rows, "num_train": len(train), "num_val": len(val), "num_test": len(levels_test)}
