"""The flow model: a base distribution pushed through a transform, exposed as a torch Distribution.

A :class:`Flow` maps data x to latent z = f(x) (``forward``) and back (``inverse``), with
log p(x) = log p_0(f(x)) + log|det df/dx| in nats per example. Samples are x = f^{-1}(z), z ~ p_0,
and the density of a sample is log p_0(z) - log|det d f^{-1}/dz| (Rezende & Mohamed 2015,
arXiv:1505.05770; Papamakarios et al. 2021, arXiv:1912.02762).

:meth:`Flow.distribution` returns a :class:`FlowDistribution`, a ``pyro.distributions.TorchDistribution``
(hence a ``torch.distributions.Distribution``) usable in ``pyro.sample`` and as a VAE prior or
posterior. Its ``rsample`` remembers the log-density of the values it drew, so ``log_prob`` of those
exact tensors costs nothing even for flows whose data-to-noise direction is slow (IAF, planar).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyro.distributions as pdist
import torch
from torch import nn
from torch.distributions import constraints

from ...deprecation import sample_call_forms
from ...errors import InputError
from ...nn.flows.base import FlowSequence, Transform
from ...nn.flows.logit import Logit
from ...randomness import make_generator
from ...validation import check_positive_int, check_tensor
from .bases import ConditionalNormalBase, StandardNormalBase


class Flow(nn.Module):
    """Base class of bayesdl's flow models (subclasses build the transform in their constructor).

    Attributes:
        transform: the data-to-latent :class:`~bayesdl.nn.flows.Transform`.
        base: the latent distribution (standard normal, or context-dependent normal).
        event_shape: the shape of one example, e.g. (D,) or (C, H, W).
        context_size: the width of the conditioning vector (0 for unconditional flows).

    A subclass calls ``super().__init__()`` and then ``self._setup(transform, event_shape,
    context_size, conditional_base)``; :meth:`log_prob` returns nats per example, shape [B].

    Example:
        >>> from bayesdl.nn.flows import FlowSequence, LULinear
        >>> class LinearGaussian(Flow):  # z = W x + b with z ~ N(0, I), i.e. x is Gaussian
        ...     def __init__(self, features):
        ...         super().__init__()
        ...         self._setup(FlowSequence([LULinear(features, seed=1)]), (features,))
        >>> flow = LinearGaussian(2)
        >>> x = flow.sample(3, generator=torch.Generator().manual_seed(0))
        >>> w, b = flow.transform.transforms[0].lu.weight(), flow.transform.transforms[0].bias
        >>> by_hand = torch.distributions.Normal(0.0, 1.0).log_prob(x @ w.T + b).sum(1) + torch.linalg.slogdet(w)[1]
        >>> x.shape, torch.allclose(flow.log_prob(x), by_hand, atol=1e-5)
        (torch.Size([3, 2]), True)

    References:
        Rezende & Mohamed (2015), Variational Inference with Normalizing Flows, arXiv:1505.05770.
        Papamakarios, Nalisnick, Rezende, Mohamed & Lakshminarayanan (2021), Normalizing Flows for
        Probabilistic Modeling and Inference, arXiv:1912.02762.
    """

    support = constraints.real

    def _setup(
        self,
        transform: Transform,
        event_shape: Sequence[int],
        context_size: int = 0,
        conditional_base: bool = False,
    ) -> None:
        self.transform = transform
        self.event_shape = tuple(int(s) for s in event_shape)
        self.context_size = int(context_size)
        features = math.prod(self.event_shape)
        if conditional_base:
            if context_size <= 0:
                raise InputError("conditional_base=True needs context_size > 0")
            self.base: StandardNormalBase = ConditionalNormalBase(features, context_size)
        else:
            self.base = StandardNormalBase(features)

    def _setup_vector(
        self,
        layers: Sequence[Transform],
        features: int,
        context_size: int = 0,
        conditional_base: bool = False,
        logit_alpha: float | None = None,
    ) -> None:
        """``_setup`` for a flow on R^D made of ``layers``, after a Logit(alpha) preprocessing when
        ``logit_alpha`` is given (then the data live in [0, 1] and the support says so)."""
        steps = [Logit(logit_alpha)] if logit_alpha is not None else []
        self._setup(FlowSequence([*steps, *layers]), (features,), context_size, conditional_base)
        if logit_alpha is not None:
            self.support = constraints.interval(*steps[0].support_bounds)

    # ------------------------------------------------------------------ checks
    def _check_x(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        return check_tensor(x, name, shape=[None, *self.event_shape], floating=True)

    def _check_context(self, context: torch.Tensor | None, rows: int) -> torch.Tensor | None:
        if self.context_size == 0:
            if context is not None:
                raise InputError(
                    f"{type(self).__name__} is unconditional (context_size=0) but a context was given"
                )
            return None
        if context is None:
            raise InputError(
                f"{type(self).__name__} is conditional: pass a context of shape [B, {self.context_size}]"
            )
        check_tensor(context, "context", shape=[rows, self.context_size], floating=True)
        return context

    # ------------------------------------------------------------------ maps
    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f(x) as a flat [B, D] latent, and log|det df/dx| [B]."""
        self._check_x(x)
        context = self._check_context(context, x.shape[0])
        return self.transform(x, context)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x = f^{-1}(z) for a flat latent z [B, D], and log|det df^{-1}/dz| [B]."""
        check_tensor(z, "z", shape=[None, self.base.features], floating=True)
        context = self._check_context(context, z.shape[0])
        return self.transform.inverse(z, context)

    # ------------------------------------------------------------------ densities
    def log_prob(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | context) in nats per example, shape [B]."""
        z, log_det = self.forward(x, context)
        return self.base.log_prob(z, context) + log_det

    def loss(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Mean negative log-likelihood per example (the shared Trainer minimises it)."""
        return -self.log_prob(x, context).mean()

    def score(self, x: torch.Tensor, context: torch.Tensor | None = None) -> float:
        """Mean log-likelihood per example (nats), without gradients."""
        with torch.no_grad():
            return float(self.log_prob(x, context).mean())

    # ------------------------------------------------------------------ sampling
    def _rows(self, num_samples: int, context: torch.Tensor | None) -> tuple[int, torch.Tensor | None]:
        check_positive_int(num_samples, "num_samples")
        if self.context_size == 0:
            self._check_context(context, 0)
            return num_samples, None
        if context is None:
            raise InputError(
                f"{type(self).__name__} is conditional: pass a context of shape [B, {self.context_size}]"
            )
        check_tensor(context, "context", shape=[None, self.context_size], floating=True)
        return num_samples * context.shape[0], context.repeat(num_samples, 1)

    def rsample_and_log_prob(
        self, num_samples: int, context: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised samples and their log-densities in one pass through the sampling direction.

        Returns ``(x, log_q)``: x is [n, *event] (or [n * B, *event] with a context of B rows,
        sample-major), log_q is [n] (or [n * B]).
        """
        rows, context = self._rows(num_samples, context)
        z = self.base.rsample(rows, context, generator)
        x, log_det = self.transform.inverse(z, context)
        return x, self.base.log_prob(z, context) - log_det

    def rsample(
        self, num_samples: int, context: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Reparameterised samples (differentiable in the parameters)."""
        return self.rsample_and_log_prob(num_samples, context, generator)[0]

    @sample_call_forms("context", "generator", old_count=None)
    def sample(
        self,
        num_samples: int | Sequence[int],
        *,
        context: torch.Tensor | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draws without gradients: [n, *event] (or [n * B, *event] with a context of B rows, sample-major).

        A shape, ``flow.sample((5, 2))``, gives ``sample_shape + batch_shape + event_shape`` as a
        ``torch.distributions.Distribution`` does: [5, 2, *event] (or [5, 2, B, *event]). ``seed`` or ``generator``
        fixes the draws without touching the global generators; with neither, they come from torch's global one.
        """
        generator = make_generator(seed, generator, next(iter(self.parameters()), torch.empty(0)).device)
        shape = None
        if isinstance(num_samples, (tuple, list, torch.Size)):
            shape = torch.Size(num_samples)
            num_samples = max(math.prod(shape), 1)
        with torch.no_grad():
            x = self.rsample(num_samples, context, generator)
        if shape is None:
            return x
        batch = () if context is None else (context.shape[0],)
        return x.reshape(*shape, *batch, *self.event_shape)

    def distribution(self, context: torch.Tensor | None = None) -> FlowDistribution:
        """This flow as a torch/Pyro Distribution (batch shape [B] when a context [B, C] is given)."""
        if context is not None:
            self._check_context(context, context.shape[0])
        elif self.context_size:
            raise InputError(
                f"{type(self).__name__} is conditional: pass a context of shape [B, {self.context_size}]"
            )
        return FlowDistribution(self, context)

    def as_distribution(self, context: torch.Tensor | None = None) -> FlowDistribution:
        """The same as :meth:`distribution`: this flow where a ``torch.distributions.Distribution`` is expected."""
        return self.distribution(context)


class FlowDistribution(pdist.TorchDistribution):
    """A :class:`Flow` (with an optional context) as a ``torch.distributions.Distribution``.

    ``sample_shape + batch_shape + event_shape`` as usual; ``batch_shape`` is [B] for a context of B
    rows and [] otherwise, and ``expand`` broadcasts it (as Pyro plates do).

    Arguments:
        flow: the flow model.
        context: [B, C] for conditional flows, else None.

    Example:
        >>> import pyro
        >>> from bayesdl.models.flows import MAF
        >>> d = MAF(2, num_layers=1, hidden_sizes=[8]).distribution()
        >>> x = d.rsample((3,))
        >>> d.log_prob(x).shape
        torch.Size([3])
        >>> with pyro.plate("data", 4):
        ...     pyro.sample("x", d).shape
        torch.Size([4, 2])

    References:
        Papamakarios et al. (2021), "Normalizing Flows for Probabilistic Modeling and Inference", arXiv:1912.02762.
    """

    arg_constraints: dict = {}
    has_rsample = True

    def __init__(
        self, flow: Flow, context: torch.Tensor | None = None, batch_shape: torch.Size | None = None
    ) -> None:
        self.flow = flow
        self.context = context
        if batch_shape is None:
            batch_shape = torch.Size(context.shape[:-1]) if context is not None else torch.Size()
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        super().__init__(torch.Size(batch_shape), torch.Size(flow.event_shape), validate_args=False)

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        return constraints.independent(self.flow.support, len(self.flow.event_shape))

    def expand(self, batch_shape: torch.Size, _instance: object = None) -> FlowDistribution:
        batch_shape = torch.Size(batch_shape)
        context = None
        if self.context is not None:
            context = self.context.expand(*batch_shape, self.context.shape[-1])
        return FlowDistribution(self.flow, context, batch_shape)

    def _flat_context(self, shape: torch.Size) -> torch.Tensor | None:
        if self.context is None:
            return None
        return self.context.expand(*shape, self.context.shape[-1]).reshape(-1, self.context.shape[-1])

    def rsample(self, sample_shape: torch.Size | tuple[int, ...] = ()) -> torch.Tensor:
        shape = torch.Size(sample_shape) + self.batch_shape
        n = max(math.prod(shape), 1)
        context = self._flat_context(shape)
        z = self.flow.base.rsample(n, context)
        x, log_det = self.flow.transform.inverse(z, context)
        log_q = self.flow.base.log_prob(z, context) - log_det
        x = x.reshape(*shape, *self.event_shape)
        self._cache = (x, log_q.reshape(shape))
        return x

    def sample(self, sample_shape: torch.Size | tuple[int, ...] = ()) -> torch.Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape)

    @property
    def mean(self) -> torch.Tensor:
        raise NotImplementedError(
            "a flow has no closed-form mean: use estimate_mean(num_samples), which returns the "
            "Monte Carlo mean with its standard error"
        )

    def entropy(self) -> torch.Tensor:
        raise NotImplementedError(
            "a flow has no closed-form entropy: use estimate_entropy(num_samples), which returns "
            "the Monte Carlo estimate -E[log p(x)] with its standard error"
        )

    def estimate_mean(self, num_samples: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """Monte Carlo E[x] from ``num_samples`` draws: ``(mean, se)``, se = sd / sqrt(n) per coordinate,
        each of shape ``batch_shape + event_shape``."""
        x = self.sample((check_positive_int(num_samples, "num_samples", minimum=2),))
        return x.mean(0), x.std(0) / math.sqrt(num_samples)

    def estimate_entropy(self, num_samples: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """Monte Carlo H = -E[log p(x)] in nats from ``num_samples`` draws: ``(entropy, se)``, se = sd(log p) / sqrt(n),
        each of shape ``batch_shape``."""
        with torch.no_grad():
            log_p = self.log_prob(self.rsample((check_positive_int(num_samples, "num_samples", minimum=2),)))
        return -log_p.mean(0), log_p.std(0) / math.sqrt(num_samples)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._cache is not None and value is self._cache[0]:
            return self._cache[1]
        n_event = len(self.event_shape)
        if tuple(value.shape[value.dim() - n_event :]) != tuple(self.event_shape):
            raise InputError(
                f"value must end with the event shape {tuple(self.event_shape)}, got {tuple(value.shape)}"
            )
        shape = torch.broadcast_shapes(value.shape[: value.dim() - n_event], self.batch_shape)
        flat = value.expand(*shape, *self.event_shape).reshape(-1, *self.event_shape)
        return self.flow.log_prob(flat, self._flat_context(shape)).reshape(shape)
