"""Batched potential energy U(z) = -log p(z, data) on a flat unconstrained tensor z of shape [chains, dim].

A Pyro model's latent sites are mapped to unconstrained space with Pyro's ``biject_to`` transforms,
so U includes the log |det Jacobian| of the map back to the constrained support. The model is
evaluated for all chains at once with ``torch.func.vmap``; the gradient comes from one reverse pass,
so the cost of C chains is one batched model evaluation, not C.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyro
import pyro.poutine as poutine
import torch
from pyro.distributions.util import scale_and_mask
from pyro.infer.enum import config_enumerate
from pyro.infer.mcmc.util import TraceEinsumEvaluator, initialize_model
from pyro.ops.contract import contract_to_tensor
from pyro.ops.rings import LogRing
from pyro.poutine.enum_messenger import EnumMessenger
from pyro.poutine.util import site_is_subsample

from ...errors import InputError
from .graph_passes import simplify_graph


@dataclass(frozen=True)
class LatentSite:
    """One latent sample site: its name, unconstrained shape, transform from unconstrained space to the support, and slice in z.

    Attributes:
        name: the Pyro site name.
        unconstrained_shape: the shape of one unconstrained value of the site.
        transform: the bijection from unconstrained space to the site's support (a torch transform).
        start, stop: the slice ``z[..., start:stop]`` of the flat coordinates that holds the site.

    Example:
        >>> site = LatentSite("scale", torch.Size([2]), torch.distributions.transforms.ExpTransform(), 0, 2)
        >>> site.transform(torch.zeros(2)).tolist(), site.stop - site.start
        ([1.0, 1.0], 2)
    """

    name: str
    unconstrained_shape: torch.Size
    transform: Any
    start: int
    stop: int


def reject_failed_evaluations(
    evaluate: Callable[[torch.Tensor], tuple[torch.Tensor, ...]], z: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """Evaluate a batched potential; where the model cannot be evaluated at a chain's point, U = +inf there.

    A model that factorises a matrix (a Cholesky of a kernel matrix, say) can fail at points far out
    in a trajectory, where rounding makes the matrix indefinite. Stan rejects such a proposal; JAX's
    Cholesky returns NaN, which NUTS treats as a divergence. Here a batched call that raises
    :class:`torch.linalg.LinAlgError` is repeated one chain at a time, and each chain that still fails
    gets U = +inf and a zero gradient: its trajectory ends there as a divergence and the point has weight
    zero, so the sampler stays exact for the density restricted to where it can be evaluated.

    Arguments:
        evaluate: z [C, D] -> a tuple whose first item is U [C] and whose other items are [C, ...].
        z: the points [C, D].

    Returns:
        ``evaluate(z)``, with the failing chains' rows set to (+inf, 0, ...).

    Example:
        >>> def f(z):
        ...     cov = torch.eye(2) + z[:, :1, None] * torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # PD iff |z| < 1
        ...     return (-torch.linalg.cholesky(cov).diagonal(dim1=-2, dim2=-1).log().sum(-1), z)
        >>> [round(u, 4) for u in reject_failed_evaluations(f, torch.tensor([[0.5], [2.0]]))[0].tolist()]
        [0.1438, inf]
    """
    try:
        return evaluate(z)
    except torch.linalg.LinAlgError:
        pass
    rows = []
    for i in range(z.shape[0]):
        try:
            rows.append(evaluate(z[i : i + 1]))
        except torch.linalg.LinAlgError:
            rows.append(None)
    template = next((row for row in rows if row is not None), None)
    if template is None:  # no chain can be evaluated: U = +inf everywhere, the gradient shaped like z
        template = (torch.zeros(1, dtype=z.dtype, device=z.device), torch.zeros_like(z[:1]))
    failed = (torch.full_like(template[0], float("inf")),) + tuple(torch.zeros_like(t) for t in template[1:])
    rows = [failed if row is None else row for row in rows]
    return tuple(torch.cat([row[k] for row in rows]) for k in range(len(template)))


def check_model_inputs(args: tuple, kwargs: dict) -> None:
    """Raise InputError if any tensor among the model arguments holds NaN or infinite values.

    Arguments:
        args: the model's positional arguments.
        kwargs: the model's keyword arguments.

    Returns:
        None; the error names the offending argument.

    Example:
        >>> check_model_inputs((torch.zeros(2),), {"y": torch.ones(3)})
        >>> try:
        ...     check_model_inputs((), {"y": torch.tensor([1.0, float("nan")])})
        ... except InputError as err:
        ...     print(err)
        model argument y contains NaN or infinite values
    """
    named = [(f"args[{i}]", a) for i, a in enumerate(args)] + list(kwargs.items())
    for name, value in named:
        if (
            isinstance(value, torch.Tensor)
            and value.is_floating_point()
            and not bool(torch.isfinite(value).all())
        ):
            raise InputError(f"model argument {name} contains NaN or infinite values")


def _prior_trace(model: Callable, args: tuple, kwargs: dict, attempts: int = 100) -> poutine.Trace:
    """One trace of the model with its latent sites drawn from the prior (its structure is all that is read).

    A prior draw where the model cannot be evaluated (an indefinite matrix for a Cholesky) is drawn
    again, up to ``attempts`` times, as Stan retries initial points.
    """
    for attempt in range(attempts):
        try:
            with pyro.validation_enabled(False), torch.no_grad():
                return poutine.trace(model).get_trace(*args, **kwargs)
        except torch.linalg.LinAlgError:
            if attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")


def check_discrete_sites(model: Callable, args: tuple, kwargs: dict) -> None:
    """Raise InputError naming any discrete latent site that cannot be enumerated (no finite support).

    NUTS and HMC move continuous coordinates only. Discrete latent sites with a finite support
    (Bernoulli, Categorical, ...) are summed out of the density by enumeration; any other discrete
    latent site (Poisson, Geometric, ...) cannot be, and is refused here.

    Arguments:
        model: a Pyro model.
        args, kwargs: its arguments.

    Returns:
        None.

    Example:
        >>> import pyro.distributions as dist
        >>> def model():
        ...     pyro.sample("count", dist.Poisson(3.0))
        >>> try:
        ...     check_discrete_sites(model, (), {})
        ... except InputError as err:
        ...     print(str(err).split(";")[0])
        latent site 'count' is discrete (Poisson) with no finite support to enumerate
    """
    trace = _prior_trace(model, args, kwargs)
    for name, site in trace.nodes.items():
        if site["type"] != "sample" or site["is_observed"] or site_is_subsample(site):
            continue
        fn = site["fn"]
        if getattr(fn.support, "is_discrete", False) and not fn.has_enumerate_support:
            raise InputError(
                f"latent site {name!r} is discrete ({type(fn).__name__}) with no finite support to enumerate; "
                "NUTS/HMC need continuous latent sites (discrete ones with a finite support, such as Bernoulli or "
                "Categorical, are summed out): marginalise this site out of the model or make it observed"
            )


def _log_joint(trace: poutine.Trace) -> torch.Tensor:
    """Sum of log p over every sample site of a trace (scale and mask applied), vmap-safe."""
    total = 0.0
    for site in trace.nodes.values():
        if site["type"] != "sample" or site_is_subsample(site):
            continue
        log_p = site["fn"].log_prob(site["value"])
        log_p = scale_and_mask(log_p, site["scale"], site["mask"])
        total = total + log_p.sum()
    return total


class _VmapSafeEnum(EnumMessenger):
    """Pyro's parallel enumeration, usable under ``torch.func.vmap``.

    After each sample site, Pyro's EnumMessenger reads the shape of the site's value through
    ``value.data``, which vmap forbids for the (batched) continuous values. Only the shape is needed,
    so the value is swapped for an unbatched placeholder of the same per-chain shape while it looks.
    """

    def _pyro_post_sample(self, msg) -> None:
        value = msg["value"]
        if isinstance(value, torch.Tensor) and torch._C._functorch.is_batchedtensor(value):
            msg["value"] = torch.empty(value.shape, dtype=value.dtype, device=value.device)
            try:
                super()._pyro_post_sample(msg)
            finally:
                msg["value"] = value
        else:
            super()._pyro_post_sample(msg)


class _VmapLogRing(LogRing):
    """Pyro's log-space semiring with bayesdl's vmap-safe einsum backend."""

    _backend = "bayesdl.inference.mcmc.log_einsum"


def _max_plate_nesting(model: Callable, args: tuple, kwargs: dict) -> int:
    """The number of nested vectorised plates in one trace of the model (Pyro's ``max_plate_nesting``)."""
    trace = _prior_trace(model, args, kwargs)
    dims = [
        -frame.dim
        for site in trace.nodes.values()
        if site["type"] == "sample"
        for frame in site["cond_indep_stack"]
        if frame.vectorized
    ]
    return max(dims, default=0)


class BatchedPotential:
    """U(z) and its gradient for a batch of flat unconstrained points z [C, D] from a Pyro model.

    Arguments:
        model: a Pyro model (function or PyroModule) with continuous latent sites.
        args, kwargs: the model arguments (data); observed sites use ``obs=``.
        num_chains: C, the number of initial points to draw.
        init_strategy: a Pyro init strategy (default ``init_to_uniform(radius=2)``, as Stan does).
        compile: trace the batched U and gradient once into a TorchScript graph (``make_fx`` then
            ``torch.jit.trace``), which removes Pyro's per-call Python overhead. The traced graph is
            checked against the eager result at the initial points; if tracing fails or disagrees
            (for instance because the model branches on latent values), the eager path is used.

    Attributes:
        sites: the latent sites in the order they occupy z; ``dim`` is D; ``init`` the initial z [C, D].

    Example:
        >>> import pyro, pyro.distributions as dist
        >>> def model():
        ...     pyro.sample("s", dist.HalfNormal(1.0))
        >>> pot = BatchedPotential(model, (), {}, num_chains=3, compile=False)  # compile=True is faster per call
        >>> u, g = pot.energy_and_grad(pot.init)
        >>> tuple(u.shape), tuple(g.shape)
        ((3,), (3, 1))
        >>> pot.unpack(torch.zeros(1, 1))["s"]  # the HalfNormal site lives on (0, inf): exp(0) = 1
        tensor([1.])

    References:
        Carpenter et al. (2017), Stan: a probabilistic programming language (unconstraining transforms),
        J. Stat. Softw. 76(1); Bingham et al. (2018), Pyro, arXiv:1810.09538.
    """

    def __init__(
        self,
        model: Callable,
        args: tuple,
        kwargs: dict,
        num_chains: int,
        init_strategy: Callable | None = None,
        compile: bool = True,
        max_plate_nesting: int | None = None,
    ) -> None:
        check_model_inputs(args, kwargs)
        check_discrete_sites(model, args, kwargs)
        self.model, self.args, self.kwargs = model, args, kwargs
        init_strategy = init_strategy or pyro.infer.autoguide.initialization.init_to_uniform(radius=2.0)
        if max_plate_nesting is None:
            max_plate_nesting = _max_plate_nesting(model, args, kwargs)
        try:
            init_params, _, transforms, prototype = initialize_model(
                model,
                model_args=args,
                model_kwargs=kwargs,
                num_chains=num_chains,
                init_strategy=init_strategy,
                max_plate_nesting=max_plate_nesting,
            )
        except NotImplementedError as exc:
            raise InputError(
                f"the model has a site that NUTS/HMC cannot sample (discrete latent?): {exc}"
            ) from exc
        except RuntimeError as exc:
            if "find valid initial" in str(exc):
                raise InputError(f"could not find a finite initial log-density for the model: {exc}") from exc
            raise
        for name, site in prototype.nodes.items():
            if (
                site["type"] == "sample"
                and site["is_observed"]
                and isinstance(site["value"], torch.Tensor)
                and site["value"].is_floating_point()
                and not bool(torch.isfinite(site["value"]).all())
            ):
                raise InputError(f"observed site {name!r} contains NaN or infinite values")
        if not init_params:
            raise InputError("the model has no latent sample sites to sample (every site is observed)")
        self.sites: list[LatentSite] = []
        pieces, start = [], 0
        for name, value in init_params.items():
            value = value if num_chains > 1 else value.unsqueeze(0)
            shape = value.shape[1:]
            size = math.prod(shape)
            self.sites.append(LatentSite(name, shape, transforms[name].inv, start, start + size))
            pieces.append(value.reshape(num_chains, size))
            start += size
        self.dim = start
        self.init = torch.cat(pieces, dim=1).detach()
        self.dtype, self.device = self.init.dtype, self.init.device
        self.observed = {
            name: site["value"]
            for name, site in prototype.nodes.items()
            if site["type"] == "sample" and site["is_observed"] and not site["infer"].get("_deterministic")
        }
        self.deterministic_names = [
            name
            for name, site in prototype.nodes.items()
            if site["type"] == "sample" and site["infer"].get("_deterministic")
        ]
        self.enumerated = [
            name
            for name, site in prototype.nodes.items()
            if site["type"] == "sample"
            and not site["is_observed"]
            and site["infer"].get("enumerate") == "parallel"
        ]
        self._evaluator = None
        if self.enumerated:
            # sum the enumerable discrete sites out of the joint, as Pyro's NUTS does (TraceEinsumEvaluator)
            self._evaluator = TraceEinsumEvaluator(prototype, True, max_plate_nesting)
            self._traced_model = _VmapSafeEnum(first_available_dim=-1 - max_plate_nesting)(
                config_enumerate(model)
            )
        else:
            self._traced_model = model
        self._batched_energy = torch.func.vmap(self._energy_single)
        self._batched_grad_and_value = torch.func.vmap(torch.func.grad_and_value(self._energy_single))
        self.compiled = compile and self._try_compile()

    def _try_compile(self) -> bool:
        import warnings

        from torch.fx.experimental.proxy_tensor import make_fx

        z = self.init
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # values read from the data (a model's input checks) are burned in as constants: under vmap, reading
                # a value that depends on z already fails, so only data-only values can be read here
                graph = simplify_graph(
                    make_fx(lambda z: self._batched_grad_and_value(z), _error_on_data_dependent_ops=False)(z)
                )
                with torch.no_grad():
                    traced = torch.jit.trace(graph, (z,), check_trace=False)
                g_fast, u_fast = traced(z)
        except Exception:  # noqa: BLE001 - any tracing failure means: stay eager
            return False
        g_ref, u_ref = self._batched_grad_and_value(z)
        if not (
            torch.allclose(u_fast, u_ref, rtol=1e-6, atol=1e-8, equal_nan=True)
            and torch.allclose(g_fast, g_ref, rtol=1e-6, atol=1e-8, equal_nan=True)
        ):
            return False
        self._fast, self._graph = traced, graph
        return True

    def compiled_energy_and_grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The traced U and gradient for z of the initial shape (only when ``compiled``); traceable itself.

        Arguments:
            z: unconstrained points [C, D] (C as at construction).

        Returns:
            ``(U [C], dU/dz [C, D])``.
        """
        grad, u = self._graph.forward(z)  # plain aten calls, so an enclosing torch.jit.trace records them
        return u, grad

    def unpack(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Constrained site values from unconstrained z [..., D]: each of shape [..., *site_shape].

        Arguments:
            z: unconstrained points [..., D].

        Returns:
            Site name -> constrained values [..., *site_shape].
        """
        out = {}
        for s in self.sites:
            u = z[..., s.start : s.stop].reshape(tuple(z.shape[:-1]) + tuple(s.unconstrained_shape))
            out[s.name] = s.transform(u)
        return out

    def _energy_single(self, z: torch.Tensor) -> torch.Tensor:
        values, log_det = {}, 0.0
        for s in self.sites:
            u = z[s.start : s.stop].reshape(s.unconstrained_shape)
            x = s.transform(u)
            values[s.name] = x
            log_det = log_det + s.transform.log_abs_det_jacobian(u, x).sum()
        with pyro.validation_enabled(False):
            trace = poutine.trace(poutine.condition(self._traced_model, values)).get_trace(
                *self.args, **self.kwargs
            )
            log_joint = _log_joint(trace) if self._evaluator is None else self._marginal_log_joint(trace)
            return -(log_joint + log_det)

    def _marginal_log_joint(self, trace: poutine.Trace) -> torch.Tensor:
        """log p(continuous values, data) with the enumerated discrete sites summed out (variable elimination)."""
        log_factors = self._evaluator._get_log_factors(trace)
        return contract_to_tensor(log_factors, self._evaluator._enum_dims, ring=_VmapLogRing())

    def energy(self, z: torch.Tensor) -> torch.Tensor:
        """U(z) [C] for z [C, D].

        Arguments:
            z: unconstrained points [C, D].

        Returns:
            The potential energy -log p(z, data) (including the log-Jacobian of the transforms) [C], in nats.
        """
        with torch.no_grad():
            return reject_failed_evaluations(lambda x: (self._batched_energy(x),), z)[0]

    def energy_and_grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """U(z) [C] and dU/dz [C, D] for z [C, D] (one batched forward and backward pass).

        Arguments:
            z: unconstrained points [C, D].

        Returns:
            ``(U [C], dU/dz [C, D])``.
        """
        if self.compiled and z.shape == self.init.shape:
            try:
                with torch.no_grad():
                    grad, u = self._fast(z)
                return u, grad
            except torch.linalg.LinAlgError:
                pass  # some chain's point cannot be evaluated: find which, eagerly
        return reject_failed_evaluations(self._eager_energy_and_grad, z)

    def _eager_energy_and_grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            u = self._batched_energy(z)
            (grad,) = torch.autograd.grad(u.sum(), z)
        return u.detach(), grad


class FunctionPotential:
    """Wrap a plain potential-energy function U(z) on flat z [C, D] -> [C] (already batched over chains).

    Arguments:
        fn: the potential energy, vectorised over the leading chain dimension.
        dim: D, the number of coordinates.
        num_chains: C; initial points are uniform on [-2, 2]^D.
        generator: the random generator for the initial points.
        dtype: the dtype of the initial points (float64 by default, for accurate energies).

    Example:
        >>> pot = FunctionPotential(lambda z: 0.5 * (z ** 2).sum(-1), dim=2, num_chains=4,
        ...                         generator=torch.Generator().manual_seed(0))
        >>> pot.energy_and_grad(torch.ones(4, 2))[1][0].tolist()
        [1.0, 1.0]

    References:
        Neal (2011), MCMC using Hamiltonian dynamics, arXiv:1206.1901 (the potential energy U = -log density).
    """

    def __init__(
        self,
        fn: Callable[[torch.Tensor], torch.Tensor],
        dim: int,
        num_chains: int,
        generator: torch.Generator,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        self.fn, self.dim = fn, dim
        self.sites = [
            LatentSite("z", torch.Size([dim]), torch.distributions.transforms.identity_transform, 0, dim)
        ]
        self.init = torch.rand(num_chains, dim, generator=generator, dtype=dtype) * 4.0 - 2.0
        self.dtype, self.device = dtype, self.init.device
        self.observed: dict[str, torch.Tensor] = {}
        self.deterministic_names: list[str] = []
        u = self.energy(self.init)
        if u.shape != (num_chains,):
            raise InputError(
                f"the potential function must map z [chains, dim] to [chains]; got shape {tuple(u.shape)}"
            )

    def unpack(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """The single site ``z`` holding the flat coordinates.

        Arguments:
            z: points [..., D].

        Returns:
            ``{"z": z}``.
        """
        return {"z": z}

    def energy(self, z: torch.Tensor) -> torch.Tensor:
        """U(z) [C].

        Arguments:
            z: points [C, D].

        Returns:
            The potential energy [C] (no gradient).
        """
        with torch.no_grad():
            return reject_failed_evaluations(lambda x: (self.fn(x),), z)[0]

    def energy_and_grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """U(z) [C] and dU/dz [C, D].

        Arguments:
            z: points [C, D].

        Returns:
            ``(U [C], dU/dz [C, D])``, both detached; U = +inf where ``fn`` raises a linear-algebra error.
        """
        return reject_failed_evaluations(self._eager_energy_and_grad, z)

    def _eager_energy_and_grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            u = self.fn(z)
            (grad,) = torch.autograd.grad(u.sum(), z)
        return u.detach(), grad
