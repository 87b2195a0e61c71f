"""Class-conditional DDPM with classifier-free guidance (Ho & Salimans 2022)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ...errors import InputError
from ...io import serializable
from ...validation import check_labels, check_positive_int, check_tensor
from .ddpm import DDPM
from .guidance import GuidedProcess


@serializable
class ConditionalDDPM(DDPM):
    """A DDPM whose denoiser eps_theta(x_t, t, y) also sees a class label, with classifier-free guidance.

    One network models both p(x | y) and p(x): in training, each label is replaced by the null label
    K (the unconditional model) with probability ``p_uncond``, so the loss is the DDPM loss at
    c = y with probability 1 - p_uncond and c = null otherwise (Ho & Salimans 2022, Algorithm 1).
    Guided sampling uses, at every step, the guided noise estimate

        eps_w(x_t, y) = (1 + w) eps_theta(x_t, t, y) - w eps_theta(x_t, t, null),

    i.e. the score of p(x_t | y) p(y | x_t)^w under the implicit classifier
    p(y | x_t) proportional to p(x_t | y) / p(x_t): w = 0 is plain conditional sampling, and larger w
    trades diversity for samples that are more typical of their class (Ho & Salimans 2022, eq. 6;
    Algorithm 2). The guided step is the DDPM step at eps_w for every ``prediction``, see
    :class:`~bayesdl.models.diffusion.guidance.GuidedProcess`. Guided samples (w > 0) come from no
    normalised model, so :meth:`nll_bound` is always the bound on -log p(x_0 | y) of the conditional
    model (w = 0), or on -log p(x_0) of the unconditional one when ``y`` is None.

    Why a subclass and not a ``num_classes=`` option on DDPM: the conditional model differs from DDPM only
    in what it feeds the network (the labels, dropped in training) and in the process the samplers run
    (:meth:`conditioned`); every formula of the DDPM stays in one place, and an unconditional DDPM keeps
    its signatures without label checks. DDPM's ``sample``, ``ddim_sample``, ``complete`` and ``nll_bound``
    call :meth:`conditioned`, which a DDPM answers with itself (refusing ``y`` and ``guidance``) and this
    class with a :class:`~bayesdl.models.diffusion.guidance.GuidedProcess`.

    Everything else (schedules, predictions, variances, decoders, losses, the bound, DDIM, inpainting
    with :meth:`complete`) is the :class:`~bayesdl.models.diffusion.DDPM` of the same options; the
    methods take ``y`` (one int or labels [B] in 0..K-1; None for the unconditional model) and
    ``guidance`` (w >= 0; default 0).

    Arguments:
        denoiser: a module ``denoiser(x_t, t, y) -> output`` with labels y in 0..K, K the null label, e.g.
            ``DenoisingMLP(D, num_classes=K)`` or ``UNet(C, num_classes=K)``.
        num_classes: K.
        p_uncond: the probability of the null label in training (0.1 or 0.2 in Ho & Salimans); with 0
            the unconditional model is never trained, and guidance and y=None are refused.
        **options: the options of :class:`~bayesdl.models.diffusion.DDPM` (data_shape, num_steps,
            schedule, prediction, variance, decoder, num_levels, loss, timesteps, hybrid_weight).

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> model = ConditionalDDPM(DenoisingMLP(2, hidden=16, num_classes=3), num_classes=3, data_shape=[2], num_steps=20)
        >>> x0, y = torch.randn(8, 2), torch.randint(0, 3, (8,))
        >>> model.loss(x0, y).shape, model.sample(4, y=2, guidance=1.5, seed=0).shape
        (torch.Size([]), torch.Size([4, 2]))
        >>> model.nll_bound(x0, y=y, seed=0).shape
        torch.Size([8])

    References:
        Ho & Salimans (2022), Classifier-Free Diffusion Guidance, arXiv:2207.12598.
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239.
    """

    #: check_data validates (x0, y): see bayesdl.contracts.check_data_arity
    data_arguments = 2

    def __init__(
        self, denoiser: torch.nn.Module, num_classes: int, p_uncond: float = 0.1, **options: Any
    ) -> None:
        super().__init__(denoiser, **options)
        self.num_classes = check_positive_int(num_classes, "num_classes")
        own = getattr(denoiser, "num_classes", None)
        if own is not None and own != self.num_classes:
            raise InputError(
                f"denoiser has num_classes={own} but num_classes={self.num_classes}; build the denoiser with "
                f"num_classes={self.num_classes}"
            )
        if isinstance(p_uncond, bool) or not isinstance(p_uncond, (int, float)) or not 0.0 <= p_uncond < 1.0:
            raise InputError(f"p_uncond must be a probability in [0, 1), got {p_uncond!r}")
        self.p_uncond = float(p_uncond)

    @property
    def null_label(self) -> int:
        """K, the label of the unconditional model."""
        return self.num_classes

    # ------------------------------------------------------------------ labels
    def check_labels(self, y: object, n: int, name: str = "y") -> torch.Tensor:
        """Labels as int64 [n] on the model's device: one int (for all n) or an integer tensor [n] in 0..K-1."""
        if isinstance(y, bool) or not isinstance(y, (int, torch.Tensor)):
            raise InputError(
                f"{name} must be an int or an integer tensor of shape [{n}], got {type(y).__name__}"
            )
        if isinstance(y, int):
            y = torch.full((n,), y, dtype=torch.long, device=self.betas.device)
        check_labels(y, name, n, self.num_classes)
        return y.to(self.betas.device, torch.long)

    def check_data(self, x0: torch.Tensor, y: torch.Tensor) -> None:
        """Raise InputError unless ``x0`` is valid data and ``y`` valid labels for it (the trainer calls this once)."""
        self._check_data(x0)
        check_tensor(y, "y", ndim=1)
        if len(y) != len(x0):
            raise InputError(f"x0 and y must have the same number of rows, got {len(x0)} and {len(y)}")
        self.check_labels(y, len(x0))

    def drop_labels(self, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Each label replaced by the null label K with probability ``p_uncond`` (independently), as in training."""
        drop = torch.rand(y.shape, generator=generator, device=y.device) < self.p_uncond
        return torch.where(drop, torch.full_like(y, self.null_label), y)

    # ------------------------------------------------------------------ training
    def loss(self, x0: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """The DDPM training loss on (x0, y), with the labels dropped to the null label at rate ``p_uncond``."""
        labels = self.drop_labels(self.check_labels(y, len(x0)))
        return self._loss(x0, lambda x_t, t: self.denoiser(x_t, t, labels))

    # ------------------------------------------------------------------ conditioning
    def conditioned(
        self, n: int, y: int | torch.Tensor | None = None, guidance: float | None = None
    ) -> GuidedProcess:
        """The reverse process at labels ``y`` (None: the unconditional model) with guidance scale w = ``guidance``."""
        w = 0.0 if guidance is None else guidance
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise InputError(f"guidance must be a finite number >= 0 (the scale w), got {guidance!r}")
        if self.p_uncond == 0.0 and (w != 0.0 or y is None):
            raise InputError(
                "guidance and y=None need the unconditional model, which a ConditionalDDPM trained with p_uncond=0 "
                "does not have; train with p_uncond > 0 (e.g. 0.1)"
            )
        if y is None:
            if w != 0.0:
                raise InputError("guidance needs labels y: it steers samples towards their class")
            labels = torch.full((n,), self.null_label, dtype=torch.long, device=self.betas.device)
        else:
            labels = self.check_labels(y, n)
        return GuidedProcess(self, labels, float(w))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, p_uncond={self.p_uncond}, " + super().extra_repr()
