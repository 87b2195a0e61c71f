import torch

from bayesdl.diagnostics.uncertainty_plots import regression_bands, reliability_diagram, uncertainty_histogram
from bayesdl.inference.predictive import RegressionPrediction


def test_plots_are_written_to_files(tmp_path):
    probs = torch.softmax(torch.randn(100, 4), -1)
    labels = torch.randint(0, 4, (100,))
    fig = reliability_diagram(probs, labels, n_bins=10, title="test", path=tmp_path / "rel.png")
    assert "ECE" in fig.axes[0].get_title()
    x = torch.linspace(-2, 2, 50)
    pred = RegressionPrediction(torch.sin(x), 0.1 * x.abs(), torch.full((50,), 0.05))
    regression_bands(x.unsqueeze(1), pred, x, torch.sin(x), torch.sin(x), path=tmp_path / "bands.png")
    uncertainty_histogram(torch.rand(80), torch.rand(60) + 1, path=tmp_path / "hist.png")
    for name in ("rel.png", "bands.png", "hist.png"):
        assert (tmp_path / name).stat().st_size > 1000
