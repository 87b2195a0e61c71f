"""Benchmark: bayesdl's post-hoc Laplace against laplace-torch on the same MAP network, in one process.

Task: the 8x8 digits (1500 train / 297 test images, pixels scaled to [0, 1]). One MAP network, an MLP
64-100-100-10 with ReLU, is trained once by Adam (lr 1e-3, weight decay 1e-4, batch 100) and then handed to both
libraries unchanged. Two configurations, each with the generalised Gauss-Newton curvature, the GLM predictive
with the probit approximation, and the isotropic prior precision tuned post hoc by the Laplace evidence (and,
to compare the approximations themselves, fixed at 1):

* last-layer KFAC (``subset="last_layer", hessian="kron"`` / ``subset_of_weights="last_layer",
  hessian_structure="kron"``);
* diagonal over all weights (``subset="all", hessian="diag"`` / ``subset_of_weights="all",
  hessian_structure="diag"``).

Reported: test NLL (nats) and ECE (15 bins) of each, the fitted prior precision, and the fit time (curvature plus
prior tuning) and predict time (the whole test set), median of ``--repeats`` runs in alternation. laplace-torch
tunes the prior by 100 Adam steps on log delta (its default); bayesdl maximises the same evidence by a grid and a
Brent search. The probit predictive is deterministic, so NLL and ECE carry no Monte Carlo error: two libraries
computing the same approximation should agree to rounding, and a difference measures a difference in the
approximation (e.g. in the tuned prior precision).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_laplace.py [--quick] [--repeats R]`` (needs ``laplace-torch``, in
the ``[bench]`` extra; it imports without torchvision).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from table import print_rows  # benchmarks/table.py

from bayesdl.data import load_digits
from bayesdl.diagnostics import expected_calibration_error, nll
from bayesdl.models.laplace import Laplace
from bayesdl.models.nets import MLP


def _map_network(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = MLP(64, [100, 100], 10)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(100):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            optimizer.step()
    return net.eval()


def _bayesdl(net, x, y, x_test, subset, hessian, fixed_prior=None):
    start = time.perf_counter()
    la = Laplace(net, likelihood="classification", subset=subset, hessian=hessian, prior_precision=fixed_prior or 1.0).fit((x, y))
    if fixed_prior is None:
        la.optimize_prior_precision()
    fit = time.perf_counter() - start
    start = time.perf_counter()
    probs = la.probs(x_test, link="probit")
    return probs.detach(), fit, time.perf_counter() - start, la.prior_precision


def _laplace_torch(net, x, y, x_test, subset, hessian, fixed_prior=None):
    from laplace import Laplace as PeerLaplace

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=256)
    start = time.perf_counter()
    la = PeerLaplace(net, "classification", subset_of_weights=subset, hessian_structure=hessian, prior_precision=fixed_prior or 1.0)
    la.fit(loader)
    if fixed_prior is None:
        la.optimize_prior_precision(method="marglik")
    fit = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        probs = la(x_test, pred_type="glm", link_approx="probit")
    return probs.detach(), fit, time.perf_counter() - start, float(la.prior_precision)


def main(quick: bool = False, repeats: int = 3, seed: int = 0) -> list[dict]:
    """Run both configurations with both libraries, print a table and return its rows."""
    x, y = load_digits("train")
    x_test, y_test = load_digits("test")
    net = _map_network(x, y, epochs=5 if quick else 100, seed=seed)
    map_probs = net(x_test).softmax(-1).detach()
    print(f"MAP network: test NLL {nll(map_probs, y_test):.4f}, ECE {expected_calibration_error(map_probs, y_test):.4f}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, torch threads {torch.get_num_threads()}")
    rows = []
    for subset, hessian, label in (("last_layer", "kron", "last-layer KFAC GLM probit"), ("all", "diag", "all-weights diag GLM probit")):
        ours, peer = [], []
        for _ in range(1 if quick else repeats):  # alternate, so that load changes hit both alike
            ours.append(_bayesdl(net, x, y, x_test, subset, hessian))
            peer.append(_laplace_torch(net, x, y, x_test, subset, hessian))
        for name, runs in (("bayesdl", ours), ("laplace-torch", peer)):
            probs, _, _, delta = runs[-1]
            print(f"{label:30s} {name:14s} NLL {nll(probs, y_test):.4f}  ECE {expected_calibration_error(probs, y_test):.4f}  "
                  f"prior precision {delta:.4g}  fit {statistics.median(r[1] for r in runs):.3f} s  "
                  f"predict {statistics.median(r[2] for r in runs):.3f} s")
        fit_ratio = statistics.median(r[1] for r in ours) / statistics.median(r[1] for r in peer)
        pred_ratio = statistics.median(r[2] for r in ours) / statistics.median(r[2] for r in peer)
        p_ours, p_peer = ours[-1][0], peer[-1][0]
        fixed_ours = _bayesdl(net, x, y, x_test, subset, hessian, fixed_prior=1.0)[0]
        fixed_peer = _laplace_torch(net, x, y, x_test, subset, hessian, fixed_prior=1.0)[0]
        rows.append({"task": f"{label}, prior precision fixed at 1: max |p_bayesdl - p_peer|", "peer": "laplace-torch",
                     "peer_figure": f"NLL {nll(fixed_peer, y_test):.5f}", "bayesdl_figure": f"NLL {nll(fixed_ours, y_test):.5f}",
                     "ratio": f"{float((fixed_ours - fixed_peer).abs().max()):.1e}"})
        rows.append({"task": f"{label}: test NLL / ECE", "peer": "laplace-torch",
                     "peer_figure": f"{nll(p_peer, y_test):.4f} / {expected_calibration_error(p_peer, y_test):.4f}",
                     "bayesdl_figure": f"{nll(p_ours, y_test):.4f} / {expected_calibration_error(p_ours, y_test):.4f}",
                     "ratio": f"NLL diff {nll(p_ours, y_test) - nll(p_peer, y_test):+.4f}"})
        rows.append({"task": f"{label}: fit (curvature + prior) / predict time", "peer": "laplace-torch",
                     "peer_figure": f"{statistics.median(r[1] for r in peer):.3f} s / {statistics.median(r[2] for r in peer):.3f} s",
                     "bayesdl_figure": f"{statistics.median(r[1] for r in ours):.3f} s / {statistics.median(r[2] for r in ours):.3f} s",
                     "ratio": f"{fit_ratio:.2f}x / {pred_ratio:.2f}x"})
    print_rows(rows)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(quick=args.quick, repeats=args.repeats, seed=args.seed)
