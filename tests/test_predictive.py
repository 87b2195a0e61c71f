import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.inference.predictive import (
    CategoricalDraws,
    ClassificationPrediction,
    GaussianDraws,
    RegressionPrediction,
    predict,
)


def test_law_of_total_variance_and_entropy_decomposition_on_exact_draws():
    draws = GaussianDraws(torch.tensor([[0.0], [2.0]]), torch.tensor([[1.0], [3.0]]))
    pred = RegressionPrediction.from_draws(draws)
    assert pred.mean.item() == 1.0 and pred.epistemic.item() == 1.0 and pred.aleatoric.item() == 2.0
    lo, hi = pred.interval(0.95)
    assert torch.allclose(hi - pred.mean, 1.959964 * pred.std, atol=1e-4)
    cls = ClassificationPrediction.from_draws(CategoricalDraws(torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])))
    assert torch.allclose(cls.entropy, torch.log(torch.tensor([2.0]))) and cls.expected_entropy.item() == 0.0
    assert torch.allclose(cls.mutual_information, torch.log(torch.tensor([2.0])))


def test_malformed_draws_and_arguments_are_rejected():
    with pytest.raises(InputError, match="noise_variances"):
        RegressionPrediction.from_draws(GaussianDraws(torch.zeros(2, 3), -torch.ones(2, 3)))
    with pytest.raises(InputError, match="sum to 1"):
        ClassificationPrediction.from_draws(CategoricalDraws(torch.full((2, 3, 4), 0.5)))

    class Constant(torch.nn.Module):
        def predictive_samples(self, x, num_samples):
            return GaussianDraws(x.new_zeros(num_samples, len(x)), x.new_ones(num_samples, len(x)))

    with pytest.raises(InputError, match="num_samples"):
        predict(Constant(), torch.zeros(3, 1), num_samples=0)
    assert predict(Constant(), torch.zeros(5, 1), num_samples=2, batch_size=2).mean.shape == (5,)
