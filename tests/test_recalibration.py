"""Temperature, vector and matrix scaling recover a known miscalibration."""

import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.inference.recalibration import Recalibration


def _data(n: int, c: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = 2.0 * torch.randn(n, c, generator=g)
    return logits, torch.multinomial(logits.softmax(-1), 1, generator=g).squeeze(1)


def _nll(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float(torch.nn.functional.cross_entropy(logits.double(), labels))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_temperature_scaling_recovers_the_true_temperature_within_its_standard_error(seed):
    # the data follow softmax(z); the classifier reports 3 z, so T = 3 is the true value of a well-specified MLE,
    # and |T_hat - 3| / se(T_hat) is asymptotically standard normal: 4.5 se gives a false-failure rate < 1e-5
    logits, labels = _data(4000, 5, seed)
    scaler = Recalibration("temperature").fit(3.0 * logits, labels)
    assert abs(scaler.temperature - 3.0) < 4.5 * scaler.temperature_stderr()
    assert 0.0 < scaler.temperature_stderr() < 0.3
    calibrated = scaler.predict_proba(3.0 * logits)
    assert torch.equal(calibrated.argmax(-1), logits.argmax(-1))  # temperature never changes the decision


def test_vector_and_matrix_scaling_undo_an_affine_distortion_on_held_out_data():
    logits, labels = _data(8000, 4, 5)
    scales = torch.tensor([0.5, 1.0, 2.0, 4.0])
    shift = torch.tensor([1.0, -1.0, 0.5, 0.0])
    seen = logits / scales + shift  # the true logits are scales * (seen - shift)
    train, test = slice(0, 6000), slice(6000, None)
    true_nll = _nll(logits[test], labels[test])
    distorted_nll = _nll(seen[test], labels[test])
    assert distorted_nll - true_nll > 0.1  # the distortion is large enough to matter
    for scaling in ("vector", "matrix"):
        scaler = Recalibration(scaling).fit(seen[train], labels[train])
        # a well-specified MLE's held-out excess NLL is about (number of parameters) / (2 n) <= 0.002; 0.02 leaves ten times
        # that for the spread of the held-out difference (its sd here is below 0.005)
        assert _nll(scaler.transform(seen[test]), labels[test]) - true_nll < 0.02, scaling
    temperature = Recalibration("temperature").fit(seen[train], labels[train])
    assert _nll(temperature.transform(seen[test]), labels[test]) - true_nll > 0.05  # one scalar cannot fix it


def test_recalibration_refuses_bad_input():
    logits, labels = _data(50, 3, 0)
    with pytest.raises(InputError, match="scaling"):
        Recalibration("platt")
    with pytest.raises(InputError, match="labels"):
        Recalibration().fit(logits, labels.float())
    with pytest.raises(InputError, match="logits"):
        Recalibration().fit(logits[:, None], labels)
    with pytest.raises(InputError, match="not fitted"):
        Recalibration().transform(logits)
    fitted = Recalibration().fit(logits, labels)
    with pytest.raises(InputError, match="3 classes"):
        fitted.transform(torch.zeros(2, 4))
    with pytest.raises(InputError, match="NaN"):
        Recalibration().fit(torch.full((5, 3), float("nan")), labels[:5])
