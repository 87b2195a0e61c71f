"""Run the ``mcmc-logistic`` experiment at full settings and write its report under runs/.

Not yet run at full size (only the --smoke and timing runs were made while building it).
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("mcmc-logistic", out="runs")
    print(result.out_dir, result.metrics)
