"""Run the ``mcmc-bnn`` experiment at full settings and write its report under runs/.

NUTS (bayesdl's batched sampler) over the weights of the shared Pyro BNN (``to_pyro_model(MLP(1, [20], 1))``),
compared with Bayes by Backprop and MC dropout on the 'gap' toy regression: figures ``predictive_bands`` (the three
bands side by side) and ``epistemic_sd``; metrics test NLL, RMSE, 95% coverage and epistemic sd in the gap vs near data.

Not yet run at full size: only the --smoke and --quick runs were made (the quick run took 50 s wall on a
shared 2-core CPU).
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("mcmc-bnn", out="runs")
    print(result.out_dir, result.metrics)
