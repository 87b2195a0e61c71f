"""Run the `diffusion-fashion` experiment at full settings (writes runs/diffusion-fashion-<time>/).

Not yet run at full size. The full settings (U-Net with 32 base channels, 40 epochs over 60000 images,
the bound on 500 test images) are meant for a GPU: one training step of batch 64 took about 1 s on
one CPU thread here, so on a CPU the run would take many hours.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("diffusion-fashion", out="runs")
    print(result.out_dir)
    for key, value in result.metrics.items():
        print(f"{key}: {value}")
