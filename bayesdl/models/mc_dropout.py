"""MC dropout: dropout kept active at prediction time as approximate Bayesian inference (Gal & Ghahramani 2016).

Training a network with dropout and L2 weight decay lambda approximately minimises KL(q || p(w | D)) for a
Bernoulli variational family. Predictions average T stochastic forward passes. For regression with a fixed
Gaussian likelihood, the model precision is tau = l^2 (1 - p) / (2 N lambda) (p = dropout probability,
l = prior length-scale; Gal & Ghahramani 2016, sec. 4; this is the keep-probability form of their
eq. for tau), and the predictive variance is Var_t[f_t(x)] + 1/tau. A learned homoscedastic or
heteroscedastic noise head can take the place of the fixed 1/tau.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InputError
from ..io import serializable
from .supervised import SupervisedModel, evaluation_mode


def model_precision(length_scale: float, dropout: float, num_data: int, weight_decay: float) -> float:
    """tau = l^2 (1 - p) / (2 N lambda): the MC-dropout model precision for regression.

    Example:
        >>> model_precision(length_scale=1.0, dropout=0.5, num_data=100, weight_decay=1e-4)
        25.0

    References:
        Gal & Ghahramani (2016), Dropout as a Bayesian Approximation, arXiv:1506.02142, sec. 4.
    """
    if not (length_scale > 0 and 0 <= dropout < 1 and num_data >= 1 and weight_decay > 0):
        raise InputError(
            "model_precision needs length_scale > 0, dropout in [0, 1), num_data >= 1, weight_decay > 0"
        )
    return length_scale**2 * (1.0 - dropout) / (2.0 * num_data * weight_decay)


@serializable
class MCDropout(SupervisedModel):
    """A network with dropout layers whose dropout stays on at prediction time; each draw is one dropout mask.

    Train it with ``Trainer(model, optimizer_kwargs={"weight_decay": lambda})`` (the L2 term of the objective).
    For regression, pass ``tau`` (see :func:`model_precision`) to fix the noise variance at 1/tau, or leave it
    None to learn the noise ("homoscedastic") or predict it ("heteroscedastic").

    Arguments:
        net: a network that contains ``nn.Dropout`` layers (e.g. ``MLP(..., dropout=0.1)``).
        likelihood: "categorical", "heteroscedastic" or "homoscedastic".
        tau: the model precision for a homoscedastic likelihood with fixed noise 1/tau.
        noise_std, learn_noise: the homoscedastic head's initial sd and whether it is learned (ignored with tau).

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> model = MCDropout(MLP(1, [32], 1, dropout=0.2), likelihood="homoscedastic", tau=25.0)
        >>> draws = model.predictive_samples(torch.randn(6, 1), num_samples=8)
        >>> draws.means.shape, round(draws.noise_variances[0, 0].item(), 3)
        (torch.Size([8, 6]), 0.04)

    References:
        Gal & Ghahramani (2016), Dropout as a Bayesian Approximation, arXiv:1506.02142.
    """

    method_name = "mc_dropout"
    draw_note = "one dropout mask per draw; not a draw of a weight posterior (Gal & Ghahramani read it as variational)"

    def __init__(
        self,
        net: nn.Module,
        likelihood: str = "categorical",
        tau: float | None = None,
        noise_std: float = 1.0,
        learn_noise: bool = True,
    ) -> None:
        super().__init__()
        if not any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in net.modules()):
            raise InputError(
                f"MC dropout needs a network with dropout layers (p > 0); {type(net).__name__} has none"
            )
        if tau is not None:
            if likelihood != "homoscedastic" or not tau > 0:
                raise InputError(
                    "tau (> 0) fixes the noise of a 'homoscedastic' likelihood; use it only with that"
                )
            noise_std, learn_noise = float(tau) ** -0.5, False
        self.tau = tau
        self.net = net
        self._build(net, likelihood, noise_std, learn_noise)

    def _draw_outputs(self, x: torch.Tensor, num_samples: int) -> list[torch.Tensor]:
        with evaluation_mode(self, keep_dropout=True):
            return [self.net(x) for _ in range(num_samples)]
