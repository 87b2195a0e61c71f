"""Exact GP vs SVGP vs deep kernel learning on the toy regression sets and Mauna Loa CO2, at full settings.

Ran at full size on 2026-11-22: 163 s (run_experiment's own timing; 150 s of CPU) on a 2-core Intel Xeon
shared with other jobs, CPU only, OMP_NUM_THREADS=1. It wrote runs/gp-regression-<time>/ with metrics.json,
report.html and bands_heteroscedastic.png, bands_gap.png, bands_co2.png
(CO2 test RMSE in ppm: exact GP 0.44, SVGP 0.56, DKL 2.10).
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("gp-regression", out="runs")
    print(result.out_dir, f"{result.seconds:.0f} s")
