"""Run the ``flow-digits`` experiment at full settings (see bayesdl/experiments/flow_digits.py).

Status: not yet run at full size. Use `python -m bayesdl run flow-digits --quick` for the short version.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("flow-digits", out="runs", progress=True)
    print(result.out_dir, result.metrics)
