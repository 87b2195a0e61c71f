"""Run the ``rbm-fashion`` experiment at full settings (60000 binarised images, 500 hidden units,
CD-1 / CD-10 / PCD for 10 epochs each, AIS with 100 chains and 10000 betas).

Not yet run at full size.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("rbm-fashion", out="runs")
    print(result.out_dir, result.metrics["ordering_best_first"])
