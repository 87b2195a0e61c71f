"""The same networks as Pyro models: Gaussian priors on every weight through ``PyroSample``.

:func:`to_pyro_model` copies a deterministic network, turns it into a ``PyroModule`` and replaces each of
its parameters by a sample site ``w ~ N(0, prior_scale^2)``. The result is a plain Pyro model
``model(x, y=None)`` with the observations inside ``pyro.plate("data", B)``. It can be used

* with an autoguide under the shared trainer (``Trainer(model, guide=model.autoguide(), elbo="meanfield")``;
  the trainer scales the data plate by N/B, so this is the same per-example negative ELBO as
  :class:`~bayesdl.models.bnn_bbb.BayesByBackprop` with a Gaussian prior and plain reparameterisation), or
* with any Pyro sampler, e.g. ``pyro.infer.MCMC(pyro.infer.NUTS(model), ...)``: all latent sites are the
  weights (and, for the homoscedastic likelihood, the noise sd).

:class:`PyroPosterior` wraps the model with a guide or with posterior samples (e.g. from MCMC) and
answers ``predictive_samples`` so that :func:`bayesdl.inference.predictive.predict` works on it.
"""

from __future__ import annotations

import copy
from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro.infer.autoguide import AutoNormal
from pyro.nn import PyroModule, PyroSample
from pyro.nn.module import to_pyro_module_
from torch import nn

from ..errors import InputError
from ..io import serializable
from ..nn.heads import SUPERVISED_HEADS, make_head
from ..randomness import seed_from, seeded_rng
from ..results.function_draws import FunctionDraws
from ..results.predictive import CategoricalDraws, GaussianDraws
from ..validation import check_choice, check_positive_int
from .nets import check_input


def _attach_priors(module: nn.Module, prior_scale: float) -> int:
    count = 0
    for sub in module.modules():
        params = list(sub.named_parameters(recurse=False))
        if not params:
            continue
        device = params[0][1].device
        sub.register_buffer("_prior_zero", torch.zeros((), device=device))
        for name, param in params:
            shape = tuple(param.shape)
            delattr(sub, name)

            def prior(self: nn.Module, shape: tuple[int, ...] = shape) -> dist.Distribution:
                return dist.Normal(self._prior_zero, prior_scale).expand(shape).to_event(len(shape))

            setattr(sub, name, PyroSample(prior))
            count += 1
    return count


