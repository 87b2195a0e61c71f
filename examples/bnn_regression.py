"""Run ``bnn-regression`` at full settings: heteroscedastic and gap toy data, four methods side by side.

Run at full size (1000 epochs per model, 16 models) on the shared 2-core CPU (OMP_NUM_THREADS=1): 90 s wall; it
wrote regression_bands.png and epistemic_sd.png (plus metrics.json and report.html). The quick run (100 epochs)
took 16.5 s.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("bnn-regression", out="runs")
    print(result.out_dir, result.metrics)
