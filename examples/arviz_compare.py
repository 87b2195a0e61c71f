"""Every predictive method on one regression task, ranked by PSIS-LOO through ArviZ (``az.compare``).

Data: the ``gap`` toy set (y = sin 2x + 0.3x + N(0, 0.1^2), no training inputs in (-1, 1)). Each method is
trained on the same points with the same network (an MLP 1-50-50-1 with a learned homoscedastic noise), then
exported with :func:`bayesdl.diagnostics.predictive_to_inference_data` at the training inputs: the pointwise
log-likelihood of every training point at every draw. :func:`bayesdl.diagnostics.compare_methods` ranks them by
elpd_loo (nats, summed over the training points). The test column is the log pointwise predictive density of
held-out points on [-3, 3] (nats per point), which needs no LOO.

What the LOO of each method means depends on what one draw is. NUTS, SGLD, Bayes by Backprop, SWAG, Laplace
and the GP give draws of a (possibly approximate) posterior, so PSIS-LOO estimates cross-validation of that
posterior predictive. Ensemble members and dropout masks are not posterior draws (``bayesian`` False in the
table); the Laplace GLM and GP draws are function draws (no weights behind them). For those, the importance
weights reweight a fixed mixture of functions, which no refit without the point would change: LOO there is the
mixture's in-sample lppd with a PSIS penalty, not cross-validation, and it favours methods whose members fit
every training point. Pareto k > 0.7 marks points where PSIS is unreliable (counted in the table).

    python examples/arviz_compare.py              # 200 points, every method (a few minutes on 2 cores)
    python examples/arviz_compare.py --no-nuts    # without the NUTS BNN (the slowest)

Prints the ``az.compare`` table and writes it as ``compare.md`` in ``--out``, with ``compare.png`` (elpd_loo ± se
and the test lppd per method).
"""

from __future__ import annotations

import copy
import math

import arviz as az
import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import regression_truth, toy_regression  # noqa: E402
from bayesdl.diagnostics import compare_methods, predictive_to_inference_data, to_inference_data  # noqa: E402
from bayesdl.inference import Trainer, fit_ensemble, sample_posterior  # noqa: E402
from bayesdl.inference.sgmcmc import SGLD, SampleCollector  # noqa: E402
from bayesdl.inference.swag_collector import SWAGCollector  # noqa: E402
from bayesdl.models import MLP, BayesByBackprop, DeepEnsemble, ExactGPRegression, MCDropout, PlainNet  # noqa: E402
from bayesdl.models.laplace import Laplace  # noqa: E402
from bayesdl.models.pyro_bnn import PyroBNN, PyroPosterior  # noqa: E402
from bayesdl.models.sampled import SampledNetwork  # noqa: E402
from bayesdl.models.swag import SWAG  # noqa: E402


def data(args):
    x, y, _ = toy_regression("gap", args.n, seed=args.seed)
    g = torch.Generator().manual_seed(args.seed + 1)
    x_test = 6 * torch.rand(args.n, 1, generator=g) - 3
    y_test = regression_truth(x_test[:, 0]) + 0.1 * torch.randn(args.n, generator=g)
    return x, y, x_test, y_test


def fit_methods(x, y, args) -> dict:
    """Train every method; return name -> a model with ``predictive_draws`` (NUTS is handled apart).

    The MAP net is the start of Laplace, SWAG and SGLD; it is not compared itself (LOO needs more than one draw).
    """
    hidden, n = [args.hidden, args.hidden], len(x)
    torch.manual_seed(args.seed)  # the constructors draw the initial weights from torch's global generator
    fit = dict(epochs=args.epochs, batch_size=50, lr=3e-3, seed=args.seed, progress=False)
    plain = PlainNet(MLP(1, hidden, 1), likelihood="homoscedastic", noise_std=0.3)
    Trainer(plain, **fit).fit((x, y))
    dropout = MCDropout(MLP(1, hidden, 1, dropout=0.05), likelihood="homoscedastic", noise_std=0.3)
    Trainer(dropout, optimizer_kwargs={"weight_decay": 1e-4}, **fit).fit((x, y))
    ensemble = DeepEnsemble(
        MLP(1, hidden, 1), num_members=5, likelihood="homoscedastic", noise_std=0.3, seed=args.seed
    )
    fit_ensemble(ensemble, (x, y), **fit)
    bbb = BayesByBackprop(MLP(1, hidden, 1), likelihood="homoscedastic", noise_std=0.3)
    Trainer(bbb, **{**fit, "epochs": 3 * args.epochs}).fit((x, y))
    gp = ExactGPRegression.from_data(x, y)
    Trainer(gp, lr=0.05, epochs=args.epochs, batch_size=n, seed=args.seed, progress=False).fit((x, y))
    laplace = Laplace(plain, subset="all", hessian="kron").fit((x, y)).optimize_prior_precision()
    swag_net = copy.deepcopy(plain)
    collector = SWAGCollector(swag_net, start=0, every=args.swag_every, max_rank=20)
    # a small SGD step: at 1e-2 the learned log noise sd can run away (SWAG then averages a diverged noise)
    Trainer(
        swag_net,
        optimizer="sgd",
        lr=1e-3,
        epochs=args.epochs // 2,
        batch_size=50,
        seed=args.seed,
        progress=False,
        callbacks=[collector],
    ).fit((x, y))
    swag = SWAG(swag_net, collector)
    chains = []
    for chain in range(4):  # SGLD from the MAP net, one Trainer run per chain
        net = copy.deepcopy(plain)
        sampler = SampleCollector(net, burn_in=args.burn_in, thin=args.thin)
        Trainer(
            net,
            optimizer=lambda p: SGLD(p, lr=1e-3, num_data=n),
            epochs=args.sgld_epochs,
            batch_size=50,
            seed=args.seed + 10 + chain,
            progress=False,
            callbacks=[sampler],
        ).fit((x, y))
        chains.append(sampler.draws)
    keep = min(len(c) for c in chains)
    sgld = SampledNetwork(plain, [c[len(c) - keep :] for c in chains], method="sgld")
    return {
        "MC dropout": dropout,
        "ensemble": ensemble,
        "BBB": bbb,
        "exact GP": gp,
        "Laplace (KFAC GLM)": laplace,
        "SWAG": swag,
        "SGLD (4 chains)": sgld,
    }


