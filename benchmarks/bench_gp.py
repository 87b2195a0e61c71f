"""GP regression: scikit-learn's GaussianProcessRegressor against bayesdl's GPyTorch models, in one process.

Tasks (the toy "gap" regression set, standardised; test inputs cover the gap):
  * exact GP, N train points: sklearn (RBF*C + White, L-BFGS on the marginal likelihood, no restarts)
    vs ExactGPRegression (RBF with ARD, Adam through the shared trainer);
  * large N: sklearn's exact GP vs bayesdl's SparseVariationalGP (minibatch ELBO).
Figures: test NLL (nats per point, Gaussian predictive) and fit wall time. Ratios are bayesdl / peer.

Run: OMP_NUM_THREADS=1 python benchmarks/bench_gp.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from table import print_rows  # benchmarks/table.py

from bayesdl.diagnostics.metrics import gaussian_nll
from bayesdl.experiments.gp_regression import toy_split
from bayesdl.inference import Trainer
from bayesdl.inference.predictive import predict
from bayesdl.models.gp import ExactGPRegression, SparseVariationalGP


def _sklearn_fit(
    x: torch.Tensor, y: torch.Tensor, x_te: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, float]:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel(1.0) * RBF(1.0) + WhiteKernel(0.1)
    start = time.perf_counter()
    gpr = GaussianProcessRegressor(kernel, normalize_y=False, n_restarts_optimizer=0, random_state=0).fit(
        x.numpy(), y.numpy()
    )
    seconds = time.perf_counter() - start
    mean, std = gpr.predict(x_te.numpy(), return_std=True)  # std includes the White noise term
    return torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std**2, dtype=torch.float32), seconds


def _bayesdl_fit(
    kind: str, x: torch.Tensor, y: torch.Tensor, x_te: torch.Tensor, quick: bool
) -> tuple[torch.Tensor, torch.Tensor, float]:
    torch.manual_seed(0)
    start = time.perf_counter()
    if kind == "exact":
        model = ExactGPRegression.from_data(x, y, kernel="rbf")
        Trainer(model, lr=0.05, epochs=100 if quick else 200, batch_size=len(x), progress=False).fit((x, y))
    else:
        model = SparseVariationalGP(1, num_inducing=64).initialize_inducing_points(x)
        Trainer(model, lr=0.03, epochs=20 if quick else 40, batch_size=256, progress=False).fit((x, y))
    seconds = time.perf_counter() - start
    pred = predict(model, x_te)
    return pred.mean, pred.variance, seconds


def main(quick: bool = False) -> list[dict]:
    """Run the comparisons, print a table and return its rows."""
    rows: list[dict] = []
    tasks = [
        ("exact GP", "exact", 300 if quick else 1000),
        ("SVGP vs exact", "svgp", 1500 if quick else 4000),
    ]
    for task, kind, n in tasks:
        split = toy_split("gap", n, 1000, seed=0)
        m_p, v_p, t_p = _sklearn_fit(split.x_train, split.y_train, split.x_test)
        m_b, v_b, t_b = _bayesdl_fit(kind, split.x_train, split.y_train, split.x_test, quick)
        # NLL in original units: standardised NLL + log(y_std)
        offset = math.log(split.y_std)
        nll_p = gaussian_nll(m_p, v_p, split.y_test) + offset
        nll_b = gaussian_nll(m_b, v_b, split.y_test) + offset
        rows.append(
            {
                "task": f"{task}, N={n}: test NLL (nats)",
                "peer": "sklearn GPR",
                "peer_figure": f"{nll_p:.3f}",
                "bayesdl_figure": f"{nll_b:.3f}",
                "ratio": f"{nll_b - nll_p:+.3f} (difference)",
            }
        )
        rows.append(
            {
                "task": f"{task}, N={n}: fit seconds",
                "peer": "sklearn GPR",
                "peer_figure": f"{t_p:.2f}",
                "bayesdl_figure": f"{t_b:.2f}",
                "ratio": f"{t_b / t_p:.2f}",
            }
        )
    print_rows(rows)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    np.random.seed(0)
    main(quick=args.quick)
