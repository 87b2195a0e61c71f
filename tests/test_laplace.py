"""Laplace approximation: exact answers for linear-Gaussian models, explicit GGNs, structures and bad input."""

import pytest
import torch
from torch import nn

from bayesdl.errors import InputError
from bayesdl.inference.predictive import predict
from bayesdl.models.laplace import Laplace
from bayesdl.models.nets import MLP

torch.set_default_dtype(torch.float32)


def _linear_regression(n=80, d=3, sigma=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = (
        x @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)[:d]
        + 0.3
        + sigma * torch.randn(n, generator=g, dtype=torch.float64)
    )
    return x, y


def _posterior_mean_net(x, y, sigma, delta):
    xt = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    precision = xt.T @ xt / sigma**2 + delta * torch.eye(xt.shape[1], dtype=x.dtype)
    mean = torch.linalg.solve(precision, xt.T @ y / sigma**2)
    net = nn.Sequential(nn.Linear(x.shape[1], 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(mean[:-1].unsqueeze(0))
        net[0].bias.copy_(mean[-1:])
    return net, xt, precision


@pytest.mark.parametrize("hessian", ["full", "kron", "diag", "lowrank"])
def test_linear_gaussian_laplace_is_the_exact_bayesian_linear_regression(hessian):
    sigma, delta = 0.5, 2.0
    x, y = _linear_regression(sigma=sigma)
    net, xt, precision = _posterior_mean_net(x, y, sigma, delta)
    la = Laplace(
        net, likelihood="regression", hessian=hessian, noise_std=sigma, prior_precision=delta, rank=4
    ).fit((x, y))
    covariance = torch.linalg.inv(precision)
    x_test = torch.randn(5, 3, dtype=torch.float64)
    xt_test = torch.cat([x_test, torch.ones(5, 1, dtype=torch.float64)], 1)
    pred = la.predict_regression(x_test)
    if hessian == "diag":  # the diagonal keeps only the diagonal of the exact precision
        covariance = torch.diag(1.0 / torch.diagonal(precision))
    exact_var = torch.einsum("bi,ij,bj->b", xt_test, covariance, xt_test)
    assert torch.allclose(pred.epistemic, exact_var, rtol=1e-8, atol=1e-12)
    assert torch.allclose(
        pred.mean, xt_test @ torch.cat([net[0].weight[0], net[0].bias]).detach(), rtol=1e-10
    )
    assert torch.allclose(pred.aleatoric, torch.full((5,), sigma**2, dtype=torch.float64))
    if hessian != "diag":
        # the evidence of a linear-Gaussian model at its posterior mean is exact: log N(y; 0, sigma^2 I + X X^T / delta)
        marginal = torch.distributions.MultivariateNormal(
            torch.zeros(len(y), dtype=torch.float64),
            sigma**2 * torch.eye(len(y), dtype=torch.float64) + xt @ xt.T / delta,
        )
        assert la.log_marginal_likelihood() == pytest.approx(float(marginal.log_prob(y)), rel=1e-9)


def test_evidence_maximisation_finds_the_exact_optimum_of_the_linear_model():
    sigma = 0.5
    x, y = _linear_regression(sigma=sigma, seed=3)
    # with theta fixed, log p(D | delta) of the Laplace form is concave in log delta; its maximiser solves
    # P / delta = ||theta||^2 + tr((H + delta I)^{-1}), which the search must reach to its tolerance
    net, _, _ = _posterior_mean_net(x, y, sigma, 1.0)
    la = (
        Laplace(net, likelihood="regression", hessian="full", noise_std=sigma)
        .fit((x, y))
        .optimize_prior_precision()
    )
    delta = la.prior_precision
    theta = torch.cat([net[0].weight[0], net[0].bias]).detach()
    h = la.precision_structure.eigenvalues
    residual = 4 / delta - float(theta @ theta) - float((1 / (h + delta)).sum())
    assert abs(residual) < 1e-3 * 4 / delta
    assert la.log_marginal_likelihood(delta) >= la.log_marginal_likelihood(delta * 1.05)
    assert la.log_marginal_likelihood(delta) >= la.log_marginal_likelihood(delta / 1.05)


def _classifier(seed=0):
    torch.manual_seed(seed)
    net = MLP(2, [6], 3).double()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(40, 2, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (40,), generator=g)
    return net, x, y


def _explicit_ggn(net, names, x, y, ef=False):
    params = dict(net.named_parameters())
    flat = [params[n] for n in names]
    total = sum(p.numel() for p in flat)
    h = torch.zeros(total, total, dtype=torch.float64)
    for xi, yi in zip(x, y):
        logits = net(xi.unsqueeze(0))[0]
        rows = []
        for c in range(len(logits)):
            grads = torch.autograd.grad(logits[c], flat, retain_graph=True)
            rows.append(torch.cat([g.reshape(-1) for g in grads]))
        jac = torch.stack(rows)  # [C, P]
        p = logits.detach().softmax(-1)
        if ef:
            g = jac.T @ (p - nn.functional.one_hot(yi, len(p)).double())
            h += torch.outer(g, g)
        else:
            h += jac.T @ (torch.diag(p) - torch.outer(p, p)) @ jac
    return h


@pytest.mark.parametrize("curvature", ["ggn", "ef"])
@pytest.mark.parametrize("subset", ["last_layer", "all"])
def test_full_and_diagonal_curvatures_equal_the_explicit_per_example_sums(subset, curvature):
    net, x, y = _classifier()
    full = Laplace(
        net, likelihood="classification", subset=subset, hessian="full", curvature=curvature, batch_size=7
    ).fit((x, y))
    expected = _explicit_ggn(net, full._names, x, y, ef=curvature == "ef")
    s = full.precision_structure
    assert torch.allclose((s.eigenvectors * s.eigenvalues) @ s.eigenvectors.T, expected, atol=1e-10)
    diag = Laplace(net, likelihood="classification", subset=subset, hessian="diag", curvature=curvature).fit(
        (x, y)
    )
    assert torch.allclose(diag.precision_structure.diagonal, torch.diagonal(expected), atol=1e-10)
    lowrank = Laplace(
        net, likelihood="classification", subset=subset, hessian="lowrank", curvature=curvature, rank=5
    ).fit((x, y))
    top = torch.linalg.eigvalsh(expected).flip(0)[:5]
    assert torch.allclose(lowrank.precision_structure.eigenvalues, top, rtol=1e-6, atol=1e-8)


def _kron_block_order(out, inp):
    """Flat positions (weight row-major, then bias) of the entries of [W, b] in row-major order."""
    return [o * inp + i if i < inp else out * inp + o for o in range(out) for i in range(inp + 1)]


def test_kron_factors_follow_their_definition_and_match_a_dense_inverse():
    net, x, y = _classifier(1)
    la = Laplace(net, likelihood="classification", subset="all", hessian="kron", prior_precision=0.7).fit(
        (x, y)
    )
    structure = la.precision_structure
    dense = torch.zeros(la.num_params, la.num_params, dtype=torch.float64)
    start = 0
    for (g_val, g_vec, a_val, a_vec), (out, inp, _) in zip(structure.blocks, structure.shapes):
        block = torch.kron((g_vec * g_val) @ g_vec.T, (a_vec * a_val) @ a_vec.T)  # over [W, b] row-major
        index = torch.tensor(_kron_block_order(out, inp)) + start
        dense[index.unsqueeze(1), index.unsqueeze(0)] = block
        start += out * (inp + 1)
    dense += 0.7 * torch.eye(la.num_params, dtype=torch.float64)
    covariance = torch.linalg.inv(dense)
    _, jac = la._jacobians(x[:6])
    assert torch.allclose(
        structure.functional_covariance(jac, 0.7), jac @ covariance @ jac.transpose(1, 2), atol=1e-10
    )
    assert float(structure.log_det(torch.tensor(0.7, dtype=torch.float64))) == pytest.approx(
        float(torch.logdet(dense)), rel=1e-10
    )
    # the output layer's G is the summed softmax Hessian; A the mean outer product of its inputs [h, 1]
    probs = net(x).softmax(-1).detach()
    g_expected = (torch.diag_embed(probs) - probs.unsqueeze(-1) * probs.unsqueeze(-2)).sum(0)
    g_val, g_vec, a_val, a_vec = structure.blocks[-1]
    assert torch.allclose((g_vec * g_val) @ g_vec.T, g_expected, atol=1e-10)
    seen = []
    handle = la._layers[-1][0].register_forward_hook(lambda m, args, out: seen.append(args[0].detach()))
    net(x)
    handle.remove()
    inputs = torch.cat([seen[0], torch.ones(len(x), 1, dtype=torch.float64)], 1)
    assert torch.allclose((a_vec * a_val) @ a_vec.T, inputs.T @ inputs / len(x), atol=1e-10)


@pytest.mark.parametrize("hessian", ["diag", "kron", "full", "lowrank"])
def test_parameter_draws_have_the_posterior_covariance_within_monte_carlo_error(hessian):
    net, x, y = _classifier(2)
    la = Laplace(net, likelihood="classification", hessian=hessian, prior_precision=0.5, rank=8).fit((x, y))
    draws = la.sample_parameters(40000, seed=1)
    _, jac = la._jacobians(x[:1])
    eye = torch.eye(la.num_params, dtype=torch.float64).unsqueeze(0)
    # Sigma from the structure's own functional covariance with identity "Jacobians"
    sigma = la.precision_structure.functional_covariance(eye, 0.5)[0]
    centred = draws - la._map_vector()
    empirical = centred.T @ centred / len(draws)
    # the sample covariance entry (i, j) has sd sqrt((S_ii S_jj + S_ij^2) / n); 5 sd over the ~900 entries keeps
    # the chance of any false failure below 1e-3 (Bonferroni over entries with the normal tail 5.7e-7 each)
    sd = torch.sqrt((torch.outer(torch.diagonal(sigma), torch.diagonal(sigma)) + sigma**2) / len(draws))
    assert bool(((empirical - sigma).abs() < 5 * sd).all())
    assert torch.allclose(
        centred.mean(0),
        torch.zeros(la.num_params, dtype=torch.float64),
        atol=float(5 * torch.diagonal(sigma).sqrt().max() / 200),
    )
    del jac


def test_predictives_are_probabilities_and_reduce_to_the_map_without_uncertainty():
    net, x, y = _classifier(3)
    la = Laplace(net, likelihood="classification", prior_precision=1e12).fit(
        (x, y)
    )  # a prior that pins the weights
    map_probs = net(x).softmax(-1).detach()
    for link in ("probit", "mc"):
        assert torch.allclose(la.probs(x, link=link, seed=0), map_probs, atol=1e-5)
    la.prior_precision = 1.0
    for link in ("probit", "bridge", "mc"):
        p = la.probs(x, link=link, seed=0)
        assert torch.allclose(p.sum(-1), torch.ones(len(x), dtype=p.dtype), atol=1e-10) and bool(
            (p >= 0).all()
        )
    pred = predict(la, x, num_samples=50)
    assert pred.probs.shape == (40, 3) and bool((pred.mutual_information >= 0).all())
    draws = la.predictive_samples(x, 20, predictive="nn", seed=0)
    assert draws.probs.shape == (20, 40, 3)


def test_validation_nll_tuning_picks_the_best_grid_value():
    net, x, y = _classifier(4)
    la = Laplace(net, likelihood="classification", hessian="diag").fit((x, y))
    grid = [0.01, 1.0, 100.0]
    la.optimize_prior_precision("val_nll", val_data=(x, y), grid=grid)
    scores = [la._validation_nll(x, y, d, "probit") for d in grid]
    assert la.prior_precision == grid[scores.index(min(scores))]


def test_bad_input_gets_named_errors():
    net, x, y = _classifier()
    with pytest.raises(InputError, match="final nn.Linear"):
        Laplace(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()), likelihood="classification")
    with pytest.raises(InputError, match="not its final linear layer"):
        Laplace(nn.Sequential(nn.Linear(2, 3), nn.Softmax(-1)), likelihood="classification")
    with pytest.raises(InputError, match="names no trainable parameters"):
        Laplace(
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3)),
            likelihood="classification",
            subset=["1"],
        )
    with pytest.raises(InputError, match="does not have"):
        Laplace(net, likelihood="classification", subset=["nope"])
    with pytest.raises(InputError, match="nn.Linear layers only"):
        Laplace(
            nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2)),
            likelihood="classification",
            subset="all",
        )
    with pytest.raises(InputError, match="prior_precision"):
        Laplace(net, likelihood="classification", prior_precision=-1.0)
    with pytest.raises(InputError, match="fit"):
        Laplace(net, likelihood="classification").probs(x)
    with pytest.raises(InputError, match="integer class labels"):
        Laplace(net, likelihood="classification").fit((x, y.double()))
    with pytest.raises(InputError, match="empty"):
        Laplace(net, likelihood="classification").fit((x[:0], y[:0]))
    with pytest.raises(InputError, match="NaN"):
        Laplace(net, likelihood="classification").fit((x * float("nan"), y))
    with pytest.raises(InputError, match="likelihood"):
        Laplace(net)


