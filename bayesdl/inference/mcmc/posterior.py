"""The result of an MCMC run: constrained draws [chain, draw, ...], per-draw statistics, and views of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ...deprecation import warn_deprecated


@dataclass
class Posterior:
    """Posterior draws from :func:`sample_posterior` and everything needed to check and use them.

    Attributes:
        samples: site name -> tensor [chain, draw, *site_shape] in constrained space, including
            ``pyro.deterministic`` sites.
        sample_stats: statistic -> tensor [chain, draw] (diverging, energy, tree_depth, n_steps,
            step_size, acceptance_rate, reached_max_treedepth, lp = -U).
        unconstrained: the flat unconstrained draws [chain, draw, D].
        observed_data: observed site name -> its data.
        log_likelihood: observed site name -> log p(y_i | theta) per draw and observation
            [chain, draw, *obs_shape] (empty for a plain potential function).
        step_size, inv_mass: the adapted per-chain step sizes [C] and diagonal inverse mass [C, D].
        warmup_seconds, sampling_seconds: wall times.
        model, model_args, model_kwargs: the sampled Pyro model and its arguments (None and empty for a
            plain potential function); :meth:`predictive` re-runs them.
        latent_names: the names of the latent sites that were sampled.

    Example:
        Normally :func:`~bayesdl.inference.mcmc.sample_posterior` builds it; here two chains of five fixed draws:

        >>> draws = torch.arange(10.0).reshape(2, 5)
        >>> post = Posterior(samples={"mu": draws}, sample_stats={"diverging": torch.zeros(2, 5, dtype=torch.bool)},
        ...                  unconstrained=draws.unsqueeze(-1))
        >>> post.num_chains, post.num_draws, post.flat_samples()["mu"].tolist()[:6]
        (2, 5, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])

    References:
        Hoffman & Gelman (2014), The No-U-Turn Sampler, arXiv:1111.4246; Kumar, Carroll, Hartikainen & Martin
        (2019), ArviZ, JOSS 4(33) (the InferenceData layout that ``bayesdl.diagnostics.to_inference_data`` produces).
    """

    samples: dict[str, torch.Tensor]
    sample_stats: dict[str, torch.Tensor]
    unconstrained: torch.Tensor
    observed_data: dict[str, torch.Tensor] = field(default_factory=dict)
    log_likelihood: dict[str, torch.Tensor] = field(default_factory=dict)
    step_size: torch.Tensor | None = None
    inv_mass: torch.Tensor | None = None
    warmup_seconds: float = 0.0
    sampling_seconds: float = 0.0
    model: Callable | None = None
    model_args: tuple = ()
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    latent_names: list[str] = field(default_factory=list)

    @property
    def num_chains(self) -> int:
        """C, the number of chains."""
        return int(self.unconstrained.shape[0])

    @property
    def num_draws(self) -> int:
        """The number of kept draws per chain."""
        return int(self.unconstrained.shape[1])

    def flat_samples(self, names: list[str] | None = None) -> dict[str, torch.Tensor]:
        """Draws with chain and draw merged: name -> [chain * draw, *site_shape].

        Arguments:
            names: the sites to return (all if None).

        Returns:
            A dict from site name to its draws, chains concatenated.
        """
        names = names if names is not None else list(self.samples)
        return {k: self.samples[k].reshape(-1, *self.samples[k].shape[2:]) for k in names}

    def predictive(self, model: Callable | None = None, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Posterior predictive draws: run ``model(*args, **kwargs)`` once per posterior draw.

        Sites that were latent are fixed at the draw; the other sample sites are drawn afresh. Pass
        ``obs=None`` values (e.g. ``y=None``) for the sites to predict. Defaults to the sampled model
        and its arguments.

        Arguments:
            model: a Pyro model with the same latent sites (the sampled model if None).
            *args, **kwargs: the model arguments (the sampled ones if none are given).

        Returns:
            Site name -> [chain, draw, *site_shape].
        """
        import pyro

        model = model if model is not None else self.model
        if model is None:
            raise ValueError("predictive needs a Pyro model")
        if not args and not kwargs:
            args, kwargs = self.model_args, self.model_kwargs
        flat = self.flat_samples(self.latent_names)
        draws = pyro.infer.Predictive(model, posterior_samples=flat, parallel=False)(*args, **kwargs)
        shape = (self.num_chains, self.num_draws)
        return {k: v.reshape(*shape, *v.shape[1:]) for k, v in draws.items()}

    def replicate_observed(self) -> dict[str, torch.Tensor]:
        """Replicate each observed site from its likelihood at every draw (the data stay as arguments):
        site -> [chain, draw, *obs_shape], for the posterior_predictive group of ArviZ."""
        from .replay import replicate_observed

        return replicate_observed(
            self.model, self.model_args, self.model_kwargs, self.samples, self.latent_names
        )

    def to_arviz(self, posterior_predictive: dict[str, torch.Tensor] | bool | None = None) -> Any:
        """Deprecated: ``bayesdl.diagnostics.to_inference_data(posterior, posterior_predictive)``.

        Inference never imports diagnostics; ArviZ is reached from :mod:`bayesdl.diagnostics` only.
        """
        warn_deprecated("Posterior.to_arviz()", "bayesdl.diagnostics.to_inference_data(posterior)")
        # deprecated shim: allowed in tests/test_layers.py
        from ...diagnostics.arviz_export import to_inference_data

        return to_inference_data(self, posterior_predictive)

    def summary(self, **kwargs: Any) -> Any:
        """Deprecated: ``bayesdl.diagnostics.arviz_summary(posterior, **kwargs)`` (ArviZ's summary table)."""
        warn_deprecated("Posterior.summary()", "bayesdl.diagnostics.arviz_summary(posterior)")
        # deprecated shim: allowed in tests/test_layers.py
        from ...diagnostics.arviz_export import arviz_summary

        return arviz_summary(self, **kwargs)
