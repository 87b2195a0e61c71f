"""Deep belief networks trained greedily, one restricted Boltzmann machine per layer.

A DBN with layers v = h^0, h^1, ..., h^L is the generative model
p(v, h^1, ..., h^L) = [prod_{l=0}^{L-2} p(h^l | h^{l+1})] p(h^{L-1}, h^L): directed sigmoid layers
top-down, with an undirected RBM over the top two layers (Hinton, Osindero & Teh 2006; note the
seed notes' DBN joint is wrong, SEED_ERRATA.md item 3). Greedy training fits an RBM to the data,
then fits the next RBM to the hidden activities that the first produces, and so on; each added layer
improves a variational lower bound on log p(v) (when initialised suitably). Sampling runs Gibbs in
the top RBM and then one downward pass through the directed layers.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..deprecation import sample_call_forms, warn_deprecated
from ..errors import InputError
from ..io import serializable
from ..randomness import make_generator
from ..validation import check_positive_int
from .rbm import RBM


@serializable
class DBN(nn.Module):
    """A deep belief net: a stack of RBMs trained greedily, layer by layer.

    Arguments:
        layer_sizes: [D, H_1, ..., H_L], the sizes of the visible and hidden layers (L >= 1).
        visible: the type of the bottom visible units ("bernoulli" or "gaussian"); the upper
            layers are binary.
        method: "cd" or "pcd", used for every layer.
        k: Gibbs sweeps per update.
        num_chains: persistent chains per layer (PCD).
        weight_decay: L2 penalty on the weights of every layer.
        seed: seeds the initial weights (layer l uses seed + l) and the upward sampling of greedy training.

    Train it greedily with :func:`bayesdl.inference.fit_greedy` (``DBN.fit`` is a deprecated alias): layer l
    learns from samples h^l ~ p(h^l | h^{l-1}) that :meth:`propagate` draws through the layers below.

    Example:
        >>> x = (torch.rand(100, 8, generator=torch.Generator().manual_seed(0)) < 0.4).float()
        >>> from bayesdl.inference import fit_greedy
        >>> dbn = DBN([8, 6, 4])
        >>> _ = fit_greedy(dbn, x, optimizer="sgd", lr=0.1, epochs=1, batch_size=20, progress=False)
        >>> dbn.sample(3, num_steps=5, seed=0).shape
        torch.Size([3, 8])

    References:
        Hinton, Osindero & Teh (2006), A fast learning algorithm for deep belief nets, Neural
        Computation 18(7); Salakhutdinov & Murray (2008), ICML.
    """

    def __init__(
        self,
        layer_sizes: list[int],
        visible: str = "bernoulli",
        method: str = "cd",
        k: int = 1,
        num_chains: int = 100,
        weight_decay: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        sizes = list(layer_sizes)
        if len(sizes) < 2:
            raise InputError(f"layer_sizes must list at least a visible and a hidden size, got {sizes}")
        for i, size in enumerate(sizes):
            check_positive_int(size, f"layer_sizes[{i}]")
        self.layer_sizes = sizes
        self.seed = seed
        self.rbms = nn.ModuleList(
            RBM(
                sizes[i],
                sizes[i + 1],
                visible=visible if i == 0 else "bernoulli",
                method=method,
                k=k,
                num_chains=num_chains,
                weight_decay=weight_decay,
                seed=seed + i,
            )
            for i in range(len(sizes) - 1)
        )

    def layers(self) -> list[RBM]:
        """The RBMs, bottom first: what greedy training fits one after the other."""
        return list(self.rbms)

    def check_data(self, data: torch.Tensor, name: str = "data") -> torch.Tensor:
        """Check visible data for the bottom RBM (shape [B, D], values its visible units can take)."""
        return self.rbms[0].check_visible(data, name)

    def propagate(
        self, index: int, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Binary samples h ~ p(h | x) of layer ``index``: the training data of layer ``index + 1``."""
        rbm = self.rbms[index]
        return rbm.sample_hidden(x.to(rbm.weight.device), generator)

    def fit(self, data: torch.Tensor, init_from_data: bool = True, **trainer_kwargs: Any) -> list[Any]:
        """Deprecated alias of ``bayesdl.inference.fit_greedy(dbn, data, ...)`` (models do not import the trainer)."""
        warn_deprecated("DBN.fit(data, ...)", "bayesdl.inference.fit_greedy(dbn, data, ...)")
        # deprecated shim: allowed in tests/test_layers.py until 0.3
        from ..inference.recipes import fit_greedy

        return fit_greedy(self, data, init_from_data=init_from_data, **trainer_kwargs)

    def transform(self, v: torch.Tensor) -> torch.Tensor:
        """The mean-field upward pass: p(h^1|v), then p(h^2|h^1 = those probabilities), ...; shape [B, H_L]."""
        x = self.rbms[0].check_visible(v)
        with torch.no_grad():
            for rbm in self.rbms:
                x = rbm.hidden_probs(x)
        return x

    @sample_call_forms("num_steps")
    def sample(
        self,
        num_samples: int,
        *,
        num_steps: int = 1000,
        mean: bool = True,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` visible vectors: Gibbs in the top RBM, then one directed pass down.

        Arguments:
            num_samples: the number of samples.
            num_steps: Gibbs sweeps in the top RBM.
            mean: return E[v | h^1] at the bottom instead of a binary draw.
            seed: seeds a fresh generator when ``generator`` is None.
            generator: the random source.

        Returns:
            samples of shape [n, D].
        """
        n = check_positive_int(num_samples, "num_samples")
        top = self.rbms[-1]
        generator = make_generator(
            seed, generator, top.weight.device, fresh=True
        )  # neither: fresh draws (was seed 0)
        with torch.no_grad():
            x = top.sample(n, num_steps=num_steps, generator=generator)
            for depth, rbm in enumerate(reversed(list(self.rbms)[:-1])):
                h = x
                last = depth == len(self.rbms) - 2
                x = rbm.visible_mean(h) if (last and mean) else rbm.sample_visible(h, generator)
            if len(self.rbms) == 1 and mean:
                x = top.visible_mean(top.sample_hidden(x, generator))
        return x