def nuts(x, y, x_test, args):
    bnn = PyroBNN(MLP(1, [args.nuts_hidden], 1), likelihood="homoscedastic")
    post = sample_posterior(
        bnn.model,
        x,
        y,
        num_chains=2,
        num_warmup=args.nuts_draws,
        num_samples=args.nuts_draws,
        seed=args.seed,
        progress=False,
        max_tree_depth=7,
    )
    train = to_inference_data(post, dims={"y": ["obs"]})
    flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in post.samples.items()}
    test_draws = PyroPosterior(bnn, samples=flat).predictive_draws(
        x_test, 2 * args.nuts_draws, seed=args.seed
    )
    return train, test_draws


def lppd(draws, y) -> float:
    ll = draws.log_likelihood(y).reshape(-1, len(y))
    return float((torch.logsumexp(ll, 0) - math.log(ll.shape[0])).mean())


def main(argv: list[str] | None = None):
    parser = make_parser("arviz_compare", __doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--sgld-epochs", type=int, default=150)
    parser.add_argument("--burn-in", type=int, default=200, help="SGLD steps discarded per chain")
    parser.add_argument("--thin", type=int, default=4)
    parser.add_argument("--draws", type=int, default=200, help="draws per method (ensemble: its 5 members)")
    parser.add_argument("--swag-every", type=int, default=4, help="SGD steps between SWAG snapshots")
    parser.add_argument("--no-nuts", action="store_true")
    parser.add_argument("--nuts-hidden", type=int, default=10)
    parser.add_argument("--nuts-draws", type=int, default=300)
    args = parse_args(
        parser,
        argv,
        smoke=dict(
            n=40,
            hidden=8,
            epochs=6,
            swag_every=1,
            sgld_epochs=4,
            burn_in=2,
            thin=1,
            draws=8,
            nuts_hidden=3,
            nuts_draws=10,
        ),
    )
    x, y, x_test, y_test = data(args)
    models = fit_methods(x, y, args)
    idatas, test = {}, {}
    for name, model in models.items():
        num = None if isinstance(model, SampledNetwork) else args.draws
        idatas[name] = predictive_to_inference_data(model, x, y, num_samples=num, seed=args.seed)
        test_draws = (
            model.predictive_draws(x_test, seed=args.seed)
            if num is None
            else model.predictive_draws(x_test, num, seed=args.seed)
        )
        test[name] = lppd(test_draws, y_test)
    if not args.no_nuts:
        idatas["NUTS BNN"], nuts_test = nuts(x, y, x_test, args)
        test["NUTS BNN"] = lppd(nuts_test, y_test)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto-k warnings: counted in the table instead
        table = compare_methods(idatas)
        bad_k = {
            name: int((az.loo(d, pointwise=True).pareto_k.values > 0.7).sum()) for name, d in idatas.items()
        }
    lines = [
        f"PSIS-LOO on the {len(x)} training points of the gap set (elpd in nats, summed); test lppd per point "
        f"on {len(x_test)} held-out points",
        "",
        "| method | posterior draws | elpd_loo ± se | p_loo | Pareto k > 0.7 | test lppd / point |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in table.iterrows():
        lines.append(
            f"| {name} | {'yes' if row['bayesian'] else 'no'} | {row['elpd_loo']:.1f} ± {row['se']:.1f} | "
            f"{row['p_loo']:.1f} | {bad_k[name]} | {test[name]:.3f} |"
        )
    text = "\n".join(lines)
    print(text)
    (args.out / "compare.md").write_text(text + "\n")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    names = list(table.index)
    rows = np.arange(len(names))
    left.errorbar(table["elpd_loo"], rows, xerr=table["se"], fmt="o")
    left.set(yticks=rows, yticklabels=names, xlabel="elpd_loo (nats, training points)", title="PSIS-LOO")
    right.plot([test[n] for n in names], rows, "s")
    right.set(xlabel="test lppd per point (nats)", title="held-out")
    left.invert_yaxis()
    save_figure(fig, args, "compare")
    return {
        "table": table,
        "test_lppd": test,
        "pareto_bad": bad_k,
        "loo": {n: float(table.loc[n, "elpd_loo"]) for n in table.index},
    }


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
