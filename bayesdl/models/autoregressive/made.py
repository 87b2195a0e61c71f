"""MADE as a density model: order-agnostic and connectivity-agnostic training, test-time mixture.

Germain, Gregor, Murray & Larochelle (2015), "MADE: Masked Autoencoder for Distribution
Estimation", arXiv:1502.03509. The masked network itself is :class:`bayesdl.nn.MADENet`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import nn

from ...deprecation import renamed_arguments, renamed_value, sample_call_forms
from ...errors import InputError
from ...io import serializable
from ...nn.heads import RENAMED_DENSITY_HEADS, make_head
from ...nn.made import MADENet
from ...validation import check_choice, check_positive_int, check_tensor, is_checked
from .sampling import check_num_samples, completion_inputs, make_generator

MADELikelihood = Literal["bernoulli", "gaussian", "levels"]
MADE_LIKELIHOODS: tuple[str, ...] = get_args(MADELikelihood)


@renamed_arguments(
    keywords={"num_inputs": "features", "num_categories": "num_levels"},
    values={"likelihood": RENAMED_DENSITY_HEADS},
)
@serializable
class MADE(nn.Module):
    """A MADE density p(x) = (1/M) sum_m prod_d p(x_{o_m(d)} | x_{o_m(<d)}; mask m).

    Each of the M masks pairs an input ordering o_m with hidden-unit degrees. Training visits the
    masks in turn, one per minibatch (order-agnostic training); ``log_prob`` is the exact density
    of the equal-weight mixture of the M autoregressive models, log sum_m exp(log p_m(x)) - log M.
    (Averaging the logits over masks instead would not give a normalised density.)

    Arguments:
        features: D, the data width (``num_inputs`` is its deprecated name).
        hidden_sizes: widths of the hidden layers.
        num_masks: M, the number of orderings/connectivities.
        natural_ordering: use the order 1..D for the first mask (the others are always random).
        likelihood: "bernoulli" (logits; binary data), "gaussian" (mean and log-std; real data) or
            "levels" (integer data in 0..num_levels-1; "categorical" is its deprecated name).
        num_levels: the number of levels of the "levels" likelihood (``num_categories`` is its deprecated name).
        seed: the seed of the random orderings and hidden degrees.

    The training ``loss`` is the NLL under the mask of the current step (its average over masks is
    an upper bound on the mixture NLL, by Jensen's inequality); in evaluation mode (``model.eval()``)
    ``loss`` is the exact mixture NLL.

    Example:
        >>> model = MADE(5, [16], num_masks=2)
        >>> x = model.sample(3, seed=0)
        >>> model.log_prob(x).shape
        torch.Size([3])

    References:
        Germain, Gregor, Murray & Larochelle (2015), arXiv:1502.03509.
    """

    def __init__(
        self,
        features: int,
        hidden_sizes: Sequence[int],
        num_masks: int = 1,
        natural_ordering: bool = False,
        likelihood: MADELikelihood = "bernoulli",
        num_levels: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.features = num_inputs = check_positive_int(features, "features")
        self.num_masks = check_positive_int(num_masks, "num_masks")
        likelihood = check_choice(
            renamed_value(likelihood, "likelihood", RENAMED_DENSITY_HEADS), "likelihood", MADE_LIKELIHOODS
        )
        self.likelihood_name = likelihood
        self.likelihood = make_head(likelihood, num_levels=num_levels, scale="log_std")
        self.seed = seed
        generator = torch.Generator()
        generator.manual_seed(seed)
        # host-side: orderings are drawn on the CPU from a seeded generator, then kept in a buffer
        orderings = torch.stack(
            [torch.randperm(num_inputs, generator=generator, device="cpu") for _ in range(num_masks)]
        )
        if natural_ordering:
            orderings[0] = torch.arange(num_inputs, device="cpu")
        self.register_buffer(
            "orderings", orderings.to(torch.empty(0).device)
        )  # orderings[m, d] = position of input d under mask m
        self.register_buffer(
            "step", torch.zeros((), dtype=torch.long)
        )  # counts training steps (mask schedule)
        self.register_buffer("active_mask", torch.zeros((), dtype=torch.long))  # the mask loaded in self.net
        self.net = MADENet(
            num_inputs,
            list(hidden_sizes),
            num_params=self.likelihood.num_params,
            ordering=orderings[0],
            random_degrees=num_masks > 1,
            seed=seed,
        )

    def use_mask(self, m: int) -> None:
        """Load mask m (its ordering and hidden degrees) into the network."""
        if not 0 <= m < self.num_masks:
            raise InputError(f"mask index must be in 0..{self.num_masks - 1}, got {m}")
        if m != int(self.active_mask):
            self.net.set_ordering(self.orderings[m], seed=self.seed + m)
            self.active_mask.fill_(m)

    @property
    def num_inputs(self) -> int:
        """Deprecated name of :attr:`features`."""
        return self.features

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Raise InputError unless x [B, num_inputs] is valid data for the likelihood; return it as float32.

        A training batch whose rows the trainer validated at the start of ``fit`` is not checked again
        (:func:`bayesdl.validation.is_checked`).
        """
        if not is_checked(x):
            check_tensor(x, name, shape=(None, self.features), finite=False)
            self.likelihood.check(x, name)
        return x.to(self.orderings.device, torch.float32)

    def component_log_prob(self, x: torch.Tensor, m: int) -> torch.Tensor:
        """log p_m(x) under mask m alone, [B]."""
        x = self.check_data(x)
        self.use_mask(m)
        return self._component_log_prob(x)

    def _component_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        params = self.net(self.likelihood.encode(x))
        return self.likelihood.log_prob(params, x, 1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density of the mixture over the M masks, in nats, [B]."""
        x = self.check_data(x)
        if self.num_masks == 1:
            self.use_mask(0)
            return self._component_log_prob(x)
        terms = []
        for m in range(self.num_masks):
            self.use_mask(m)
            terms.append(self._component_log_prob(x))
        return torch.logsumexp(torch.stack(terms), dim=0) - math.log(self.num_masks)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mean NLL: under this step's mask while training, the exact mixture NLL in evaluation mode."""
        if not self.training or self.num_masks == 1:
            return -self.log_prob(x).mean()
        x = self.check_data(x)
        self.use_mask(int(self.step) % self.num_masks)
        self.step += 1
        return -self._component_log_prob(x).mean()

    def _generate(
        self, x: torch.Tensor, observed: torch.Tensor, components: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        for m in range(self.num_masks):
            rows = (components == m).nonzero().squeeze(1)
            if len(rows) == 0:
                continue
            self.use_mask(m)
            xm, om = x[rows], observed[rows]
            for d in torch.argsort(self.orderings[m]).tolist():  # inputs in generation order
                params = self.net(self.likelihood.encode(xm))[:, :, d : d + 1]
                draw = self.likelihood.sample(params, 1, generator)[:, 0]
                xm[:, d] = torch.where(om[:, d], xm[:, d], draw)
            x[rows] = xm
        return x

    def _components(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randint(0, self.num_masks, (n,), generator=generator, device=self.orderings.device)

    @torch.no_grad()
    @sample_call_forms("seed", "generator")
    def sample(
        self, num_samples: int, *, seed: int | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Ancestral samples [num_samples, D] (draws): a mask m ~ Uniform{1..M} per sample, then x in that mask's order.

        ``seed`` or ``generator`` fixes the draws without touching the global generators; with neither, they are fresh.
        """
        n = check_num_samples(num_samples)
        generator = make_generator(seed, generator, self.orderings.device)
        x = torch.zeros(n, self.features, device=self.orderings.device)
        return self._generate(
            x, torch.zeros_like(x, dtype=torch.bool), self._components(n, generator), generator
        )

    @torch.no_grad()
    def complete(
        self,
        x_partial: torch.Tensor,
        mask: torch.Tensor,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Fill in the entries where ``mask`` is False by ancestral sampling in a mask's ordering.

        Each example uses one mask m drawn uniformly. The draw is exact for p_m(x_missing | x_observed)
        when the observed entries come first in o_m (for M = 1 with ``natural_ordering``: a prefix
        x_1..x_k); observed entries that come after a missing one in o_m do not influence it.

        Arguments:
            x_partial: [B, D], valid data where observed (anything, even NaN, where missing).
            mask: bool or 0/1, [B, D] or broadcastable; True = observed.
            seed, generator: the random source.
        """
        x, observed = completion_inputs(x_partial, mask, (self.features,))
        self.likelihood.check(x, "x_partial (observed entries)")
        generator = make_generator(seed, generator, self.orderings.device)
        x, observed = x.to(self.orderings.device), observed.to(self.orderings.device)
        return self._generate(x, observed, self._components(len(x), generator), generator)
