"""Run the ``flow-2d`` experiment at full settings (see bayesdl/experiments/flow_2d.py).

Settings per density (two_moons, eight_gaussians, checkerboard, rings): 10,000 training points, 20
epochs (batch 256, Adam with a cosine schedule), RealNVP 12 couplings and MAF 8 layers with hidden
[128, 128], planar 16 layers; test NLL on 2,500 fresh points. Estimated from per-epoch CPU times
measured on core 0: about 5 minutes on one core.

Status: not yet run at full size. Use `python -m bayesdl run flow-2d --quick` for the short version.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("flow-2d", out="runs", progress=True)
    print(result.out_dir, result.metrics)
