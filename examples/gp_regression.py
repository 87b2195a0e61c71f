"""Exact GP, SVGP and deep kernel learning next to the BNN methods (plain net, MC dropout, deep ensemble,
Bayes by Backprop) on the toy regression sets, and the GPs on Mauna Loa CO2, at full settings.

Not yet run at full size with the BNN rows (added after the last full run). The earlier full run, GPs only,
took 163 s on a shared 2-core Intel Xeon (CPU, OMP_NUM_THREADS=1) and gave CO2 test RMSE in ppm: exact GP 0.44,
SVGP 0.56, DKL 2.10; the full BNN settings (1000 epochs, 5 ensemble members) will add to that time.
It writes runs/gp-regression-<time>/ with metrics.json, report.html and bands_heteroscedastic.png,
bands_gap.png, bands_co2.png.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("gp-regression", out="runs")
    print(result.out_dir, f"{result.seconds:.0f} s")
