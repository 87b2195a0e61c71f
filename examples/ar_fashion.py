"""Run ``ar-fashion`` at full settings: NADE (H=500), MADE ([500], natural order), MADE (8 masks, [8000])
and a gated PixelCNN (8 layers x 64 channels) on statically binarised Fashion-MNIST (55000/5000/10000).

Not yet run at full size: on a CPU the PixelCNN alone needs many hours; use a GPU (device="cuda").
For scale: the --quick settings (3000 training images, short training) took 77 s on a shared 2-core CPU.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("ar-fashion", out="runs")
    print(result.out_dir, {k: round(v["test_nll"], 2) for k, v in result.metrics["models"].items()})
