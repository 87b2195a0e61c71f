"""Posterior precision structures of a Laplace approximation: H + delta I for a curvature H of four shapes.

Each structure holds the curvature H (a GGN or empirical Fisher summed over the training data) in a factorised
form and answers, for an isotropic prior precision delta, what the Laplace approximation needs:
log det(s H + delta I) (s rescales the curvature when the regression noise changes), draws from N(0, (H + delta I)^{-1}), and the functional covariance J (H + delta I)^{-1} J^T
of per-example Jacobians J [B, C, P] of the network outputs with respect to the covered parameters.
"""

from __future__ import annotations

import math

import torch

from ...errors import InputError


def stored(
    state: dict[str, torch.Tensor], name: str, shape: tuple[int, ...] | None, dtype: torch.dtype
) -> torch.Tensor:
    """``state[name]`` after checking that it exists, is finite and has ``shape`` (None: any 1-D or 2-D) and ``dtype``."""
    value = state.get(name)
    if not isinstance(value, torch.Tensor):
        raise InputError(f"the fitted state lacks {name!r}")
    if (shape is not None and tuple(value.shape) != tuple(shape)) or value.dtype != dtype:
        raise InputError(
            f"{name!r} is {value.dtype} {list(value.shape)}, expected {dtype} {list(shape or [])}"
        )
    if not bool(torch.isfinite(value).all()):
        raise InputError(f"{name!r} holds NaN or infinite values")
    return value