@serializable
class PyroBNN(PyroModule):
    """A network with N(0, prior_scale^2) priors on all its weights, as a Pyro model.

    Arguments:
        net: a deterministic network with ``out_features`` (copied; the copy's parameters become sample sites).
        likelihood: "categorical", "heteroscedastic" (outputs mean and log-variance) or "homoscedastic"
            (outputs the mean; a latent noise sd with a HalfNormal(noise_prior_scale) prior).
        prior_scale: the prior standard deviation of every weight and bias.
        noise_prior_scale: the scale of the HalfNormal prior of the homoscedastic noise sd.

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> model = PyroBNN(MLP(2, [8], 3), prior_scale=1.0)
        >>> trace = pyro.poutine.trace(model).get_trace(torch.zeros(5, 2), torch.tensor([0, 1, 2, 0, 1]))
        >>> sorted(n for n in trace.nodes if n.startswith("net"))[:2]
        ['net.layers.0.bias', 'net.layers.0.weight']

    References:
        Neal (1996), Bayesian Learning for Neural Networks, Springer; Bingham et al. (2019), Pyro: Deep
        Universal Probabilistic Programming, JMLR 20, arXiv:1810.09538.
    """

    def __init__(
        self,
        net: nn.Module,
        likelihood: str = "categorical",
        prior_scale: float = 1.0,
        noise_prior_scale: float = 1.0,
    ) -> None:
        super().__init__()
        check_choice(likelihood, "likelihood", SUPERVISED_HEADS)
        if not (prior_scale > 0 and noise_prior_scale > 0):
            raise InputError("prior_scale and noise_prior_scale must be positive")
        self.likelihood_name = likelihood
        self.prior_scale = float(prior_scale)
        self.noise_prior_scale = float(noise_prior_scale)
        self.head = make_head(likelihood, num_outputs=getattr(net, "out_features", -1), learn_noise=False)
        copied = copy.deepcopy(net)
        to_pyro_module_(copied)
        _attach_priors(copied, self.prior_scale)
        self.net = copied
        self.input_shape = getattr(net, "input_shape", None)
        self.register_buffer("_zero", torch.zeros(()))

    def model(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Sample the weights, compute the network outputs [B, K] and observe y inside the data plate.

        Arguments:
            x: inputs [B, *input_shape].
            y: targets [B] (class labels or real values), or None to sample them.

        Returns:
            The network outputs [B, K] for the sampled weights.
        """
        check_input(self, x)
        if y is not None:
            self.head.check_target(y)
        out = self.net(x)
        if self.likelihood_name == "homoscedastic":
            noise = pyro.sample("noise_std", dist.HalfNormal(self._zero + self.noise_prior_scale))
        with pyro.plate("data", x.shape[0]):
            if self.likelihood_name == "categorical":
                pyro.sample("y", dist.Categorical(logits=out), obs=y)
            elif self.likelihood_name == "heteroscedastic":
                pyro.sample("y", dist.Normal(out[:, 0], torch.exp(0.5 * out[:, 1])), obs=y)
            else:
                pyro.sample("y", dist.Normal(out[:, 0], noise), obs=y)
        return out

    forward = model

    def autoguide(self, init_scale: float = 0.01) -> AutoNormal:
        """A mean-field Gaussian guide over the weights (AutoNormal), with the observed site "y" hidden so that
        it can be built from inputs alone.

        Arguments:
            init_scale: the initial standard deviation of every guide factor.

        Returns:
            A ``pyro.infer.autoguide.AutoNormal``.
        """
        return AutoNormal(pyro.poutine.block(self, hide=["y"]), init_scale=init_scale)


def to_pyro_model(net: nn.Module, prior_scale: float = 1.0, likelihood: str = "categorical") -> PyroBNN:
    """Turn a deterministic network into a Pyro model with N(0, prior_scale^2) priors on every weight.

    The result is callable as ``model(x, y=None)`` and usable with any Pyro inference: SVI with an autoguide,
    or HMC/NUTS over the weights.

    Arguments:
        net: a deterministic network with ``out_features`` (it is copied, not changed).
        prior_scale: the prior standard deviation of every weight and bias.
        likelihood: "categorical", "heteroscedastic" or "homoscedastic" (see :class:`PyroBNN`).

    Returns:
        A :class:`PyroBNN`.

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> model = to_pyro_model(MLP(1, [4], 2), prior_scale=1.0, likelihood="heteroscedastic")
        >>> model(torch.zeros(3, 1)).shape
        torch.Size([3, 2])

    References:
        Neal (1996), Bayesian Learning for Neural Networks, Springer.
    """
    return PyroBNN(net, likelihood=likelihood, prior_scale=prior_scale)


class PyroPosterior:
    """Predictive draws from a :class:`PyroBNN` under a guide or under posterior samples (e.g. from MCMC).

    Arguments:
        model: the Pyro BNN.
        guide: a trained guide (e.g. ``AutoNormal(model)``), or None when ``samples`` is given.
        samples: a dict site -> tensor [S, ...] of posterior draws (``mcmc.get_samples()``).

    With ``samples``, ``predictive_samples(x, num_samples)`` uses ``num_samples`` draws evenly spaced through
    the stored ones (all of them if fewer are stored).

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> model = PyroBNN(MLP(2, [4], 3))
        >>> guide = model.autoguide()
        >>> PyroPosterior(model, guide).predictive_samples(torch.zeros(5, 2), 4).probs.shape
        torch.Size([4, 5, 3])

    References:
        Bingham et al. (2019), Pyro, arXiv:1810.09538 (``pyro.infer.Predictive``).
    """

    def __init__(
        self, model: PyroBNN, guide: Any = None, samples: dict[str, torch.Tensor] | None = None
    ) -> None:
        if (guide is None) == (samples is None):
            raise InputError("give exactly one of guide and samples")
        self.model = model
        self.guide = guide
        self.samples = samples

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """One chain of the draws of :meth:`predictive_samples` (``method`` "svi" with a guide, "mcmc" with samples).

        Arguments:
            x: inputs [B, ...].
            num_samples: S.
            seed, generator: fix the draws (the global generators are forked and restored).
        """
        with seeded_rng(seed_from(seed, generator)):
            draws = self.predictive_samples(x, num_samples)
        method = "svi" if self.guide is not None else "mcmc"
        return FunctionDraws.from_draws(
            draws, method, bayesian=True, note=f"one network from the {method} posterior per draw"
        )

    def predictive_samples(self, x: torch.Tensor, num_samples: int) -> GaussianDraws | CategoricalDraws:
        """S draws of the predictive distribution at ``x``.

        Arguments:
            x: inputs [B, *input_shape].
            num_samples: S, the number of weight draws (at most the number stored, with ``samples``).

        Returns:
            :class:`CategoricalDraws` [S, B, C] or :class:`GaussianDraws` [S, B].
        """
        check_positive_int(num_samples, "num_samples")
        check_input(self.model, x)
        sites = ["_RETURN"] + (["noise_std"] if self.model.likelihood_name == "homoscedastic" else [])
        if self.guide is not None:
            predictive = pyro.infer.Predictive(
                self.model, guide=self.guide, num_samples=num_samples, return_sites=sites
            )
        else:
            total = len(next(iter(self.samples.values())))
            index = torch.linspace(0, total - 1, min(num_samples, total)).round().long()
            chosen = {k: v[index.to(v.device)] for k, v in self.samples.items()}
            predictive = pyro.infer.Predictive(self.model, posterior_samples=chosen, return_sites=sites)
        from ..nn.pyro_params import module_local_params

        with torch.no_grad(), module_local_params(self.model, self.guide):  # the guide's own parameters
            found = predictive(x)
        out = found["_RETURN"]
        if self.model.likelihood_name == "categorical":
            return CategoricalDraws(out.softmax(-1))
        if self.model.likelihood_name == "heteroscedastic":
            return GaussianDraws(out[..., 0], out[..., 1].exp())
        noise = found["noise_std"].reshape(-1, 1)
        return GaussianDraws(out[..., 0], noise.square().expand_as(out[..., 0]))
