"""The result of an MCMC run: constrained draws [chain, draw, ...], per-draw statistics, and views of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch


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

    Example:
        >>> import pyro, pyro.distributions as dist
        >>> def model(y):
        ...     mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        ...     with pyro.plate("data", len(y)):
        ...         pyro.sample("y", dist.Normal(mu, 1.0), obs=y)
        >>> from bayesdl.inference.mcmc import sample_posterior
        >>> post = sample_posterior(model, torch.zeros(3), num_chains=2, num_warmup=30, num_samples=20, progress=False)
        >>> tuple(post.samples["mu"].shape), tuple(post.log_likelihood["y"].shape)
        ((2, 20), (2, 20, 3))
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
        """Draws with chain and draw merged: name -> [chain * draw, *site_shape]."""
        names = names if names is not None else list(self.samples)
        return {k: self.samples[k].reshape(-1, *self.samples[k].shape[2:]) for k in names}

    def predictive(self, model: Callable | None = None, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Posterior predictive draws: run ``model(*args, **kwargs)`` once per posterior draw.

        Sites that were latent are fixed at the draw; the other sample sites are drawn afresh. Pass
        ``obs=None`` values (e.g. ``y=None``) for the sites to predict. Defaults to the sampled model
        and its arguments. Returns site name -> [chain, draw, *site_shape].
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

    def to_arviz(self, posterior_predictive: dict[str, torch.Tensor] | bool | None = None) -> Any:
        """An ArviZ ``InferenceData`` with posterior, sample_stats, observed_data, log_likelihood
        and (when given, or ``True`` to draw it with :meth:`predictive`) posterior_predictive."""
        from ...diagnostics.arviz_export import posterior_to_inference_data

        if posterior_predictive is True:
            pp = self._observed_site_predictive()
        else:
            pp = posterior_predictive or None
        return posterior_to_inference_data(self.samples, self.sample_stats, observed_data=self.observed_data,
                                           log_likelihood=self.log_likelihood, posterior_predictive=pp)

    def _observed_site_predictive(self) -> dict[str, torch.Tensor]:
        """Replicate each observed site from its likelihood at every draw (the data stay as arguments)."""
        from .replay import replicate_observed

        return replicate_observed(self.model, self.model_args, self.model_kwargs, self.samples, self.latent_names)

    def summary(self, **kwargs: Any) -> Any:
        """ArviZ's summary table (mean, sd, hdi/quantiles, MCSE, bulk and tail ESS, R-hat) as a DataFrame."""
        from ...diagnostics.arviz_export import arviz_summary

        return arviz_summary(self.to_arviz(), **kwargs)
