"""Run ``ar-fashion`` at full settings, sized for one CPU core: NADE (H=100, 5 epochs), MADE ([500], natural
order, 20 epochs) and a small gated PixelCNN (4 layers x 16 channels, 5x5, 3 epochs) on statically
binarised Fashion-MNIST (20000 training, 2000 validation, all 10000 test images). The larger models of
the papers (NADE H=500, MADE 8 masks x [8000], PixelCNN 8 layers x 64 channels) need hours on a CPU.

RUN STATUS: pending (filled in from the measured run below).
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("ar-fashion", out="runs")
    print(result.out_dir, {k: round(v["test_nll"], 2) for k, v in result.metrics["models"].items()})
