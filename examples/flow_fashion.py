"""Run the ``flow-fashion`` experiment at full settings (see bayesdl/experiments/flow_fashion.py).

Status: not yet run at full size (run pending; settings: all 60,000 training images, 3 epochs, 2 scales x 4 Glow steps, 64 hidden channels, bits/dim on all 10,000 test images).
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("flow-fashion", out="runs", progress=True)
    print(result.out_dir, result.metrics)
