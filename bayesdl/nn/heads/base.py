"""The output-head interface: how a network's raw outputs become a distribution over the data or the targets."""

from __future__ import annotations

import pyro.distributions as dist
import torch
from torch import nn

from ...errors import InputError
from ...validation import check_tensor, is_checked


class Head(nn.Module):
    """An output head: ``num_params`` raw network outputs per data dimension define p(y | params).

    Parameters are laid out ``[..., P, *event_shape]`` with P = :attr:`num_params` on the axis just before the
    ``event_ndim`` event dimensions, and data ``y`` are ``[..., *event_shape]``:

    * a classifier or a regression net: outputs [B, P], targets [B], ``event_ndim=0``;
    * MADE and NADE: [B, P, D] and [B, D], ``event_ndim=1`` (PixelCNN flattens the pixels the same way);
    * a VAE decoder: [S, B, P, C, H, W] and [B, C, H, W] (broadcast), ``event_ndim=3``.

    A subclass sets :attr:`num_params` and implements :meth:`base_distribution` and :meth:`sample`, and
    :meth:`log_prob_elements` when a direct formula is faster than the distribution's ``log_prob``. It overrides :meth:`check` when its support is narrower than "any finite number", and
    :meth:`encode` when the network reads the data on another scale. The base class takes no constructor
    arguments.

    Attributes:
        num_params: P, the raw outputs the network must emit per data dimension.
        kind: "classification", "regression" or "density" (what the supervised models and Laplace dispatch on).

    Example:
        >>> class LaplaceHead(Head):  # location and log-scale per dimension
        ...     num_params = 2
        ...     def base_distribution(self, params, event_ndim):
        ...         loc, log_scale = params.unbind(-event_ndim - 1)
        ...         return dist.Laplace(loc, log_scale.exp())
        >>> head = LaplaceHead()
        >>> head.log_prob(torch.zeros(4, 2, 3), torch.zeros(4, 3), 1)  # 3 log(1/2) per example
        tensor([-2.0794, -2.0794, -2.0794, -2.0794])
        >>> head.distribution(torch.zeros(4, 2, 3), 1).event_shape
        torch.Size([3])
    """

    #: the raw outputs the network must emit per data dimension
    num_params: int = 1
    kind: str = "density"

    @property
    def num_outputs(self) -> int:
        """P, as the supervised models call it (the width of a net's output layer for one target)."""
        return self.num_params

    # ------------------------------------------------------------------ data
    def check(self, y: torch.Tensor, name: str = "y") -> torch.Tensor:
        """Raise InputError unless ``y`` holds valid values for this head (finite numbers by default); return ``y``.

        Models check shapes themselves and leave values to this method, so the common case costs one pass.

        Arguments:
            y: the data or targets.
            name: the argument name used in error messages.
        """
        check_tensor(y, name, floating=False)
        return y

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """:meth:`check` under the name the VAE decoders call (a head written for them may override this)."""
        return self.check(x, name)

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        """The float network input that represents data ``y`` (autoregressive models feed their data back)."""
        return y.float()

    # ------------------------------------------------------------------ the distribution
    def log_prob_elements(self, params: torch.Tensor, y: torch.Tensor, event_ndim: int) -> torch.Tensor:
        """Elementwise log p(y_d | params_d) in nats, of the broadcast shape ``[..., *event_shape]``.

        Arguments:
            params: raw outputs [..., P, *event_shape].
            y: data [..., *event_shape] (broadcastable).
            event_ndim: the number of event dimensions.
        """
        return self.base_distribution(params, event_ndim).log_prob(y)

    def log_prob(self, params: torch.Tensor, y: torch.Tensor, event_ndim: int) -> torch.Tensor:
        """log p(y | params) in nats per example: :meth:`log_prob_elements` summed over the event dimensions.

        The same number as ``distribution(params, event_ndim).log_prob(y)``, without building the distribution.

        Arguments:
            params: raw outputs [..., P, *event_shape].
            y: data [..., *event_shape] (broadcastable).
            event_ndim: the number of event dimensions (0 for one target per example).

        Returns:
            A tensor of shape ``[...]``.
        """
        cls = type(self)
        if cls.log_prob_elements is Head.log_prob_elements and cls.distribution is not Head.distribution:
            return self.distribution(params, event_ndim).log_prob(
                y
            )  # a head written against the old VAE interface
        elements = self.log_prob_elements(params, y, event_ndim)
        return elements if event_ndim == 0 else elements.flatten(-event_ndim).sum(-1)

    def base_distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        """The distribution of each data dimension, batch shape ``[..., *event_shape]``.

        Arguments:
            params: raw outputs [..., P, *event_shape].
            event_ndim: the number of event dimensions.
        """
        raise NotImplementedError

    def distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        """p(y | params) as a Pyro/torch distribution with event shape ``params.shape[-event_ndim:]``.

        Torch's per-call argument checks are off: data are checked by :meth:`check`, and the parameters are
        valid by construction.

        Arguments:
            params: raw outputs [..., P, *event_shape].
            event_ndim: the number of event dimensions.
        """
        base = self.base_distribution(params, event_ndim)
        return base if event_ndim == 0 else dist.Independent(base, event_ndim, validate_args=False)

    def sample(self, params: torch.Tensor, event_ndim: int, generator: torch.Generator) -> torch.Tensor:
        """One draw per data dimension, ``[..., *event_shape]`` (float), using only ``generator``.

        Arguments:
            params: raw outputs [..., P, *event_shape].
            event_ndim: the number of event dimensions.
            generator: the random-number generator.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ supervised use: one target per example
    def check_outputs(self, outputs: torch.Tensor) -> None:
        """Raise InputError unless ``outputs`` has shape [B, num_params] (one target per example).

        Arguments:
            outputs: raw network outputs.
        """
        if outputs.dim() != 2 or outputs.shape[1] != self.num_params:
            raise InputError(
                f"{type(self).__name__} needs network outputs [B, {self.num_params}], got {list(outputs.shape)}"
            )

    def check_target(self, y: torch.Tensor) -> None:
        """Raise InputError unless ``y`` holds one valid target per example, shape [B].

        Arguments:
            y: the targets; a batch the trainer validated at the start of ``fit`` is not checked again.
        """
        if is_checked(y):
            return
        check_tensor(
            y, "y", ndim=1, finite=False, nonempty=False
        )  # the shape; values are the head's to check
        self.check(y, "y")

    def nll(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The negative log-likelihood of each example, -log p(y_b | outputs_b).

        Arguments:
            outputs: raw network outputs [B, num_params].
            y: targets [B].

        Returns:
            NLL in nats per example, shape [B].
        """
        self.check_outputs(outputs)
        self.check_target(y)
        if len(y) != len(outputs):
            raise InputError(f"y has {len(y)} entries but the batch has {len(outputs)}")
        return -self.log_prob_elements(outputs, y, 0)
