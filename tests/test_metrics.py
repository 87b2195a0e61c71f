import numpy as np
import pytest
import torch
from scipy import integrate, stats
from sklearn.metrics import roc_auc_score

from bayesdl.diagnostics.metrics import (
    brier_score,
    crps_gaussian,
    expected_calibration_error,
    gaussian_nll,
    interval_coverage,
    nll,
    ood_auroc,
)
from bayesdl.errors import InputError


def _random_probs(n=300, c=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    probs = torch.softmax(3 * torch.randn(n, c, generator=gen), -1)
    labels = torch.randint(0, c, (n,), generator=gen)
    return probs, labels


def _reference_ece(probs, labels, n_bins):
    conf = probs.max(1).values.numpy().astype(np.float64)
    correct = (probs.argmax(1) == labels).numpy()
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b > 0 else (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ece_matches_loop_reference(seed):
    probs, labels = _random_probs(seed=seed)
    for n_bins in (1, 10, 15):
        assert expected_calibration_error(probs, labels, n_bins) == pytest.approx(
            _reference_ece(probs, labels, n_bins), abs=1e-6
        )


def test_ece_is_zero_when_perfectly_calibrated():
    # confidence 0.75 everywhere and 3 of 4 correct
    probs = torch.tensor([[0.75, 0.25]] * 4)
    assert expected_calibration_error(probs, torch.tensor([0, 0, 0, 1])) == pytest.approx(0.0, abs=1e-7)


def test_brier_matches_numpy():
    probs, labels = _random_probs(seed=3)
    onehot = np.eye(5)[labels.numpy()]
    assert brier_score(probs, labels) == pytest.approx(
        ((probs.numpy() - onehot) ** 2).sum(1).mean(), rel=1e-5
    )


def test_auroc_matches_sklearn_including_ties():
    gen = torch.Generator().manual_seed(4)
    score_in = torch.randn(200, generator=gen)
    score_out = torch.randn(150, generator=gen) + 0.7
    score_out[:20] = score_in[:20]  # ties across the groups
    truth = np.r_[np.zeros(200), np.ones(150)]
    expected = roc_auc_score(truth, np.r_[score_in.numpy(), score_out.numpy()])
    assert ood_auroc(score_in, score_out) == pytest.approx(expected, abs=1e-10)


def test_gaussian_scores_match_scipy():
    gen = torch.Generator().manual_seed(5)
    mean, std, y = (
        torch.randn(50, generator=gen),
        torch.rand(50, generator=gen) + 0.2,
        torch.randn(50, generator=gen),
    )
    ref_nll = -stats.norm.logpdf(y.numpy(), mean.numpy(), std.numpy()).mean()
    assert gaussian_nll(mean, std**2, y) == pytest.approx(ref_nll, rel=1e-5)
    # CRPS = integral (F(z) - 1{z >= y})^2 dz
    ref = []
    for m, s, t in zip(mean.tolist()[:10], std.tolist()[:10], y.tolist()[:10]):
        left = integrate.quad(lambda z, m=m, s=s: stats.norm.cdf(z, m, s) ** 2, -np.inf, t)[0]
        right = integrate.quad(lambda z, m=m, s=s: (1 - stats.norm.cdf(z, m, s)) ** 2, t, np.inf)[0]
        ref.append(left + right)
    assert crps_gaussian(mean[:10], std[:10], y[:10]) == pytest.approx(np.mean(ref), rel=1e-4)


def test_interval_coverage_counts_inside_points():
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    assert interval_coverage(torch.full((4,), 0.5), torch.full((4,), 2.0), y) == 0.5


def test_bad_inputs_are_rejected():
    probs, labels = _random_probs(n=10)
    with pytest.raises(InputError, match="labels"):
        expected_calibration_error(probs, labels + 5)
    with pytest.raises(InputError, match="NaN"):
        brier_score(probs * float("nan"), labels)
    with pytest.raises(InputError, match="n_bins"):
        expected_calibration_error(probs, labels, n_bins=0)
    with pytest.raises(InputError, match="std"):
        crps_gaussian(torch.zeros(3), torch.zeros(3), torch.zeros(3))
    with pytest.raises(InputError, match="upper"):
        interval_coverage(torch.ones(2), torch.zeros(2), torch.zeros(2))
    with pytest.raises(InputError, match="shape"):
        gaussian_nll(torch.zeros(3), torch.ones(2), torch.zeros(3))
    assert nll(probs, labels) > 0
