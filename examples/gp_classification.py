"""Stochastic variational deep kernel learning (and an SVGP baseline) on the 8x8 digits, at full settings.

Not yet run at full size.
Writes runs/gp-classification-<time>/ with metrics.json, report.html, calibration_and_ood.png and shifted_digits.png.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("gp-classification", out="runs")
    print(result.out_dir, f"{result.seconds:.0f} s")
