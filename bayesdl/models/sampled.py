"""A network with a set of parameter draws (SG-MCMC chains, SWAG or Laplace samples) and their predictive."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call

from ..errors import InputError
from ..results import CategoricalDraws, FunctionDraws, GaussianDraws
from ..validation import check_positive_int
from .supervised import evaluation_mode, stack_draws


class SampledNetwork(nn.Module):
    """Bayesian model averaging over stored parameter draws of a supervised model.

    p(y | x, D) ~= (1/S) sum_s p(y | x, theta_s), with theta_s the draws of one or more chains. Each draw is a
    ``{parameter name: tensor}`` dict of the wrapped model; draws may hold only some parameters (the others keep
    the model's values).

    Arguments:
        model: a ``PlainNet`` (or another supervised model with ``net`` and ``likelihood``).
        chains: a list of chains, each a list of draws.
        method: the name of the sampler that made the draws, for ArviZ exports (``predictive_draws``).

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> from bayesdl.models.supervised import PlainNet
        >>> model = PlainNet(MLP(2, [4], 3))
        >>> draws = [{n: p.detach() + 0.1 * torch.randn_like(p) for n, p in model.named_parameters()} for _ in range(5)]
        >>> SampledNetwork(model, [draws]).predictive_samples(torch.randn(6, 2), 5).probs.shape
        torch.Size([5, 6, 3])
    """

    def __init__(
        self, model: nn.Module, chains: Sequence[Sequence[dict[str, torch.Tensor]]], method: str = "sgmcmc"
    ) -> None:
        super().__init__()
        if not hasattr(model, "likelihood") or not hasattr(model, "net"):
            raise InputError(
                f"SampledNetwork needs a supervised model with net and likelihood, got {type(model).__name__}"
            )
        if not chains or any(len(c) == 0 for c in chains):
            raise InputError("chains must hold at least one chain, each with at least one draw")
        lengths = {len(c) for c in chains}
        if len(lengths) != 1:
            raise InputError(f"every chain must hold the same number of draws, got lengths {sorted(lengths)}")
        known = dict(model.named_parameters())
        for draw in chains[0][:1]:
            unknown = [n for n in draw if n not in known]
            if unknown:
                raise InputError(f"draws name parameters the model does not have: {unknown[:5]}")
        self.model = model
        self.chains = [list(c) for c in chains]
        self.method = str(method)

    @property
    def num_chains(self) -> int:
        return len(self.chains)

    @property
    def num_draws(self) -> int:
        return len(self.chains[0])

    def _outputs(self, x: torch.Tensor, draw: dict[str, torch.Tensor]) -> torch.Tensor:
        device = next(self.model.parameters()).device
        params = {n: t.to(device) for n, t in draw.items()}
        return functional_call(self.model, params, (x.to(device),))

    def function_draws(self, x: torch.Tensor) -> torch.Tensor:
        """Raw network outputs of every draw, [chains, draws, B, K] (for function-space R-hat and ESS)."""
        with torch.no_grad(), evaluation_mode(self.model):
            return torch.stack([torch.stack([self._outputs(x, d) for d in chain]) for chain in self.chains])

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int | None = None,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """Every stored draw, kept by chain, with the parameter draws [chains, draws, ...] behind them.

        The chains become ArviZ chains (:func:`bayesdl.diagnostics.predictive_to_inference_data`), so R-hat and
        ESS can be read in function space, where permuted hidden units do not matter.

        Arguments:
            x: inputs [B, ...].
            num_samples: the last ``num_samples`` draws of each chain (None: all of them).
            seed, generator: unused (the draws are stored); accepted for the shared signature.
        """
        keep = (
            self.num_draws
            if num_samples is None
            else min(check_positive_int(num_samples, "num_samples"), self.num_draws)
        )
        chains = [chain[len(chain) - keep :] for chain in self.chains]
        with torch.no_grad(), evaluation_mode(self.model):
            outputs = [self._outputs(x, d) for chain in chains for d in chain]
        draws = stack_draws(self.model.likelihood, outputs)
        names = list(chains[0][0])
        parameters = {n: torch.stack([d[n].detach() for chain in chains for d in chain]) for n in names}
        return FunctionDraws.from_draws(
            draws,
            self.method,
            num_chains=len(chains),
            parameters=parameters,
            bayesian=True,
            note="stored parameter draws of each sampler chain",
        )

    def predictive_samples(self, x: torch.Tensor, num_samples: int) -> GaussianDraws | CategoricalDraws:
        """Predictive draws from up to ``num_samples`` stored draws, spread evenly over the pooled chains."""
        check_positive_int(num_samples, "num_samples")
        pooled = [d for chain in self.chains for d in chain]
        if num_samples < len(pooled):
            index = torch.linspace(0, len(pooled) - 1, num_samples).round().long().tolist()
            pooled = [pooled[i] for i in index]
        with torch.no_grad(), evaluation_mode(self.model):
            outputs = [self._outputs(x, d) for d in pooled]
        return stack_draws(self.model.likelihood, outputs)
