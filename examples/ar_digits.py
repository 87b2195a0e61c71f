"""Run ``ar-digits`` at full settings: NADE, MADE (1 and 8 masks) and gated PixelCNN on binarised 8x8 digits.

Not yet run at full size (the shared core-1 queue did not reach it before the deadline). Full settings:
4x the quick epochs, a 48-channel PixelCNN; expected a few minutes on one core. For scale: the --quick settings
took 25.8 s on a shared 2-core CPU (21 s of CPU time) and write samples.png, completions.png,
learning_curves.png and report.html.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("ar-digits", out="runs")
    print(result.out_dir, {k: round(v["test_nll"], 2) for k, v in result.metrics["models"].items()})
