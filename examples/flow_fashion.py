"""Run the ``flow-fashion`` experiment at full settings (see bayesdl/experiments/flow_fashion.py).

Status: not yet run at full size. Use `python -m bayesdl run flow-fashion --quick` for the short version.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("flow-fashion", out="runs", progress=True)
    print(result.out_dir, result.metrics)
