"""Training objectives: a callable ``batch -> scalar loss`` that knows which parameters it trains.

Two kinds cover every model in bayesdl:

* :class:`LossObjective` wraps a module with its own ``loss(...)`` method (flows and autoregressive
  models: mean NLL; RBMs: contrastive divergence; diffusion: the simple loss; BNNs: the negative
  ELBO per example).
* :class:`PyroObjective` turns a Pyro model/guide pair into a loss through one of Pyro's ELBOs:
  ``Trace_ELBO``, ``TraceMeanField_ELBO`` (analytic KL where available) or ``RenyiELBO(alpha=0)``,
  which is the importance-weighted bound of Burda, Grosse & Salakhutdinov (2015, arXiv:1509.00519).

Minibatch scaling of Pyro models
--------------------------------
With N training examples and a minibatch of B, an unbiased estimate of the full-data ELBO is
``(N/B) * sum_{i in batch} E_q[log p(x_i|z_i) + log p(z_i) - log q(z_i)] + E_q[log p(theta) - log q(theta)]``:
local terms are scaled by N/B, global terms (weights, hyperparameters) are not. PyroObjective
applies this rule to every sample site, in model and guide, that sits inside a ``pyro.plate`` named
``"data"`` (configurable) whose size equals the batch size; a plate that already subsamples itself
(``pyro.plate("data", size=N, subsample=...)``) is left alone, since Pyro scales it already. The
loss it returns is the negative ELBO divided by N, i.e. nats per training example, so numbers are
comparable across data sizes. The "iwae" objective is the exception: N/B inside importance weights
would temper them, so it is computed unscaled and reported as -L_K per example (see ``loss``).

Losses from ``loss(...)`` methods are the model's business; a ``loss`` whose signature has a
``num_data`` keyword receives N from the trainer, which is how Bayes-by-Backprop weights its KL once
per pass over the data (KL/N per example).
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyro
import pyro.infer
import pyro.poutine
import torch
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

from ..errors import InputError
from ..nn.pyro_params import module_local_params
from ..validation import check_positive_int

Batch = torch.Tensor | tuple[torch.Tensor, ...]

ELBO_NAMES = ("trace", "meanfield", "iwae")


def as_args(batch: Batch) -> tuple[torch.Tensor, ...]:
    """The positional arguments a batch stands for: a tuple is unpacked, a tensor is one argument.

    Arguments:
        batch: a tensor, or a tuple of tensors (e.g. ``(x, y)``) as :class:`bayesdl.data.BatchLoader` yields.

    Returns:
        A tuple of tensors to pass as ``*args``.

    Example:
        >>> x, y = torch.zeros(2, 3), torch.ones(2)
        >>> len(as_args((x, y))), as_args(x)[0] is x
        (2, True)
    """
    return batch if isinstance(batch, tuple) else (batch,)


class LocalScaleMessenger(Messenger):
    """Multiply the log-density of sites inside the data plate by ``scale`` (= N / batch size).

    Sites in a plate that subsamples itself (full size different from its size) are left alone, since
    Pyro already scales them.

    Arguments:
        scale: the factor N / B for a minibatch of B out of N examples.
        plate_name: the name of the data plate.

    Example:
        >>> import pyro.distributions as dist
        >>> def model():
        ...     pyro.sample("theta", dist.Normal(0.0, 1.0))
        ...     with pyro.plate("data", 2):
        ...         pyro.sample("x", dist.Normal(0.0, 1.0), obs=torch.zeros(2))
        >>> trace = pyro.poutine.trace(LocalScaleMessenger(5.0)(model)).get_trace()
        >>> trace.nodes["theta"]["scale"], trace.nodes["x"]["scale"]
        (1.0, 5.0)
    """

    def __init__(self, scale: float, plate_name: str = "data") -> None:
        super().__init__()
        self.scale = scale
        self.plate_name = plate_name

    def _process_message(self, msg: dict[str, Any]) -> None:
        if msg["type"] != "sample":
            return
        for frame in msg["cond_indep_stack"]:
            already_subsampled = frame.full_size is not None and frame.full_size != frame.size
            if frame.name == self.plate_name and not already_subsampled:
                msg["scale"] = self.scale * msg["scale"]
                return


class Objective:
    """Base class: a differentiable ``loss(batch)`` plus the modules whose parameters it trains.

    Subclasses set ``modules`` (name -> module, checkpointed by the trainer) and implement ``loss``;
    :func:`as_objective` picks the right subclass for a model.

    Attributes:
        modules: name -> ``torch.nn.Module`` whose parameters are trained and saved.

    Example:
        >>> class Quadratic(Objective):
        ...     def __init__(self):
        ...         self.modules = {"model": torch.nn.Linear(1, 1, bias=False)}
        ...     def loss(self, batch, num_data):
        ...         return self.modules["model"](batch).square().mean()
        >>> objective = Quadratic()
        >>> len(list(objective.parameters())), objective.loss(torch.zeros(4, 1), num_data=4).item()
        (1, 0.0)
    """

    #: name -> module, checkpointed by the trainer
    modules: dict[str, torch.nn.Module]

    def setup(self, batch: Batch, num_data: int) -> None:
        """Create lazily built parameters (e.g. Pyro autoguides) from one batch; called before training.

        Arguments:
            batch: one training batch (a tensor or a tuple of tensors).
            num_data: the training-set size N.
        """

    def loss(self, batch: Batch, num_data: int) -> torch.Tensor:
        """The scalar loss on one batch, given the training-set size N.

        Arguments:
            batch: one training batch (a tensor or a tuple of tensors).
            num_data: the training-set size N (for minibatch scaling).

        Returns:
            A scalar tensor to minimise (nats per example for the objectives in bayesdl).
        """
        raise NotImplementedError

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        """The trainable parameters of all modules, each once.

        Returns:
            An iterator over the parameters with ``requires_grad``, without duplicates.
        """
        seen: set[int] = set()
        for module in self.modules.values():
            for p in module.parameters():
                if id(p) not in seen and p.requires_grad:
                    seen.add(id(p))
                    yield p

    def train(self, mode: bool = True) -> None:
        """Switch all modules to training (or evaluation) mode.

        Arguments:
            mode: True for training mode, False for evaluation mode.
        """
        for module in self.modules.values():
            module.train(mode)

    def to(self, device: torch.device) -> Objective:
        """Move all modules to ``device``.

        Arguments:
            device: the target device.

        Returns:
            The objective itself.
        """
        for module in self.modules.values():
            module.to(device)
        return self


class LossObjective(Objective):
    """The objective of a module that defines ``loss(*batch)`` (optionally with a ``num_data`` keyword).

    A tuple batch is unpacked into positional arguments; if ``model.loss`` has a ``num_data`` keyword it
    receives the training-set size N (e.g. to weigh a KL term once per pass over the data).

    Arguments:
        model: a ``torch.nn.Module`` with a ``loss(...)`` method returning a scalar tensor; a module
            without one raises :class:`bayesdl.errors.InputError`.

    Example:
        >>> class Gauss(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__(); self.mu = torch.nn.Parameter(torch.zeros(1))
        ...     def loss(self, x):
        ...         return 0.5 * ((x - self.mu) ** 2).mean()
        >>> LossObjective(Gauss()).loss(torch.ones(4, 1), num_data=4).item()
        0.5
    """

    def __init__(self, model: torch.nn.Module) -> None:
        if not callable(getattr(model, "loss", None)):
            raise InputError(
                f"{type(model).__name__} has no loss(...) method; wrap Pyro models in PyroObjective"
            )
        self.model = model
        self.modules = {"model": model}
        self._wants_num_data = "num_data" in inspect.signature(model.loss).parameters

    def loss(self, batch: Batch, num_data: int) -> torch.Tensor:
        if self._wants_num_data:
            return self.model.loss(*as_args(batch), num_data=num_data)
        return self.model.loss(*as_args(batch))


def make_elbo(elbo: str | pyro.infer.ELBO = "trace", num_particles: int = 1) -> pyro.infer.ELBO:
    """Build a Pyro ELBO by name: "trace" (Trace_ELBO), "meanfield" (TraceMeanField_ELBO), "iwae" (RenyiELBO(alpha=0)).

    Arguments:
        elbo: "trace", "meanfield", "iwae", or a ``pyro.infer.ELBO`` instance (returned as is).
        num_particles: Monte Carlo samples per example (importance samples K for "iwae"); with more than
            one, particles are vectorised.

    Returns:
        A ``pyro.infer.ELBO``.

    Example:
        >>> type(make_elbo("iwae", num_particles=5)).__name__
        'RenyiELBO'
        >>> make_elbo("meanfield").num_particles
        1

    References:
        Kingma & Welling (2014), Auto-Encoding Variational Bayes, arXiv:1312.6114 (the ELBO);
        Burda, Grosse & Salakhutdinov (2016), Importance Weighted Autoencoders, arXiv:1509.00519;
        Li & Turner (2016), Renyi Divergence Variational Inference, arXiv:1602.02311.
    """
    if isinstance(elbo, pyro.infer.ELBO):
        return elbo
    num_particles = check_positive_int(num_particles, "num_particles")
    common = dict(num_particles=num_particles, vectorize_particles=num_particles > 1)
    if elbo == "trace":
        return pyro.infer.Trace_ELBO(**common)
    if elbo == "meanfield":
        return pyro.infer.TraceMeanField_ELBO(**common)
    if elbo == "iwae":
        return pyro.infer.RenyiELBO(
            alpha=0.0, num_particles=num_particles, vectorize_particles=num_particles > 1
        )
    raise InputError(f"unknown elbo {elbo!r}; expected one of {list(ELBO_NAMES)} or a pyro.infer.ELBO")


class PyroObjective(Objective):
    """Negative ELBO per training example of a Pyro model/guide pair, with minibatch scaling.

    Arguments:
        model: a Pyro model (function or ``PyroModule``), or a ``PyroModule`` with ``model`` and
            ``guide`` methods (as the VAEs have), in which case ``guide`` may be omitted.
        guide: the guide, e.g. ``pyro.infer.autoguide.AutoNormal(model)``.
        elbo: "trace", "meanfield", "iwae" or a ``pyro.infer.ELBO`` instance.
        num_particles: Monte Carlo samples (importance samples for "iwae") per example.
        plate_name: the name of the data plate whose sites are scaled by N / batch size.

    Example:
        >>> import pyro.distributions as dist
        >>> def model(x):
        ...     mu = pyro.sample("mu", dist.Normal(0., 10.))
        ...     with pyro.plate("data", len(x)):
        ...         pyro.sample("x", dist.Normal(mu, 1.), obs=x)
        >>> guide = pyro.infer.autoguide.AutoNormal(model)
        >>> objective = PyroObjective(model, guide)
        >>> objective.setup(torch.zeros(3), num_data=3)
        >>> objective.loss(torch.zeros(3), num_data=3).shape
        torch.Size([])

    References:
        Hoffman, Blei, Wang & Paisley (2013), Stochastic Variational Inference, JMLR 14, arXiv:1206.7051
        (the N/B minibatch scaling); Bingham et al. (2019), Pyro: Deep Universal Probabilistic Programming,
        JMLR 20, arXiv:1810.09538.
    """

    def __init__(
        self,
        model: Any,
        guide: Any = None,
        elbo: str | pyro.infer.ELBO = "trace",
        num_particles: int = 1,
        plate_name: str = "data",
    ) -> None:
        if guide is None:
            if not (callable(getattr(model, "model", None)) and callable(getattr(model, "guide", None))):
                raise InputError("PyroObjective needs a guide, or a module with model() and guide() methods")
            self.model_fn, self.guide_fn = model.model, model.guide
        else:
            self.model_fn, self.guide_fn = model, guide
        self.elbo = make_elbo(elbo, num_particles)
        self.plate_name = plate_name
        self.modules = {}
        if isinstance(model, torch.nn.Module):
            self.modules["model"] = model
        if isinstance(guide, torch.nn.Module):
            self.modules["guide"] = guide
        self._differentiable = hasattr(self.elbo, "differentiable_loss")
        self._has_global_latents = False

    @property
    def differentiable(self) -> bool:
        """False for ELBOs (RenyiELBO) whose gradients Pyro accumulates itself instead of returning a graph."""
        return self._differentiable

    def setup(self, batch: Batch, num_data: int) -> None:
        with module_local_params(*self._pyro_callables()):
            self._setup(batch, num_data)

    def _pyro_callables(self) -> tuple[Any, ...]:
        return (
            *self.modules.values(),
            getattr(self.model_fn, "__self__", None),
            getattr(self.guide_fn, "__self__", None),
        )

    def _setup(self, batch: Batch, num_data: int) -> None:
        # Run the guide once so that autoguides create their parameters before the optimizer exists,
        # and note whether it has latent sites outside the data plate (global latents).
        with torch.no_grad(), pyro.poutine.block():
            trace = pyro.poutine.trace(self.guide_fn).get_trace(*as_args(batch))
        self._has_global_latents = any(
            site["type"] == "sample"
            and not site["is_observed"]
            and not site_is_subsample(site)
            and not any(frame.name == self.plate_name for frame in site["cond_indep_stack"])
            for site in trace.nodes.values()
        )
        self._fix_max_plate_nesting(batch)

    def _fix_max_plate_nesting(self, batch: Batch) -> None:
        # With vectorised particles and no max_plate_nesting, Pyro guesses it at the first loss by running the
        # model and guide once, drawing random numbers. A resumed run's fresh ELBO would guess again in the middle
        # of training and draw differently from the uninterrupted run; guessing here, once, on copies of the
        # random streams, makes every run draw the same numbers.
        if not (
            getattr(self.elbo, "vectorize_particles", False) and self.elbo.max_plate_nesting == float("inf")
        ):
            return
        python_state, numpy_state = random.getstate(), np.random.get_state()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            try:
                self.elbo._guess_max_plate_nesting(
                    self.model_fn, self.guide_fn, as_args(batch), {}
                )  # Pyro's own rule
            finally:
                random.setstate(python_state)
                np.random.set_state(numpy_state)

    def loss(self, batch: Batch, num_data: int) -> torch.Tensor:
        with module_local_params(*self._pyro_callables()):
            return self._loss(batch, num_data)

    def _loss(self, batch: Batch, num_data: int) -> torch.Tensor:
        args = as_args(batch)
        scale = num_data / len(args[0])
        model = LocalScaleMessenger(scale, self.plate_name)(self.model_fn)
        guide = LocalScaleMessenger(scale, self.plate_name)(self.guide_fn)
        if self._differentiable:
            return self.elbo.differentiable_loss(model, guide, *args) / num_data
        if self._has_global_latents:
            # With global latents there is one importance weight per particle for the whole data set;
            # its minibatch estimate scales the local terms by N/B inside the weight (Pyro's joint weight).
            return _RenyiSurrogate.apply(self, model, guide, args, num_data)
        # Only local latents: RenyiELBO forms one weight per example. Scaling log-densities by N/B inside
        # those weights would temper them (logsumexp(s log w) != s logsumexp(log w)) and turn the IWAE
        # bound into a soft max over particles, so the weights are formed unscaled and the per-example
        # bound -L_K is averaged over the batch.
        return _RenyiSurrogate.apply(self, self.model_fn, self.guide_fn, args, len(args[0]))


def _with_param_site(guide: Any) -> Any:
    """Wrap ``guide`` so that its trace has a "param" site.

    RenyiELBO.loss_and_grads only back-propagates when the traces contain a param site. With
    ``module_local_params=True``, parameters of plain ``torch.nn.Module`` s inside a PyroModule (an
    encoder network, say) emit none, so without this the model silently would not train.
    """
    anchor = torch.zeros(())

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        pyro.poutine.runtime.effectful(type="param")(lambda *_, **__: anchor)(
            "_bayesdl_param_anchor", anchor, name="_bayesdl_param_anchor"
        )
        return guide(*args, **kwargs)

    return wrapped


class _RenyiSurrogate:
    """Adapter for ELBOs without ``differentiable_loss`` (RenyiELBO): run ``loss_and_grads`` and
    return a leaf whose ``backward`` is a no-op, since the gradients are already accumulated."""

    @staticmethod
    def apply(objective: PyroObjective, model: Any, guide: Any, args: tuple, divisor: int) -> torch.Tensor:
        params = list(objective.parameters())
        saved = [None if p.grad is None else p.grad.clone() for p in params]
        for p in params:
            p.grad = None
        value = objective.elbo.loss_and_grads(model, _with_param_site(guide), *args) / divisor
        fresh = [None if p.grad is None else p.grad / divisor for p in params]
        for p, old, new in zip(params, saved, fresh):
            p.grad = old if new is None else (new if old is None else old + new)
        out = torch.tensor(float(value), requires_grad=True)
        return out


def as_objective(
    model: Any, guide: Any = None, elbo: str | pyro.infer.ELBO | None = None, num_particles: int = 1
) -> Objective:
    """Turn what the user passed into an :class:`Objective`.

    * an :class:`Objective` is returned as is;
    * ``guide`` or ``elbo`` given, or a module without ``loss`` but with ``model``/``guide``: a PyroObjective;
    * otherwise a module with ``loss``: a LossObjective.

    Arguments:
        model: an Objective, a module with ``loss(...)``, a Pyro model (with ``guide``), or a PyroModule with
            ``model`` and ``guide`` methods.
        guide: the Pyro guide, if ``model`` is a Pyro model.
        elbo: the ELBO for Pyro models ("trace" if None; see :func:`make_elbo`).
        num_particles: Monte Carlo samples per example for Pyro ELBOs.

    Returns:
        An :class:`Objective`.

    Example:
        >>> class Gauss(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__(); self.mu = torch.nn.Parameter(torch.zeros(1))
        ...     def loss(self, x):
        ...         return 0.5 * ((x - self.mu) ** 2).mean()
        >>> type(as_objective(Gauss())).__name__
        'LossObjective'
        >>> type(as_objective(lambda x: None, guide=lambda x: None)).__name__
        'PyroObjective'
    """
    if isinstance(model, Objective):
        return model
    has_loss = callable(getattr(model, "loss", None))
    is_pyro_pair = callable(getattr(model, "model", None)) and callable(getattr(model, "guide", None))
    if not has_loss and guide is None and not is_pyro_pair:
        raise InputError(
            f"{type(model).__name__} has no loss(...) method and is not a Pyro model with a guide; "
            "pass guide=... for a Pyro model"
        )
    if guide is not None or elbo is not None or not has_loss:
        return PyroObjective(model, guide, elbo=elbo or "trace", num_particles=num_particles)
    return LossObjective(model)
