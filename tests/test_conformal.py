"""Split conformal prediction: coverage over many calibration draws, against the exact Beta-binomial law.

Given the calibration set, the coverage of a fresh test point is p ~ Beta(k, n + 1 - k) with
k = ceil((n + 1)(1 - alpha)) when scores have no ties. A test set of m points then covers Binomial(m, p)/m, so
over S independent repetitions the mean coverage has expectation k/(n + 1) and variance
(Var p + E[p(1 - p)]/m) / S, both exact. The tests accept |mean - k/(n+1)| < 4.5 sd: a false-failure rate below
1e-5 per test by the normal approximation to a mean of S = 400 independent terms.
"""

import math

import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.inference.conformal import (
    ConformalClassifier,
    ConformalizedQuantileRegressor,
    SplitConformalRegressor,
    conformal_quantile,
    set_coverage,
    set_sizes,
)

REPEATS, N_CAL, N_TEST, ALPHA = 400, 99, 100, 0.1


def _coverage_law(n: int, m: int, alpha: float, repeats: int) -> tuple[float, float]:
    k = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    a, b = k, n + 1 - k
    mean = a / (a + b)
    var_p = a * b / ((a + b) ** 2 * (a + b + 1))
    var_one = var_p + (mean * (1 - mean) - var_p) / m
    return mean, math.sqrt(var_one / repeats)


def _assert_exact_coverage(coverages: list[float]) -> None:
    mean, sd = _coverage_law(N_CAL, N_TEST, ALPHA, len(coverages))
    observed = sum(coverages) / len(coverages)
    assert abs(observed - mean) < 4.5 * sd, (observed, mean, sd)


def _heteroscedastic(g: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(n, generator=g) * 4 - 2
    y = torch.sin(2 * x) + (0.1 + x.abs()) * torch.randn(n, generator=g)
    return x, y


def test_split_conformal_regression_covers_at_the_exact_beta_binomial_rate():
    g = torch.Generator().manual_seed(11)
    plain, scaled = [], []
    for _ in range(REPEATS):
        x, y = _heteroscedastic(g, N_CAL + N_TEST)
        mean = 0.8 * torch.sin(
            2 * x
        )  # a deliberately wrong predictor: the guarantee does not need a good one
        sd = 0.2 + 0.8 * x.abs()
        cal, test = slice(0, N_CAL), slice(N_CAL, None)
        cp = SplitConformalRegressor(ALPHA).calibrate(mean[cal], y[cal])
        low, high = cp.predict_interval(mean[test])
        plain.append(float(((y[test] >= low) & (y[test] <= high)).double().mean()))
        cp = SplitConformalRegressor(ALPHA).calibrate(mean[cal], y[cal], scale=sd[cal])
        low, high = cp.predict_interval(mean[test], scale=sd[test])
        scaled.append(float(((y[test] >= low) & (y[test] <= high)).double().mean()))
    _assert_exact_coverage(plain)
    _assert_exact_coverage(scaled)


def test_conformalized_quantile_regression_covers_and_adapts_its_width():
    g = torch.Generator().manual_seed(12)
    coverages, width_ratio = [], []
    for _ in range(REPEATS):
        x, y = _heteroscedastic(g, N_CAL + N_TEST)
        centre, half = torch.sin(2 * x), 1.2 * (0.1 + x.abs())  # base interval too narrow by design
        cqr = ConformalizedQuantileRegressor(ALPHA).calibrate(
            (centre - half)[:N_CAL], (centre + half)[:N_CAL], y[:N_CAL]
        )
        low, high = cqr.predict_interval((centre - half)[N_CAL:], (centre + half)[N_CAL:])
        y_test, x_test = y[N_CAL:], x[N_CAL:]
        coverages.append(float(((y_test >= low) & (y_test <= high)).double().mean()))
        wide, narrow = x_test.abs() > 1.5, x_test.abs() < 0.5
        width_ratio.append(float((high - low)[wide].mean() / (high - low)[narrow].mean()))
    _assert_exact_coverage(coverages)
    assert sum(width_ratio) / len(width_ratio) > 2.0  # noise sd grows from <0.6 to >1.6: widths must follow


@pytest.mark.parametrize(
    "method,randomized", [("threshold", False), ("aps", True), ("aps", False), ("raps", True)]
)
def test_conformal_sets_cover_at_the_exact_beta_binomial_rate(method, randomized):
    g = torch.Generator().manual_seed(13)
    coverages, sizes = [], []
    for _ in range(REPEATS):
        true_logits = 1.5 * torch.randn(N_CAL + N_TEST, 6, generator=g)
        labels = torch.multinomial(true_logits.softmax(-1), 1, generator=g).squeeze(1)
        probs = (2.5 * true_logits).softmax(-1)  # an over-confident classifier
        cp = ConformalClassifier(ALPHA, method, randomized=randomized, lam=0.1, k_reg=1)
        cp.calibrate(probs[:N_CAL], labels[:N_CAL], generator=g)
        sets = cp.predict_sets(probs[N_CAL:], generator=g)
        coverages.append(set_coverage(sets, labels[N_CAL:]))
        sizes.append(float(set_sizes(sets).double().mean()))
    _assert_exact_coverage(coverages)
    # the classifier's top-1 accuracy is below 90%, so 90% sets must hold more than one class on average, and a
    # method that returned all 6 classes would be trivially valid: both ends are failures of the set construction
    assert 1.0 < sum(sizes) / len(sizes) < 6.0


def test_raps_without_penalty_is_aps_and_its_penalty_shortens_long_sets():
    g = torch.Generator().manual_seed(3)
    probs = torch.softmax(0.3 * torch.randn(2000, 10, generator=g), -1)  # flat: APS sets are long
    labels = torch.multinomial(probs, 1, generator=g).squeeze(1)
    aps = ConformalClassifier(0.1, "aps", randomized=False).calibrate(probs, labels)
    raps0 = ConformalClassifier(0.1, "raps", randomized=False, lam=0.0).calibrate(probs, labels)
    assert torch.equal(aps.predict_sets(probs), raps0.predict_sets(probs))
    assert torch.equal(aps.scores(probs), raps0.scores(probs))


def test_conformal_quantile_is_the_finite_sample_order_statistic_and_refuses_too_few_points():
    scores = torch.randperm(19).double()
    assert float(conformal_quantile(scores, 0.1)) == 17.0  # ceil(20 * 0.9) = 18th smallest of 0..18
    conformal_quantile(torch.zeros(9), 0.1)  # 9 points are enough for alpha = 0.1
    with pytest.raises(InputError, match="at least 9 calibration points"):
        conformal_quantile(torch.zeros(8), 0.1)
    with pytest.raises(InputError, match="alpha"):
        SplitConformalRegressor(alpha=1.5)
    with pytest.raises(InputError, match="calibrate"):
        ConformalClassifier().predict_sets(torch.full((2, 2), 0.5))
    with pytest.raises(InputError, match="labels"):
        ConformalClassifier().calibrate(torch.full((20, 2), 0.5), torch.full((20,), 2))
    with pytest.raises(InputError, match="probs"):
        ConformalClassifier().calibrate(torch.full((20, 2), 0.7), torch.zeros(20, dtype=torch.long))
    with pytest.raises(InputError, match="scale"):
        SplitConformalRegressor().calibrate(torch.zeros(20), torch.zeros(20), scale=torch.zeros(20))