class DiagonalPrecision:
    """H = diag(h): one curvature value per parameter."""

    def __init__(self, diagonal: torch.Tensor) -> None:
        self.diagonal = diagonal.contiguous()

    def state(self) -> dict[str, torch.Tensor]:
        return {"diagonal": self.diagonal}

    @classmethod
    def from_state(
        cls, state: dict[str, torch.Tensor], num_params: int, dtype: torch.dtype
    ) -> DiagonalPrecision:
        return cls(stored(state, "diagonal", (num_params,), dtype))

    @property
    def num_params(self) -> int:
        return self.diagonal.numel()

    def log_det(self, delta: torch.Tensor, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
        return torch.log(scale * self.diagonal + delta).sum()

    def sample(self, num_samples: int, delta: float, generator: torch.Generator | None) -> torch.Tensor:
        eps = torch.randn(
            num_samples,
            self.num_params,
            generator=generator,
            dtype=self.diagonal.dtype,
            device=self.diagonal.device,
        )
        return eps / torch.sqrt(self.diagonal + delta)

    def functional_covariance(self, jacobian: torch.Tensor, delta: float) -> torch.Tensor:
        return torch.einsum("bcp,p,bdp->bcd", jacobian, 1.0 / (self.diagonal + delta), jacobian)


class EigenPrecision:
    """H = V diag(lambda) V^T: the full matrix (all P eigenpairs) or a rank-k truncation (k < P eigenpairs).

    With k < P the remaining directions carry no curvature, so the posterior there is the prior:
    (H + delta I)^{-1} = V diag(1 / (lambda + delta)) V^T + (I - V V^T) / delta.
    """

    def __init__(self, eigenvalues: torch.Tensor, eigenvectors: torch.Tensor) -> None:
        self.eigenvalues = eigenvalues.clamp_min(0.0)  # a GGN is PSD; clamp rounding below zero
        # row-major (eigh returns column-major): products then round the same way after a save/load round trip
        self.eigenvectors = eigenvectors.contiguous()  # [P, k]

    def state(self) -> dict[str, torch.Tensor]:
        return {"eigenvalues": self.eigenvalues, "eigenvectors": self.eigenvectors}

    @classmethod
    def from_state(
        cls, state: dict[str, torch.Tensor], num_params: int, dtype: torch.dtype
    ) -> EigenPrecision:
        values = state.get("eigenvalues")
        rank = values.shape[0] if isinstance(values, torch.Tensor) and values.dim() == 1 else -1
        if not 1 <= rank <= num_params:
            raise InputError(f"'eigenvalues' must be a vector of 1 to {num_params} values")
        return cls(
            stored(state, "eigenvalues", (rank,), dtype),
            stored(state, "eigenvectors", (num_params, rank), dtype),
        )

    @property
    def num_params(self) -> int:
        return self.eigenvectors.shape[0]

    @property
    def rank(self) -> int:
        return self.eigenvectors.shape[1]

    def log_det(self, delta: torch.Tensor, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
        return torch.log(scale * self.eigenvalues + delta).sum() + (self.num_params - self.rank) * torch.log(
            torch.as_tensor(delta)
        )

    def sample(self, num_samples: int, delta: float, generator: torch.Generator | None) -> torch.Tensor:
        v = self.eigenvectors
        eps = torch.randn(num_samples, self.num_params, generator=generator, dtype=v.dtype, device=v.device)
        along = eps @ v  # [S, k]
        out = (along / torch.sqrt(self.eigenvalues + delta)) @ v.T
        if self.rank < self.num_params:
            out = out + (eps - along @ v.T) / math.sqrt(delta)
        return out

    def functional_covariance(self, jacobian: torch.Tensor, delta: float) -> torch.Tensor:
        projected = jacobian @ self.eigenvectors  # [B, C, k]
        cov = torch.einsum("bck,k,bdk->bcd", projected, 1.0 / (self.eigenvalues + delta), projected)
        if self.rank < self.num_params:
            cov = (
                cov
                + (
                    torch.einsum("bcp,bdp->bcd", jacobian, jacobian)
                    - torch.einsum("bck,bdk->bcd", projected, projected)
                )
                / delta
            )
        return cov


class KroneckerPrecision:
    """A block-diagonal H with one Kronecker-factored block G_l (x) A_l per linear layer (KFAC).

    For a layer with weight W [out, in] and bias b, the block over vec([W, b]) (row-major) is approximated by
    G (x) A with A = (1/N) sum_n a~_n a~_n^T over the layer inputs a~ = [a, 1], and G = sum_n sum_c g_nc g_nc^T over
    the gradients of the output-Hessian square-root columns with respect to the layer outputs. With the
    eigendecompositions A = U_A diag(a) U_A^T and G = U_G diag(g) U_G^T, the block of H + delta I has eigenvalues
    g_p a_q + delta and eigenvectors U_G (x) U_A (Martens & Grosse 2015, arXiv:1503.05671; Ritter, Botev & Barber
    2018, "A Scalable Laplace Approximation for Neural Networks", ICLR).
    """

    def __init__(
        self,
        blocks: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]],
        shapes: list[tuple[int, int, bool]],
    ) -> None:
        self.blocks = [
            tuple(t.contiguous() for t in block) for block in blocks
        ]  # per layer: (g, U_G, a, U_A), row-major
        self.shapes = shapes  # per layer: (out, in, has_bias)

    def state(self) -> dict[str, torch.Tensor]:
        names = ("g", "ug", "a", "ua")
        return {f"kron{k}_{n}": t for k, block in enumerate(self.blocks) for n, t in zip(names, block)}

    @classmethod
    def from_state(
        cls, state: dict[str, torch.Tensor], shapes: list[tuple[int, int, bool]], dtype: torch.dtype
    ) -> KroneckerPrecision:
        blocks = []
        for k, (out, inp, has_bias) in enumerate(shapes):
            width = inp + int(has_bias)
            blocks.append(
                (
                    stored(state, f"kron{k}_g", (out,), dtype),
                    stored(state, f"kron{k}_ug", (out, out), dtype),
                    stored(state, f"kron{k}_a", (width,), dtype),
                    stored(state, f"kron{k}_ua", (width, width), dtype),
                )
            )
        return cls(blocks, shapes)

    @property
    def num_params(self) -> int:
        return sum(o * (i + int(b)) for o, i, b in self.shapes)

    def _eigenvalues(self, index: int) -> torch.Tensor:
        g, _, a, _ = self.blocks[index]
        return g[:, None] * a[None, :]

    def log_det(self, delta: torch.Tensor, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
        return sum(torch.log(scale * self._eigenvalues(k) + delta).sum() for k in range(len(self.blocks)))

    def sample(self, num_samples: int, delta: float, generator: torch.Generator | None) -> torch.Tensor:
        parts = []
        for k, ((_, u_g, _, u_a), (out, inp, has_bias)) in enumerate(zip(self.blocks, self.shapes)):
            eps = torch.randn(
                num_samples, out, u_a.shape[0], generator=generator, dtype=u_g.dtype, device=u_g.device
            )
            block = u_g @ (eps / torch.sqrt(self._eigenvalues(k) + delta)) @ u_a.T  # [S, out, in (+1)]
            parts.append(self._flatten(block, inp, has_bias))
        return torch.cat(parts, dim=-1)

    @staticmethod
    def _flatten(block: torch.Tensor, inp: int, has_bias: bool) -> torch.Tensor:
        """[..., out, in + 1] -> [..., out * in + out] in the order (weight row-major, then bias)."""
        weight = block[..., :inp].flatten(-2)
        return torch.cat([weight, block[..., inp]], dim=-1) if has_bias else weight

    def _unflatten(self, flat: torch.Tensor, out: int, inp: int, has_bias: bool) -> torch.Tensor:
        weight = flat[..., : out * inp].unflatten(-1, (out, inp))
        if not has_bias:
            return weight
        return torch.cat([weight, flat[..., out * inp :].unsqueeze(-1)], dim=-1)

    def functional_covariance(self, jacobian: torch.Tensor, delta: float) -> torch.Tensor:
        cov, start = 0.0, 0
        for k, ((_, u_g, _, u_a), (out, inp, has_bias)) in enumerate(zip(self.blocks, self.shapes)):
            size = out * (inp + int(has_bias))
            block_j = self._unflatten(
                jacobian[..., start : start + size], out, inp, has_bias
            )  # [B, C, out, in+1]
            rotated = (u_g.T @ (block_j @ u_a)).flatten(-2)  # U_G^T J U_A, [B, C, out * (in+1)]
            weights = (1.0 / (self._eigenvalues(k) + delta)).reshape(-1)
            cov = cov + (rotated * weights) @ rotated.transpose(-1, -2)
            start += size
        return cov

    def output_layer_covariance(self, features: torch.Tensor, delta: float) -> torch.Tensor:
        """J Sigma J^T for a single block that is the output layer itself, from its inputs phi [B, in] alone.

        There J[c, (o, i)] = [c = o] phi~_i, so with c = U_A^T phi~ the covariance is
        U_G diag_p(sum_q c_q^2 / (g_p a_q + delta)) U_G^T, without forming J: O(B (in^2 + out^2)).
        """
        (_, u_g, _, u_a), (_, _, has_bias) = self.blocks[0], self.shapes[0]
        if has_bias:
            features = torch.cat([features, torch.ones_like(features[:, :1])], dim=1)
        rotated = features @ u_a  # [B, in+1]
        weights = (rotated**2) @ (1.0 / (self._eigenvalues(0) + delta)).T  # [B, out]
        return (u_g * weights.unsqueeze(1)) @ u_g.T
