"""NADE: the neural autoregressive distribution estimator for binary vectors.

Larochelle & Murray (2011), "The Neural Autoregressive Distribution Estimator", AISTATS (PMLR 15:29-37).
"""

from __future__ import annotations

import torch
from torch import nn

from ...deprecation import renamed_arguments, sample_call_forms
from ...io import serializable
from ...nn.heads import BernoulliHead
from ...validation import check_positive_int, check_tensor, is_checked
from .sampling import check_num_samples, completion_inputs, make_generator


@renamed_arguments(keywords={"num_inputs": "features"})
@serializable
class NADE(nn.Module):
    """NADE for D binary inputs in the natural order x_1, ..., x_D.

    p(x) = prod_d p(x_d | x_<d) with

        h_d = sigmoid(c + W[:, <d] x_<d),    p(x_d = 1 | x_<d) = sigmoid(b_d + V[d] . h_d).

    All D conditionals share W [H, D] and c, and a_d = c + W[:, <d] x_<d is a running sum
    (a_{d+1} = a_d + W[:, d] x_d), so one pass costs O(DH), not O(D^2 H). Training uses the observed
    x_<d in every conditional (teacher forcing) and minimises the exact negative log-likelihood.

    Arguments:
        features: D, the data width (``num_inputs`` is its deprecated name).
        hidden_size: H.

    Example:
        >>> model = NADE(6, 8)
        >>> x = model.sample(4, seed=0)
        >>> model.log_prob(x).shape
        torch.Size([4])

    References:
        Larochelle & Murray (2011), AISTATS; Uria, Côté, Gregor, Murray & Larochelle (2016),
        "Neural Autoregressive Distribution Estimation", arXiv:1605.02226.
    """

    #: the output head: one logit per dimension (stateless, shared by every NADE)
    likelihood = BernoulliHead()

    def __init__(self, features: int, hidden_size: int) -> None:
        super().__init__()
        self.features = num_inputs = check_positive_int(features, "features")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.W = nn.Parameter(torch.randn(hidden_size, num_inputs) * num_inputs**-0.5)
        self.c = nn.Parameter(torch.zeros(hidden_size))
        self.V = nn.Parameter(torch.randn(num_inputs, hidden_size) * hidden_size**-0.5)
        self.b = nn.Parameter(torch.zeros(num_inputs))

    @property
    def num_inputs(self) -> int:
        """Deprecated name of :attr:`features`."""
        return self.features

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Raise InputError unless x is binary [B, features]; return it in the parameters' dtype.

        A training batch whose rows the trainer validated at the start of ``fit`` is not checked again
        (:func:`bayesdl.validation.is_checked`).
        """
        if not is_checked(x):
            check_tensor(x, name, shape=(None, self.features), finite=False)
            self.likelihood.check(x, name)
        return x.to(self.W.dtype)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of p(x_d = 1 | x_<d) for every d, with teacher forcing: [B, D]."""
        # a_d = c + sum_{j<d} x_j W[:, j] as one cumulative sum over d of the terms [c, x_1 W_1, ..., x_{D-1} W_{D-1}]
        shifted_x = torch.cat([x.new_ones(len(x), 1), x[:, :-1]], dim=1)  # [B, D]
        shifted_w = torch.cat([self.c.unsqueeze(1), self.W[:, :-1]], dim=1)  # [H, D]
        a = torch.cumsum(shifted_x.unsqueeze(-1) * shifted_w.t(), dim=1)  # [B, D, H]
        return self.b + torch.einsum("bdh,dh->bd", torch.sigmoid(a), self.V)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) in nats, x binary [B, D] -> [B]."""
        x = self.check_data(x)
        return self.likelihood.log_prob(self.logits(x).unsqueeze(1), x, 1)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """The mean negative log-likelihood of the batch (nats per example)."""
        return -self.log_prob(x).mean()

    def _generate(self, x: torch.Tensor, observed: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        a = self.c.expand(len(x), -1).clone()
        for d in range(self.features):
            p = torch.sigmoid(self.b[d] + torch.sigmoid(a) @ self.V[d])
            u = torch.rand(p.shape, generator=generator, device=p.device, dtype=p.dtype)
            x[:, d] = torch.where(observed[:, d], x[:, d], (u < p).to(x.dtype))
            a = a + x[:, d : d + 1] * self.W[:, d]
        return x

    @torch.no_grad()
    @sample_call_forms("seed", "generator")
    def sample(
        self, num_samples: int, *, seed: int | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Ancestral samples [num_samples, D] (float 0/1: draws, not means), one dimension at a time for the whole batch.

        ``seed`` or ``generator`` fixes the draws without touching the global generators; with neither, they are fresh.
        """
        n = check_num_samples(num_samples)
        generator = make_generator(seed, generator, self.W.device)
        x = self.W.new_zeros(n, self.features)
        return self._generate(x, torch.zeros_like(x, dtype=torch.bool), generator)

    @torch.no_grad()
    def complete(
        self,
        x_partial: torch.Tensor,
        mask: torch.Tensor,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Fill in the entries where ``mask`` is False by ancestral sampling in the order 1..D.

        Observed entries are kept; missing entry d is drawn from p(x_d | x_<d) given everything
        before it (observed or already drawn). This is an exact draw from p(x_missing | x_observed)
        when the observed entries form a prefix x_1..x_k; otherwise observed entries after a missing
        one do not influence it.

        Arguments:
            x_partial: [B, D], binary where observed (anything, even NaN, where missing).
            mask: bool or 0/1, [B, D] or broadcastable; True = observed.
            seed, generator: the random source.

        Returns:
            [B, D] binary.
        """
        x, observed = completion_inputs(x_partial, mask, (self.features,))
        self.likelihood.check(x, "x_partial (observed entries)")
        generator = make_generator(seed, generator, self.W.device)
        return self._generate(x.to(self.W), observed.to(self.W.device), generator)
