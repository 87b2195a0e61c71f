"""Figures and evaluation shared by the VAE experiments (``vae-digits``, ``vae-fashion``); registers no experiment."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..inference import active_units, elbo_terms, log_likelihood


def evaluate(
    model: Any,
    x: torch.Tensor,
    ks: Sequence[int],
    elbo_samples: int = 100,
    batch_size: int = 100,
    chunk_size: int = 500,
    seed: int = 0,
    per_example: bool = False,
    progress: Any = False,
) -> dict[str, Any]:
    """Test ELBO (a bound; its KL analytic where possible), IWAE-K log p(x) estimates with SEs, KL, reconstruction, active units.

    Each IWAE-K entry holds the mean, ``stderr`` (Monte Carlo error of the importance sampling),
    ``subset_stderr`` (the spread between images, std / sqrt(n): the error of the mean as an estimate
    over the test distribution when x is a random subset), the median ESS and, with ``per_example=True``,
    the per-example estimates (a tensor: pop it before writing metrics). ``progress`` (False, or a label) counts the
    importance samples of each K in a bar of its own.
    """
    terms = elbo_terms(model, x, num_samples=elbo_samples, seed=seed)
    out: dict[str, Any] = {
        "test_elbo_bound": float(terms.elbo.mean()),
        "test_kl": float(terms.kl.mean()),
        "test_reconstruction": float(terms.reconstruction.mean()),
        "active_units": active_units(model, x)[0],
        "log_likelihood": {},
    }
    for k in ks:
        with warnings.catch_warnings():  # K = 1 has no importance-sampling error estimate: stored as None
            warnings.simplefilter("ignore", UserWarning)
            est = log_likelihood(
                model,
                x,
                num_samples=k,
                batch_size=batch_size,
                chunk_size=min(chunk_size, k),
                seed=seed + k,
                progress=f"{progress}, K = {k}" if isinstance(progress, str) else progress,
            )
        spread = float(est.log_prob.std() / len(x) ** 0.5) if len(x) > 1 else 0.0
        stderr = est.mean_stderr() if k > 1 else None
        out["log_likelihood"][f"K={k}"] = {
            "mean": est.mean(),
            "stderr": stderr,
            "subset_stderr": spread,
            "median_ess": float(est.ess.median()),
        }
        if per_example:
            out["log_likelihood"][f"K={k}"]["per_example"] = est.log_prob
    return out


def curve_figure(histories: dict[str, Any], title: str) -> Any:
    """Training (and validation, when recorded) negative ELBO per example by epoch, one line per model."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, history in histories.items():
        epochs = range(1, len(history) + 1)
        (line,) = ax.plot(epochs, history.losses, label=f"{name} train")
        if history["val_loss"]:
            ax.plot(epochs, history["val_loss"], "--", color=line.get_color(), label=f"{name} test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (nats / example)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig
