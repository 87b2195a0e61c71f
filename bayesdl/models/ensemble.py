"""Deep ensembles: M independently initialised networks, each trained by the shared trainer (Lakshminarayanan et al. 2017).

The predictive distribution is the uniform mixture of the members' predictives. With heteroscedastic members
the law of total variance splits its variance into the spread of the member means (epistemic) and the mean of
the member noise variances (aleatoric), which is the paper's mixture moment matching (sec. 2.4).
Adversarial training (sec. 2.3 of the paper) is not implemented.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..deprecation import warn_deprecated
from ..io import serializable
from ..results.function_draws import FunctionDraws
from ..results.predictive import CategoricalDraws, GaussianDraws
from ..validation import check_positive_int
from .nets import check_input
from .supervised import PlainNet, evaluation_mode, stack_draws


def reinitialise(net: nn.Module, seed: int) -> nn.Module:
    """A copy of ``net`` with every layer that has ``reset_parameters`` freshly initialised from ``seed``."""
    fresh = copy.deepcopy(net)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in fresh.modules():
            if module is not fresh and callable(getattr(module, "reset_parameters", None)):
                module.reset_parameters()
    return fresh


@serializable
class DeepEnsemble(nn.Module):
    """An ensemble of M copies of ``net``, each independently initialised and trained.

    Arguments:
        net: the member architecture (copied M times and re-initialised with seeds seed, seed+1, ...).
        num_members: M.
        likelihood: "categorical", "heteroscedastic" (the paper's proper scoring rule for regression) or
            "homoscedastic".
        seed: the initialisation seed of the first member.

    :func:`bayesdl.inference.fit_ensemble` trains member m with ``Trainer(member, seed=seed + m, ...)``, so
    members also see different batch orders (``ensemble.fit`` is a deprecated alias); ``Trainer(ensemble)``
    trains the sum of the members' losses on shared batches. ``predictive_samples(x, num_samples)`` returns one draw per member (the
    ensemble is a uniform mixture; ``num_samples`` only has to be >= 1).

    Example:
        >>> from bayesdl.inference import fit_ensemble
        >>> from bayesdl.models.nets import MLP
        >>> ens = DeepEnsemble(MLP(1, [16], 2), num_members=3, likelihood="heteroscedastic")
        >>> x, y = torch.randn(40, 1), torch.randn(40)
        >>> _ = fit_ensemble(ens, (x, y), epochs=2, progress=False, device="cpu")
        >>> ens.predictive_samples(x, num_samples=1).means.shape
        torch.Size([3, 40])

    References:
        Lakshminarayanan, Pritzel & Blundell (2017), Simple and Scalable Predictive Uncertainty Estimation
        using Deep Ensembles, arXiv:1612.01474.
    """

    def __init__(
        self,
        net: nn.Module,
        num_members: int = 5,
        likelihood: str = "categorical",
        seed: int = 0,
        noise_std: float = 1.0,
        learn_noise: bool = True,
    ) -> None:
        super().__init__()
        check_positive_int(num_members, "num_members")
        self.seed = int(seed)
        self.members = nn.ModuleList(
            PlainNet(reinitialise(net, self.seed + m), likelihood, noise_std, learn_noise)
            for m in range(num_members)
        )
        self.likelihood = self.members[0].likelihood

    def fit(self, data: Any, val_data: Any = None, **trainer_kwargs: Any) -> list[Any]:
        """Deprecated alias of ``bayesdl.inference.fit_ensemble(ensemble, data, ...)``."""
        warn_deprecated("DeepEnsemble.fit(data, ...)", "bayesdl.inference.fit_ensemble(ensemble, data, ...)")
        # deprecated shim: allowed in tests/test_layers.py until 0.3
        from ..inference.recipes import fit_ensemble

        return fit_ensemble(self, data, val_data=val_data, **trainer_kwargs)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The sum over members of their mean NLLs (training all members jointly on the same batches)."""
        return sum(member.loss(x, y) for member in self.members)

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """The M members as one chain of M draws (``num_samples``, ``seed`` and ``generator`` change nothing).

        The members are not posterior draws (``bayesian=False``), so LOO over them scores the equal-weight mixture.
        """
        with torch.no_grad():
            draws = self.predictive_samples(x, num_samples)
        return FunctionDraws.from_draws(
            draws,
            "ensemble",
            bayesian=False,
            note="one independently trained member per draw; not posterior draws",
        )

    def predictive_samples(self, x: torch.Tensor, num_samples: int) -> GaussianDraws | CategoricalDraws:
        """One predictive draw per member (M draws)."""
        check_positive_int(num_samples, "num_samples")
        check_input(self.members[0].net, x)
        outputs = []
        for member in self.members:
            with evaluation_mode(member):
                outputs.append(member.net(x))
        return stack_draws(self.likelihood, outputs)
