"""Exact GP vs SVGP vs deep kernel learning on the toy regression sets and Mauna Loa CO2, at full settings.

Not yet run at full size.
Writes runs/gp-regression-<time>/ with metrics.json, report.html and bands_{heteroscedastic,gap,co2}.png.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("gp-regression", out="runs")
    print(result.out_dir, f"{result.seconds:.0f} s")
