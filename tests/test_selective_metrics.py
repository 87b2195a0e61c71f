"""OOD detection and selective-prediction metrics against scikit-learn and direct computations."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_curve

from bayesdl.diagnostics.selective import (
    energy_score,
    entropy_score,
    fpr_at_tpr,
    max_softmax_score,
    ood_aupr,
    risk_coverage,
)
from bayesdl.errors import InputError


@pytest.mark.parametrize("rounding", [None, 1])
def test_aupr_and_fpr95_match_scikit_learn_with_and_without_ties(rounding):
    g = torch.Generator().manual_seed(0)
    score_in, score_out = torch.randn(300, generator=g), torch.randn(200, generator=g) + 1.0
    if rounding is not None:
        score_in, score_out = score_in.round(decimals=rounding), score_out.round(decimals=rounding)
    scores = torch.cat([score_in, score_out]).numpy()
    is_out = np.r_[np.zeros(300), np.ones(200)]
    assert ood_aupr(score_in, score_out) == pytest.approx(average_precision_score(is_out, scores), abs=1e-12)
    assert ood_aupr(score_in, score_out, positive="in") == pytest.approx(
        average_precision_score(1 - is_out, -scores), abs=1e-12
    )
    fpr, tpr, _ = roc_curve(is_out, scores)
    assert fpr_at_tpr(score_in, score_out, 0.95) == pytest.approx(fpr[np.argmax(tpr >= 0.95)], abs=1e-12)


def test_risk_coverage_and_aurc_match_the_prefix_definition():
    g = torch.Generator().manual_seed(1)
    uncertainty = torch.rand(500, generator=g)
    errors = (torch.rand(500, generator=g) < uncertainty).double()  # errors are likelier when uncertain
    rc = risk_coverage(uncertainty, errors)
    order = np.argsort(uncertainty.numpy())
    prefix_risk = np.cumsum(errors.numpy()[order]) / np.arange(1, 501)
    assert rc.aurc == pytest.approx(prefix_risk.mean(), abs=1e-12)
    assert np.allclose(rc.risk.numpy(), prefix_risk)
    shuffled = risk_coverage(torch.rand(500, generator=g), errors)
    assert (
        rc.aurc < shuffled.aurc
    )  # an informative uncertainty beats a random one (0.17 against 0.5 expected)
    tied = risk_coverage(torch.tensor([0.0, 0.0, 1.0]), torch.tensor([1.0, 0.0, 0.0]))
    assert tied.coverage.tolist() == pytest.approx([2 / 3, 1.0]) and tied.aurc == pytest.approx(
        (0.5 + 0.5 + 1 / 3) / 3
    )


def test_ood_scores_follow_their_definitions_and_check_input():
    probs = torch.tensor([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    assert torch.allclose(max_softmax_score(probs), torch.tensor([-0.7, -1 / 3]))
    assert torch.allclose(entropy_score(probs), -(probs * probs.log()).sum(-1))
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    assert torch.allclose(energy_score(logits, temperature=2.0), -2.0 * torch.logsumexp(logits / 2.0, -1))
    with pytest.raises(InputError, match="probs"):
        entropy_score(torch.tensor([[0.7, 0.7]]))
    with pytest.raises(InputError, match="positive"):
        ood_aupr(torch.zeros(3), torch.ones(3), positive="both")
    with pytest.raises(InputError, match="tpr"):
        fpr_at_tpr(torch.zeros(3), torch.ones(3), tpr=0.0)
    with pytest.raises(InputError, match="loss"):
        risk_coverage(torch.zeros(3), torch.zeros(4))
