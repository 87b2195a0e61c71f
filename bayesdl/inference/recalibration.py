"""Post-hoc recalibration of classifiers: temperature, vector and matrix scaling fitted on held-out data."""

from __future__ import annotations

import math
from typing import Literal

import torch

from ..errors import InputError
from ..validation import check_labels, check_tensor

Scaling = Literal["temperature", "vector", "matrix"]


def _check_logits_labels(
    logits: object, labels: object, num_classes: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    logits = check_tensor(logits, "logits", ndim=2, floating=True)
    if num_classes is not None and logits.shape[1] != num_classes:
        raise InputError(f"logits must have {num_classes} classes (columns), got {logits.shape[1]}")
    if labels is None:
        return logits, labels  # type: ignore[return-value]
    return logits, check_labels(labels, "labels", logits.shape[0], logits.shape[1])


class Recalibration:
    """An affine map of a classifier's logits, fitted by minimising the NLL on held-out data.

    With logits z in R^C, the calibrated probabilities are softmax(W z + b) where

    - ``"temperature"``: W = I / T, b = 0 (one parameter T > 0; the argmax and accuracy are unchanged);
    - ``"vector"``: W = diag(w), b in R^C (2C parameters);
    - ``"matrix"``: W in R^{C x C}, b in R^C (C^2 + C parameters; needs many held-out points per class).

    The parameters minimise the mean negative log-likelihood on the calibration set, by L-BFGS in float64 (the
    temperature problem is convex in 1/T, the others in (W, b)). ``l2`` adds (l2/2) ||W - I||^2 + (l2/2) ||b||^2
    for vector and matrix scaling, which keeps them stable on small calibration sets.

    For models whose output is an average of probabilities (MC dropout, ensembles, BNNs) pass ``probs.log()``
    as the logits: the softmax of log-probabilities returns the probabilities, so T = 1 is the identity.

    Arguments:
        scaling: which affine family to fit.
        l2: the ridge penalty for vector and matrix scaling (ignored for temperature scaling).
        max_iter: L-BFGS iterations.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> true_logits = 2 * torch.randn(2000, 3, generator=g)
        >>> labels = torch.multinomial(true_logits.softmax(-1), 1, generator=g).squeeze(1)
        >>> scaler = Recalibration("temperature").fit(3 * true_logits, labels)   # over-confident by 3x
        >>> 2.5 < scaler.temperature < 3.5
        True

    References:
        Guo, Pleiss, Sun & Weinberger (2017), On Calibration of Modern Neural Networks, arXiv:1706.04599 (temperature,
        vector and matrix scaling); Platt (1999), Probabilistic outputs for support vector machines.
    """

    def __init__(self, scaling: Scaling = "temperature", l2: float = 0.0, max_iter: int = 200) -> None:
        if scaling not in ("temperature", "vector", "matrix"):
            raise InputError(f"scaling must be 'temperature', 'vector' or 'matrix', got {scaling!r}")
        if not (isinstance(l2, (int, float)) and math.isfinite(l2) and l2 >= 0):
            raise InputError(f"l2 must be a finite number >= 0, got {l2!r}")
        self.scaling = scaling
        self.l2 = float(l2)
        self.max_iter = int(max_iter)
        self.weight_: torch.Tensor | None = None
        self.bias_: torch.Tensor | None = None
        self.num_classes_: int | None = None

    def _unpack(self, theta: torch.Tensor, c: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.scaling == "temperature":
            return torch.exp(-theta[0]) * torch.eye(c, dtype=theta.dtype), torch.zeros(c, dtype=theta.dtype)
        if self.scaling == "vector":
            return torch.diag(theta[:c]), theta[c:]
        return theta[: c * c].reshape(c, c), theta[c * c :]

    def _initial(self, c: int) -> torch.Tensor:
        if self.scaling == "temperature":
            return torch.zeros(1, dtype=torch.float64)  # log T = 0
        if self.scaling == "vector":
            return torch.cat([torch.ones(c), torch.zeros(c)]).double()
        return torch.cat([torch.eye(c).flatten(), torch.zeros(c)]).double()

    def _objective(self, theta: torch.Tensor, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        c = z.shape[1]
        weight, bias = self._unpack(theta, c)
        loss = torch.nn.functional.cross_entropy(z @ weight.T + bias, y)
        if self.scaling != "temperature" and self.l2 > 0:
            loss = loss + 0.5 * self.l2 * (
                ((weight - torch.eye(c, dtype=z.dtype)) ** 2).sum() + (bias**2).sum()
            )
        return loss

    def fit(self, logits: torch.Tensor, labels: torch.Tensor) -> Recalibration:
        """Fit the map on held-out logits [N, C] and integer labels [N]; returns ``self``."""
        z, y = _check_logits_labels(logits, labels)
        z, y = z.detach().double().cpu(), y.cpu()
        c = z.shape[1]
        theta = self._initial(c).requires_grad_(True)
        optimizer = torch.optim.LBFGS(
            [theta],
            lr=1.0,
            max_iter=self.max_iter,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-10,
            tolerance_change=1e-12,
        )

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = self._objective(theta, z, y)
            loss.backward()
            return loss

        optimizer.step(closure)
        if not torch.isfinite(theta).all():
            raise InputError("recalibration did not converge: the fitted parameters are not finite")
        self._theta = theta.detach()
        weight, bias = self._unpack(self._theta, c)
        self.weight_, self.bias_, self.num_classes_ = weight, bias, c
        self._fit_size = z.shape[0]
        self._z, self._y = z, y
        return self

    def _check_fitted(self) -> None:
        if self.weight_ is None:
            raise InputError(
                "this Recalibration is not fitted yet: call fit(logits, labels) on held-out data first"
            )

    @property
    def temperature(self) -> float:
        """The fitted temperature T (temperature scaling only)."""
        self._check_fitted()
        if self.scaling != "temperature":
            raise InputError(f"temperature is defined for scaling='temperature', not {self.scaling!r}")
        return float(torch.exp(self._theta[0]))

    def temperature_stderr(self) -> float:
        """Asymptotic standard error of the fitted T from the observed Fisher information of the calibration NLL.

        With l(log T) the summed NLL, se(log T) = 1 / sqrt(l''), and by the delta method se(T) = T se(log T).
        """
        t = self.temperature
        theta = self._theta.clone().requires_grad_(True)
        total = self._objective(theta, self._z, self._y) * self._fit_size
        (grad,) = torch.autograd.grad(total, theta, create_graph=True)
        (hess,) = torch.autograd.grad(grad.sum(), theta)
        return t / math.sqrt(float(hess[0]))

    def transform(self, logits: torch.Tensor) -> torch.Tensor:
        """Calibrated logits W z + b, [N, C], in the input's dtype and on its device."""
        self._check_fitted()
        z, _ = _check_logits_labels(logits, None, self.num_classes_)
        weight = self.weight_.to(device=z.device, dtype=z.dtype)
        bias = self.bias_.to(device=z.device, dtype=z.dtype)
        return z @ weight.T + bias

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        """Calibrated class probabilities softmax(W z + b), [N, C]."""
        return self.transform(logits).softmax(-1)
