"""Exact GP, SVGP and deep kernel learning next to the BNN methods (plain net, MC dropout, deep ensemble,
Bayes by Backprop) on the toy regression sets, and the GPs on Mauna Loa CO2, at full settings.

Run at full size on 2026-11-22: 283 s wall (269 s CPU) on a shared 2-core Intel Xeon (Sapphire Rapids) cloud VM,
one core (taskset -c 1, OMP_NUM_THREADS=1), no GPU. Test NLL (nats) / 95% coverage on the gap set (1000 test
points, half of them in the hole): DKL -0.69 / 0.93, exact GP -0.64 / 0.95, SVGP -0.59 / 0.95, MC dropout
-0.31 / 0.93, BbB -0.28 / 0.85, ensemble -0.19 / 0.80, plain net 0.64 / 0.74. Heteroscedastic set: the
heteroscedastic ensemble -0.21 beats the homoscedastic GPs (-0.08). CO2 test RMSE in ppm: exact GP 0.44,
SVGP 0.56, DKL 2.10 (DKL fits the CO2 series poorly; not investigated further).
It writes runs/gp-regression-<time>/ with metrics.json, report.html and bands_heteroscedastic.png,
bands_gap.png, bands_co2.png.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("gp-regression", out="runs")
    print(result.out_dir, f"{result.seconds:.0f} s")
