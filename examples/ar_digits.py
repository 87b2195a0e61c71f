"""Run ``ar-digits`` at full settings: NADE, MADE (1 and 8 masks) and gated PixelCNN on binarised 8x8 digits.

Not yet run at full size. (The --quick settings took 68 s wall on a 2-core CPU shared with other jobs,
24 s of CPU time; they write samples.png, completions.png, learning_curves.png and report.html.)
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("ar-digits", out="runs")
    print(result.out_dir, {k: round(v["test_nll"], 2) for k, v in result.metrics["models"].items()})
