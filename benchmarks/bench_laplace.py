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

A third row, ``online-marglik``, trains the same initial network twice with the prior precision tuned online by the
Laplace evidence (Immer et al. 2021, arXiv:2104.04975): bayesdl's :class:`~bayesdl.inference.OnlineMarglik` on the
shared Trainer against laplace-torch's ``marglik_training``, with the same settings: Adam (lr 1e-3, batch 100),
all-weights KFAC GGN, one scalar prior precision starting at 1, ``--marglik-epochs`` epochs, an update after
epochs 10, 15, ..., each of 10 Adam steps (lr 0.1) on log delta. Reported: the final prior precision, the test NLL
of the trained network's own softmax, and the wall time of the whole training, median of the runs in alternation.
laplace-torch returns the network of the update with the best evidence (and the delta before that update's last
step), bayesdl the last one; their data orders differ (each library shuffles its own way), so the two agree only
to the spread of training itself. On a loaded machine only the time ratio means anything.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_laplace.py [--quick] [--repeats R] [--only post-hoc|online-marglik]`` (needs ``laplace-torch``, in
the ``[bench]`` extra; it imports without torchvision).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import torch
from table import print_rows  # benchmarks/table.py

from bayesdl.data import load_digits
from bayesdl.diagnostics import expected_calibration_error, nll
from bayesdl.inference import OnlineMarglik, Trainer
from bayesdl.models.laplace import Laplace
from bayesdl.models.nets import MLP
from bayesdl.models.supervised import PlainNet


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
    la = Laplace(
        net, likelihood="classification", subset=subset, hessian=hessian, prior_precision=fixed_prior or 1.0
    ).fit((x, y))
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
    la = PeerLaplace(
        net,
        "classification",
        subset_of_weights=subset,
        hessian_structure=hessian,
        prior_precision=fixed_prior or 1.0,
    )
    la.fit(loader)
    if fixed_prior is None:
        la.optimize_prior_precision(method="marglik")
    fit = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        probs = la(x_test, pred_type="glm", link_approx="probit")
    return probs.detach(), fit, time.perf_counter() - start, float(la.prior_precision)


def _online_bayesdl(x, y, x_test, epochs, seed):
    torch.manual_seed(seed)
    model = PlainNet(MLP(64, [100, 100], 10))
    tuner = OnlineMarglik(
        functools.partial(Laplace, subset="all", hessian="kron"),
        (x, y),
        frequency=5,
        burn_in=5,
        steps=10,
        lr=0.1,
        prior_precision=1.0,
    )
    start = time.perf_counter()
    Trainer(model, lr=1e-3, epochs=epochs, batch_size=100, progress=False, seed=seed, callbacks=[tuner]).fit(
        (x, y)
    )
    seconds = time.perf_counter() - start
    with torch.no_grad():
        probs = model.net.eval()(x_test).softmax(-1)
    return probs, seconds, tuner.prior_precision


def _online_laplace_torch(x, y, x_test, epochs, seed):
    from laplace import marglik_training

    torch.manual_seed(seed)
    net = PlainNet(MLP(64, [100, 100], 10)).net  # the same initial weights as bayesdl's run
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=100,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    start = time.perf_counter()
    la, net, _, _ = marglik_training(
        net,
        loader,
        likelihood="classification",
        hessian_structure="kron",
        optimizer_kwargs={"lr": 1e-3},
        n_epochs=epochs,
        lr_hyp=0.1,
        prior_structure="scalar",
        n_epochs_burnin=10,
        n_hypersteps=10,
        marglik_frequency=5,
        prior_prec_init=1.0,
    )
    seconds = time.perf_counter() - start
    with torch.no_grad():
        probs = net.eval()(x_test).softmax(-1)
    return probs, seconds, float(la.prior_precision)


def online_marglik_rows(x, y, x_test, y_test, epochs: int, repeats: int, seed: int) -> list[dict]:
    """The online-marglik row: both libraries' online tuning from the same initial network, in alternation."""
    ours, peer = [], []
    for r in range(repeats):
        ours.append(_online_bayesdl(x, y, x_test, epochs, seed + r))
        peer.append(_online_laplace_torch(x, y, x_test, epochs, seed + r))
    for name, runs in (("bayesdl", ours), ("laplace-torch", peer)):
        print(
            f"online-marglik ({epochs} epochs)  {name:14s} prior precision "
            + ", ".join(f"{d:.3g}" for _, _, d in runs)
            + "  test NLL "
            + ", ".join(f"{nll(p, y_test):.4f}" for p, _, _ in runs)
            + "  time "
            + ", ".join(f"{t:.1f} s" for _, t, _ in runs)
        )

    def med(runs, f):
        return statistics.median(f(r) for r in runs)

    return [
        {
            "task": f"online-marglik, all-weights KFAC, {epochs} epochs: final prior precision (median of {repeats})",
            "peer": "laplace-torch marglik_training",
            "peer_figure": f"{med(peer, lambda r: r[2]):.3g}",
            "bayesdl_figure": f"{med(ours, lambda r: r[2]):.3g}",
            "ratio": f"{med(ours, lambda r: r[2]) / med(peer, lambda r: r[2]):.2f}",
        },
        {
            "task": f"online-marglik: test NLL of the trained network (median of {repeats})",
            "peer": "laplace-torch marglik_training",
            "peer_figure": f"{med(peer, lambda r: nll(r[0], y_test)):.4f}",
            "bayesdl_figure": f"{med(ours, lambda r: nll(r[0], y_test)):.4f}",
            "ratio": f"NLL diff {med(ours, lambda r: nll(r[0], y_test)) - med(peer, lambda r: nll(r[0], y_test)):+.4f}",
        },
        {
            "task": "online-marglik: training time (ratio only; loaded machine)",
            "peer": "laplace-torch marglik_training",
            "peer_figure": f"{med(peer, lambda r: r[1]):.1f} s",
            "bayesdl_figure": f"{med(ours, lambda r: r[1]):.1f} s",
            "ratio": f"{med(ours, lambda r: r[1]) / med(peer, lambda r: r[1]):.2f}x",
        },
    ]


