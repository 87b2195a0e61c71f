"""Run ``bnn-regression`` at full settings: heteroscedastic and gap toy data, four methods side by side.

Not yet run at full size (1000 epochs per model, 16 models). The quick run (``python -m bayesdl run bnn-regression
--quick``, 100 epochs) took 16.5 s on the shared 2-core CPU and wrote regression_bands.png and epistemic_sd.png.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("bnn-regression", out="runs")
    print(result.out_dir, result.metrics)
