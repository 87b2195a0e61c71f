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


def test_uncertainty_histogram_bins_both_scores_on_the_same_edges():
    import matplotlib.pyplot as plt

    from bayesdl.diagnostics.uncertainty_plots import uncertainty_histogram

    g = torch.Generator().manual_seed(0)
    fig = uncertainty_histogram(
        torch.rand(300, generator=g) * 0.1, torch.rand(300, generator=g) + 1.0, bins=20
    )
    patches = fig.axes[0].patches
    inside, outside = patches[:20], patches[20:]
    assert len(outside) == 20
    assert [p.get_x() for p in inside] == [p.get_x() for p in outside]
    plt.close(fig)


def test_reliability_diagram_has_a_legend_and_per_bin_counts():
    import matplotlib.pyplot as plt

    from bayesdl.diagnostics.uncertainty_plots import reliability_diagram

    g = torch.Generator().manual_seed(0)
    probs = torch.randn(500, 4, generator=g).mul(2).softmax(1)
    labels = torch.randint(0, 4, (500,), generator=g)
    fig = reliability_diagram(probs, labels, n_bins=10)
    ax = fig.axes[0]
    assert {"accuracy in the bin", "gap to mean confidence", "perfect calibration"} <= {
        t.get_text() for t in ax.get_legend().get_texts()
    }
    counts = [int(t.get_text()) for t in ax.texts]
    assert sum(counts) == 500
    plt.close(fig)


def test_binary_calibration_counts_every_example_and_refuses_bad_input():
    import matplotlib.pyplot as plt
    import pytest

    from bayesdl.diagnostics.uncertainty_plots import binary_calibration
    from bayesdl.errors import InputError

    g = torch.Generator().manual_seed(0)
    p = torch.rand(400, generator=g)
    fig = binary_calibration(p, (torch.rand(400, generator=g) < p).float(), n_bins=8)
    assert sum(int(t.get_text()) for t in fig.axes[0].texts) == 400
    plt.close(fig)
    with pytest.raises(InputError, match="must be 0 or 1"):
        binary_calibration(p, torch.full((400,), 2.0))


def test_forest_plot_fills_its_r_hat_column():
    import matplotlib.pyplot as plt

    from bayesdl.diagnostics.arviz_export import posterior_to_inference_data
    from bayesdl.diagnostics.arviz_plots import plot_forest

    g = torch.Generator().manual_seed(0)
    fig = plot_forest(
        posterior_to_inference_data(
            {"mu": torch.randn(4, 200, generator=g), "w": torch.randn(4, 200, 3, generator=g)}
        )
    )
    (column,) = [ax for ax in fig.axes if ax.get_title() == "r_hat"]
    (points,) = column.collections
    values = points.get_offsets()[:, 0]
    assert len(values) == 4 and all(0.98 < v < 1.05 for v in values)  # 4 well-mixed iid chains: R-hat near 1
    plt.close(fig)
