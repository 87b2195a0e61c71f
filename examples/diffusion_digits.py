"""Run the `diffusion-digits` experiment at full settings (writes runs/diffusion-digits-<time>/).

Not yet run at full size.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("diffusion-digits", out="runs")
    print(result.out_dir)
    for key, value in result.metrics.items():
        print(f"{key}: {value}")