@pytest.mark.parametrize("hessian", ["diag", "kron", "full", "lowrank"])
@pytest.mark.parametrize("bad", [3, -1, -100])
def test_class_labels_outside_the_network_outputs_are_refused(hessian, bad):
    """Before: 3 and -1 failed inside one_hot / cross_entropy, and -100 (cross_entropy's ignore_index) was skipped."""
    net, x, y = _classifier()
    y_bad = y.clone()
    y_bad[5] = bad
    with pytest.raises(InputError, match=r"y must hold class labels in 0\.\.2"):
        Laplace(net, likelihood="classification", hessian=hessian, rank=4).fit((x, y_bad))
    la = Laplace(net, likelihood="classification", hessian=hessian, rank=4).fit((x, y))
    net.train()
    with pytest.raises(InputError, match=r"y must hold class labels in 0\.\.2"):
        la.optimize_prior_precision("val_nll", val_data=(x, y_bad), grid=[1.0])
    assert net.training  # reading the output width leaves the network's mode as it was
    assert la.optimize_prior_precision("val_nll", val_data=(x, y), grid=[0.5]).prior_precision == 0.5


def test_output_layer_shortcut_equals_the_generic_kron_covariance():
    net, x, y = _classifier(5)
    la = Laplace(net, likelihood="classification", hessian="kron", prior_precision=0.3).fit((x, y))
    f, features = la._last_layer_features(x[:7])
    _, jac = la._jacobians(x[:7])
    generic = la.precision_structure.functional_covariance(jac, 0.3)
    assert torch.allclose(la.precision_structure.output_layer_covariance(features, 0.3), generic, atol=1e-12)
