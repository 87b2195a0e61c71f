"""Run the `diffusion-2d` experiment at full settings (writes runs/diffusion-2d-<time>/).

Not yet run at full size.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("diffusion-2d", out="runs")
    print(result.out_dir)
    for key, value in result.metrics.items():
        print(f"{key}: {value}")
