"""Run the ``rbm-digits`` experiment at full settings (100 hidden units, 300 epochs, AIS with 14500 betas).

Not yet run at full size.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("rbm-digits", out="runs")
    print(result.out_dir, result.metrics["ordering_best_first"])
