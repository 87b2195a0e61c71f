"""Run the ``flow-2d`` experiment at full settings (see bayesdl/experiments/flow_2d.py).

Status: not yet run at full size. Use `python -m bayesdl run flow-2d --quick` for the short version.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("flow-2d", out="runs", progress=True)
    print(result.out_dir, result.metrics)
