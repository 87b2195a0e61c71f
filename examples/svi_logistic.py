"""Bayesian logistic regression on the 8x8 digits by SVI, at full settings (200 epochs, 500 predictive draws).

Run:  python examples/svi_logistic.py
Writes a fresh folder under runs/ with metrics.json, elbo.png, weights.png and report.html.
Measured: see the README's results table (the command above reproduces it).
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("svi-logistic", out="runs", device="auto")
    print(result.out_dir)
    for key, value in result.metrics.items():
        print(f"{key}: {value}")