def main(
    quick: bool = False, repeats: int = 3, seed: int = 0, marglik_epochs: int = 50, only: str | None = None
) -> list[dict]:
    """Run both configurations with both libraries (or ``only`` "post-hoc" or "online-marglik"), print a table and
    return its rows."""
    x, y = load_digits("train")
    x_test, y_test = load_digits("test")
    torch.optim.Adam(
        [torch.nn.Parameter(torch.zeros(1))]
    )  # the first optimiser imports torch's compiler: not timed
    rows = []
    if only != "online-marglik":
        rows += _post_hoc_rows(x, y, x_test, y_test, quick, repeats, seed)
    if only != "post-hoc":
        rows += online_marglik_rows(
            x, y, x_test, y_test, 15 if quick else marglik_epochs, 1 if quick else repeats, seed
        )
    print_rows(rows)
    return rows


def _post_hoc_rows(x, y, x_test, y_test, quick: bool, repeats: int, seed: int) -> list[dict]:
    net = _map_network(x, y, epochs=5 if quick else 100, seed=seed)
    map_probs = net(x_test).softmax(-1).detach()
    print(
        f"MAP network: test NLL {nll(map_probs, y_test):.4f}, ECE {expected_calibration_error(map_probs, y_test):.4f}, "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, torch threads {torch.get_num_threads()}"
    )
    rows = []
    for subset, hessian, label in (
        ("last_layer", "kron", "last-layer KFAC GLM probit"),
        ("all", "diag", "all-weights diag GLM probit"),
    ):
        ours, peer = [], []
        for _ in range(1 if quick else repeats):  # alternate, so that load changes hit both alike
            ours.append(_bayesdl(net, x, y, x_test, subset, hessian))
            peer.append(_laplace_torch(net, x, y, x_test, subset, hessian))
        for name, runs in (("bayesdl", ours), ("laplace-torch", peer)):
            probs, _, _, delta = runs[-1]
            print(
                f"{label:30s} {name:14s} NLL {nll(probs, y_test):.4f}  ECE {expected_calibration_error(probs, y_test):.4f}  "
                f"prior precision {delta:.4g}  fit {statistics.median(r[1] for r in runs):.3f} s  "
                f"predict {statistics.median(r[2] for r in runs):.3f} s"
            )
        fit_ratio = statistics.median(r[1] for r in ours) / statistics.median(r[1] for r in peer)
        pred_ratio = statistics.median(r[2] for r in ours) / statistics.median(r[2] for r in peer)
        p_ours, p_peer = ours[-1][0], peer[-1][0]
        fixed_ours = _bayesdl(net, x, y, x_test, subset, hessian, fixed_prior=1.0)[0]
        fixed_peer = _laplace_torch(net, x, y, x_test, subset, hessian, fixed_prior=1.0)[0]
        rows.append(
            {
                "task": f"{label}, prior precision fixed at 1: max |p_bayesdl - p_peer|",
                "peer": "laplace-torch",
                "peer_figure": f"NLL {nll(fixed_peer, y_test):.5f}",
                "bayesdl_figure": f"NLL {nll(fixed_ours, y_test):.5f}",
                "ratio": f"{float((fixed_ours - fixed_peer).abs().max()):.1e}",
            }
        )
        rows.append(
            {
                "task": f"{label}: test NLL / ECE",
                "peer": "laplace-torch",
                "peer_figure": f"{nll(p_peer, y_test):.4f} / {expected_calibration_error(p_peer, y_test):.4f}",
                "bayesdl_figure": f"{nll(p_ours, y_test):.4f} / {expected_calibration_error(p_ours, y_test):.4f}",
                "ratio": f"NLL diff {nll(p_ours, y_test) - nll(p_peer, y_test):+.4f}",
            }
        )
        rows.append(
            {
                "task": f"{label}: fit (curvature + prior) / predict time",
                "peer": "laplace-torch",
                "peer_figure": f"{statistics.median(r[1] for r in peer):.3f} s / {statistics.median(r[2] for r in peer):.3f} s",
                "bayesdl_figure": f"{statistics.median(r[1] for r in ours):.3f} s / {statistics.median(r[2] for r in ours):.3f} s",
                "ratio": f"{fit_ratio:.2f}x / {pred_ratio:.2f}x",
            }
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--marglik-epochs", type=int, default=50)
    parser.add_argument("--only", choices=["post-hoc", "online-marglik"], default=None)
    args = parser.parse_args()
    main(
        quick=args.quick,
        repeats=args.repeats,
        seed=args.seed,
        marglik_epochs=args.marglik_epochs,
        only=args.only,
    )
