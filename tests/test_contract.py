"""One contract test for every model family (in the style of zuko's ``tests/test_flows.py``).

Each registered family (:data:`FAMILIES`) gets the same checks:

* the loss is a finite scalar, and one epoch through the shared :class:`~bayesdl.inference.Trainer` runs;
* save and load give identical outputs;
* ``log_prob`` / ``predict`` (or the family's query) return one value per example;
* the model builds on the ``meta`` device and follows ``.to()``;
* bad input (NaN, wrong shape, wrong dtype or values, empty data) raises :class:`~bayesdl.errors.InputError`
  naming the argument.

A family added later gets all of this by adding one :class:`Family` entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyro
import pytest
import torch

import bayesdl
from bayesdl.contracts import HasLoss, PredictiveSampler, Predictor, PyroModelGuide, Serializable
from bayesdl.errors import InputError
from bayesdl.inference import (
    Trainer,
    as_objective,
    fit_ensemble,
    fit_greedy,
    log_likelihood,
    ode_log_likelihood,
)
from bayesdl.inference.predictive import predict
from bayesdl.models import (
    DBN,
    DDPM,
    IAF,
    MADE,
    MAF,
    MLP,
    NADE,
    RBM,
    VAE,
    BayesByBackprop,
    BayesianLogisticRegression,
    ConditionalDDPM,
    DeepEnsemble,
    DeepKernelGP,
    Dequantized,
    ExactGPRegression,
    FlowMatching,
    MCDropout,
    MultiScaleFlow,
    NSFAutoregressive,
    NSFCoupling,
    PixelCNN,
    PlainNet,
    PlanarFlow,
    PyroBNN,
    RealNVP,
    ScoreSDE,
    SparseVariationalGP,
)
from bayesdl.models.continuous import VESDE, SubVPSDE
from bayesdl.models.vae import (
    FlowPosteriorEncoder,
    FlowPrior,
    MLPDecoder,
    MLPEncoder,
    PixelCNNDecoder,
    VampPrior,
)
from bayesdl.nn import DenoisingMLP
from bayesdl.randomness import seeded_rng

N = 24  # training examples of every family


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def binary(*shape: int) -> torch.Tensor:
    return (torch.rand(N, *shape, generator=_gen()) < 0.4).float()


def real(*shape: int) -> torch.Tensor:
    return torch.randn(N, *shape, generator=_gen())


def levels(num_levels: int, *shape: int) -> torch.Tensor:
    return torch.randint(0, num_levels, (N, *shape), generator=_gen()).float()


def labelled(num_inputs: int, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    return real(num_inputs), torch.randint(0, num_classes, (N,), generator=_gen(1))


def regression(num_inputs: int) -> tuple[torch.Tensor, torch.Tensor]:
    return real(num_inputs), torch.randn(N, generator=_gen(1))


@dataclass
class Family:
    """A tiny instance of one model family and how to query it.

    Attributes:
        build: a constructor of a tiny model.
        data: its training data (one tensor, or ``(x, y)``).
        query: a deterministic output with one row per example (``log_prob``, a predictive mean, ...).
        argument: the name of the data argument that errors must mention ("x", "y", "levels", ...).
        bad: which bad inputs apply: "nan", "shape", "dtype" (values or a dtype the data cannot have), "empty".
        guide: for Pyro models without their own guide, a guide factory.
        fit: how one epoch of training runs, when not ``Trainer(model).fit(data)``.
        trainer: extra Trainer arguments.
        meta: whether it builds on the meta device (GPyTorch's constraints call ``.item()`` in their
            constructors, so the GPs cannot; they are still checked to follow ``.to()``).
    """

    build: Callable[[], Any]
    data: Callable[[], Any]
    query: Callable[[Any, Any], torch.Tensor]
    argument: str = "x"
    bad: tuple[str, ...] = ("nan", "shape", "dtype", "empty")
    guide: Callable[[Any], Any] | None = None
    fit: Callable[..., Any] | None = None
    trainer: dict[str, Any] = field(default_factory=dict)
    meta: bool = True


def _seeded(fn: Callable[[], torch.Tensor]) -> torch.Tensor:
    with seeded_rng(0), torch.no_grad():
        return fn()


def _log_prob(model: Any, x: Any) -> torch.Tensor:
    return _seeded(lambda: model.log_prob(x))


def _predictive_mean(model: Any, xy: Any) -> torch.Tensor:
    x = xy[0]
    pred = _seeded(lambda: predict(model, x, num_samples=3))
    return pred.mean if hasattr(pred, "mean") else pred.probs


def _vae_log_likelihood(model: Any, x: Any) -> torch.Tensor:
    return log_likelihood(model, x, num_samples=4, seed=0).log_prob


def _ode_log_likelihood(model: Any, x: Any) -> torch.Tensor:
    return ode_log_likelihood(model, x, rtol=1e-3, atol=1e-3).log_prob


def _pyro_forward(model: Any, xy: Any) -> torch.Tensor:
    with seeded_rng(0), torch.no_grad():
        pyro.set_rng_seed(0)
        return model(xy[0])


GP = {"meta": False}


def _svgp(likelihood: str = "gaussian", **kwargs: Any) -> SparseVariationalGP:
    return SparseVariationalGP(2, num_inducing=6, likelihood=likelihood, **kwargs).initialize_inducing_points(
        real(2)
    )


def _dkl() -> DeepKernelGP:
    return DeepKernelGP(
        num_features=2, num_inducing=6, num_inputs=2, hidden_sizes=[8]
    ).initialize_inducing_points(real(2))


FAMILIES: dict[str, Family] = {
    "vae": Family(
        lambda: VAE(MLPEncoder([6], 2, [8]), MLPDecoder(2, [6], [8])), lambda: binary(6), _vae_log_likelihood
    ),
    "vae-iwae-vampprior": Family(
        lambda: VAE(
            MLPEncoder([6], 2, [8]),
            MLPDecoder(2, [6], [8]),
            prior=VampPrior(2, [6], 4),
            objective="iwae",
            num_particles=3,
        ),
        lambda: binary(6),
        _vae_log_likelihood,
    ),
    "vae-flow-posterior-prior": Family(
        lambda: VAE(FlowPosteriorEncoder([6], 2, [8]), MLPDecoder(2, [6], [8]), prior=FlowPrior(2)),
        lambda: binary(6),
        _vae_log_likelihood,
    ),
    "vae-spline-posterior-prior": Family(
        lambda: VAE(
            FlowPosteriorEncoder([6], 2, [8], flow="nsf"),
            MLPDecoder(2, [6], [8]),
            prior=FlowPrior(2, flow="nsf"),
        ),
        lambda: binary(6),
        _vae_log_likelihood,
    ),
    "vae-gaussian-decoder": Family(
        lambda: VAE(MLPEncoder([3], 2, [8]), MLPDecoder(2, [3], [8], likelihood="gaussian")),
        lambda: real(3),
        _vae_log_likelihood,
    ),
    "pixelvae": Family(
        lambda: VAE(
            MLPEncoder([1, 4, 4], 2, [8]), PixelCNNDecoder(2, [1, 4, 4], num_layers=2, hidden_channels=4)
        ),
        lambda: binary(1, 4, 4),
        _vae_log_likelihood,
    ),
    "realnvp": Family(lambda: RealNVP(4, num_layers=2, hidden_sizes=[8]), lambda: real(4), _log_prob),
    "maf": Family(lambda: MAF(4, num_layers=2, hidden_sizes=[8]), lambda: real(4), _log_prob),
    "iaf": Family(lambda: IAF(4, num_layers=2, hidden_sizes=[8]), lambda: real(4), _log_prob),
    "nsf-coupling": Family(
        lambda: NSFCoupling(4, num_layers=2, hidden_sizes=[8], bins=4), lambda: real(4), _log_prob
    ),
    "nsf-autoregressive": Family(
        lambda: NSFAutoregressive(4, num_layers=2, hidden_sizes=[8], bins=4), lambda: real(4), _log_prob
    ),
    "planar": Family(lambda: PlanarFlow(2, num_layers=2), lambda: real(2), _log_prob),
    "multiscale": Family(
        lambda: MultiScaleFlow([1, 4, 4], num_scales=1, steps_per_scale=1, hidden_channels=4),
        lambda: torch.rand(N, 1, 4, 4, generator=_gen()),
        _log_prob,
    ),
    "dequantized": Family(
        lambda: Dequantized(MAF(4, 1, [8], logit_alpha=0.05), num_levels=17),
        lambda: levels(17, 4),
        lambda m, x: m.nll_discrete(x, generator=_gen()),
        argument="levels",
    ),
    "nade": Family(lambda: NADE(6, 4), lambda: binary(6), _log_prob),
    "made": Family(lambda: MADE(6, [8], num_masks=2), lambda: binary(6), _log_prob),
    "pixelcnn": Family(
        lambda: PixelCNN(1, 4, num_layers=2, hidden_channels=4), lambda: binary(1, 4, 4), _log_prob
    ),
    "rbm": Family(
        lambda: RBM(6, 4, method="pcd", num_chains=4),
        lambda: binary(6),
        _log_prob,
        argument="v",
        trainer={"optimizer": "sgd", "lr": 0.05},
    ),
    "dbn": Family(
        lambda: DBN([6, 4, 3]),
        lambda: binary(6),
        lambda m, x: m.transform(x),
        argument="v",
        fit=lambda model, data, **kw: fit_greedy(model, data, optimizer="sgd", lr=0.05, **kw),
    ),
    "ddpm": Family(
        lambda: DDPM(DenoisingMLP(2), data_shape=[2], num_steps=10),
        lambda: real(2),
        lambda m, x: m.nll_bound(x, seed=0),
        argument="x0",
    ),
    "score-sde-vp": Family(
        lambda: ScoreSDE(DenoisingMLP(2, hidden=8, num_blocks=1), [2]), lambda: real(2), _ode_log_likelihood
    ),
    "score-sde-subvp-likelihood": Family(
        lambda: ScoreSDE(
            DenoisingMLP(2, hidden=8, num_blocks=1),
            [2],
            sde=SubVPSDE(),
            weighting="likelihood",
            time_sampling="importance",
        ),
        lambda: real(2),
        _ode_log_likelihood,
    ),
    "score-sde-ve": Family(
        lambda: ScoreSDE(DenoisingMLP(2, hidden=8, num_blocks=1), [2], sde=VESDE(0.01, 5.0)),
        lambda: real(2),
        _ode_log_likelihood,
    ),
    "flow-matching": Family(
        lambda: FlowMatching(DenoisingMLP(2, hidden=8, num_blocks=1), [2]),
        lambda: real(2),
        _ode_log_likelihood,
    ),
    "conditional-ddpm": Family(
        lambda: ConditionalDDPM(DenoisingMLP(2, num_classes=3), num_classes=3, data_shape=[2], num_steps=10),
        lambda: labelled(2, 3),
        lambda m, xy: m.nll_bound(xy[0], y=xy[1], seed=0),
        argument="x0",
    ),
    "plain-classifier": Family(lambda: PlainNet(MLP(3, [8], 4)), lambda: labelled(3, 4), _predictive_mean),
    "plain-heteroscedastic": Family(
        lambda: PlainNet(MLP(3, [8], 2), "heteroscedastic"), lambda: regression(3), _predictive_mean
    ),
    "mc-dropout": Family(
        lambda: MCDropout(MLP(3, [8], 4, dropout=0.2)), lambda: labelled(3, 4), _predictive_mean
    ),
    "bayes-by-backprop": Family(
        lambda: BayesByBackprop(MLP(3, [8], 4)), lambda: labelled(3, 4), _predictive_mean
    ),
    "bayes-by-backprop-regression": Family(
        lambda: BayesByBackprop(MLP(3, [8], 1), "homoscedastic"), lambda: regression(3), _predictive_mean
    ),
    "deep-ensemble": Family(
        lambda: DeepEnsemble(MLP(3, [8], 4), num_members=2),
        lambda: labelled(3, 4),
        _predictive_mean,
        fit=fit_ensemble,
    ),
    "exact-gp": Family(
        lambda: ExactGPRegression(2, num_train=N),
        lambda: regression(2),
        _predictive_mean,
        trainer={"batch_size": N},
        **GP,
    ),
    "svgp": Family(_svgp, lambda: regression(2), _predictive_mean, **GP),
    "svgp-probit": Family(lambda: _svgp("probit"), lambda: (real(2), binary()), _predictive_mean, **GP),
    "svgp-softmax": Family(
        lambda: _svgp("softmax", num_classes=3), lambda: labelled(2, 3), _predictive_mean, **GP
    ),
    "deep-kernel-gp": Family(_dkl, lambda: regression(2), _predictive_mean, **GP),
    "pyro-bnn": Family(
        lambda: PyroBNN(MLP(3, [8], 4)), lambda: labelled(3, 4), _pyro_forward, guide=lambda m: m.autoguide()
    ),
    "logistic": Family(
        lambda: BayesianLogisticRegression(3, 4),
        lambda: labelled(3, 4),
        _pyro_forward,
        guide=lambda m: pyro.infer.autoguide.AutoNormal(m),
    ),
}


def _as_args(data: Any) -> tuple[torch.Tensor, ...]:
    return data if isinstance(data, tuple) else (data,)


def _train_one_epoch(family: Family, model: Any, data: Any) -> Any:
    kwargs = {"epochs": 1, "batch_size": 8, "progress": False, "device": "cpu", **family.trainer}
    if family.fit is not None:
        return family.fit(model, data, **kwargs)
    guide = family.guide(model) if family.guide is not None else None
    return Trainer(model, guide=guide, **kwargs).fit(data)


@pytest.fixture(params=sorted(FAMILIES))
def family(request: pytest.FixtureRequest) -> tuple[str, Family]:
    return request.param, FAMILIES[request.param]


def test_loss_is_a_finite_scalar_and_one_epoch_trains(family):
    name, fam = family
    torch.manual_seed(0)
    model, data = fam.build(), fam.data()
    if fam.fit is None:
        guide = fam.guide(model) if fam.guide is not None else None
        objective = as_objective(model, guide=guide)
        objective.setup(data, N)
        loss = objective.loss(data, N)
        assert loss.shape == () and bool(torch.isfinite(loss)), f"{name}: loss {loss}"
        assert isinstance(model, (HasLoss, PyroModelGuide)) or guide is not None
    history = _train_one_epoch(fam, model, data)
    for h in (
        history if isinstance(history, list) else [history]
    ):  # ensembles and stacks: one per member/layer
        assert len(h) == 1 and math.isfinite(h.losses[0]), f"{name}: {h.records}"


def test_save_and_load_give_identical_outputs(family, tmp_path):
    name, fam = family
    torch.manual_seed(0)
    model, data = fam.build(), fam.data()
    _train_one_epoch(fam, model, data)
    model.eval()
    assert isinstance(model, Serializable), f"{name} is not @serializable"
    bayesdl.save(model, tmp_path / "model")
    loaded = bayesdl.load(tmp_path / "model").eval()
    before, after = fam.query(model, data), fam.query(loaded, data)
    assert torch.equal(before, after), f"{name}: outputs differ after load"


def test_query_has_one_value_per_example(family):
    name, fam = family
    torch.manual_seed(0)
    model, data = fam.build(), fam.data()
    out = fam.query(model, data)
    assert out.shape[0] == N and bool(torch.isfinite(out).all()), f"{name}: {tuple(out.shape)}"
    x = _as_args(data)[0]
    if isinstance(model, (PredictiveSampler, Predictor)):
        pred = _seeded(lambda: predict(model, x, num_samples=2))
        assert len(getattr(pred, "mean", getattr(pred, "probs", None))) == N


def test_builds_on_meta_and_follows_to(family):
    name, fam = family
    if fam.meta:
        with torch.device("meta"):
            model = fam.build()
        tensors = list(model.parameters()) + list(model.buffers())
        assert tensors and all(t.device.type == "meta" for t in tensors), name
    model = fam.build().to(torch.float64)
    floating = [t for t in list(model.parameters()) + list(model.buffers()) if t.is_floating_point()]
    assert floating and all(t.dtype == torch.float64 for t in floating), name


def _bad_inputs(fam: Family, data: Any) -> dict[str, tuple[torch.Tensor, ...]]:
    """Each kind of bad input applied to the data argument x (the first tensor of the data)."""
    args = list(_as_args(data))
    x = args[0]
    nan = x.clone()
    nan.view(-1)[0] = float("nan")
    cases = {
        "nan": (nan, *args[1:]),
        "shape": (x[..., :-1] if x.dim() > 1 else x.unsqueeze(1), *args[1:]),
        "empty": tuple(a[:0] for a in args),
    }
    if bool(((x == 0) | (x == 1)).all()):  # binary data: a value that is neither 0 nor 1
        cases["dtype"] = (torch.full_like(x, 0.5), *args[1:])
    elif bool((x == x.round()).all()):  # integer levels: a non-integer
        cases["dtype"] = (x + 0.5, *args[1:])
    else:  # real data: an integer tensor
        cases["dtype"] = (x.round().long(), *args[1:])
    return {k: v for k, v in cases.items() if k in fam.bad}


def test_bad_input_raises_input_error_naming_the_argument(family):
    name, fam = family
    torch.manual_seed(0)
    model, data = fam.build(), fam.data()
    for kind, bad in _bad_inputs(fam, data).items():
        with pytest.raises(InputError) as caught:
            fam.query(model, bad if isinstance(data, tuple) else bad[0])
        assert fam.argument in str(caught.value), f"{name}/{kind}: {caught.value}"


def test_bad_labels_raise_input_error_naming_y(family):
    name, fam = family
    model, data = fam.build(), fam.data()
    if not isinstance(data, tuple) or fam.fit is not None:
        return
    x, y = data
    if not y.is_floating_point():  # class labels: real values
        wrong = y.float() + 0.5
    elif bool(((y == 0) | (y == 1)).all()):  # binary targets: a value that is neither 0 nor 1
        wrong = torch.full_like(y, 0.5)
    else:  # regression targets: an integer tensor
        wrong = y.round().long()
    guide = fam.guide(model) if fam.guide is not None else None
    objective = as_objective(model, guide=guide)
    with pytest.raises(InputError, match="y"):
        objective.setup((x, wrong), N)
        objective.loss((x, wrong), N)


def test_training_on_nan_data_raises_input_error(family):
    name, fam = family
    model, data = fam.build(), fam.data()
    bad = _bad_inputs(fam, data)["nan"]
    with pytest.raises(InputError):
        _train_one_epoch(fam, model, bad if isinstance(data, tuple) else bad[0])


def test_integer_copy_of_valid_data_trains_or_raises_input_error(family):
    """Valid 0/1 or level data held in an int64 tensor is either accepted (and gives a finite loss), or refused at
    fit with an InputError naming the data; never a raw torch error from inside a matrix product or a loss."""
    name, fam = family
    data = fam.data()
    args = list(_as_args(data))
    x = args[0]
    if not x.is_floating_point() or not bool((x == x.round()).all()):
        return  # real-valued data: the float-to-int case is the "dtype" bad input above
    integer = (x.long(), *args[1:])
    try:
        history = _train_one_epoch(fam, fam.build(), integer if isinstance(data, tuple) else integer[0])
    except InputError as err:
        assert "dtype" in str(err) or "floating" in str(err), f"{name}: {err}"
        return
    for h in history if isinstance(history, list) else [history]:
        assert math.isfinite(h.losses[0]), f"{name}: {h.records}"
