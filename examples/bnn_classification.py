"""Run ``bnn-classification`` at full settings: digits (100 epochs) and Fashion-MNIST, four methods, OOD AUROC.

Not yet run at full size. The quick run (digits only, with Fashion-MNIST as the OOD set) took 88 s on a shared,
heavily loaded 2-core CPU and wrote reliability_digits.png and ood_entropy_digits.png.
"""

from bayesdl.experiments.registry import run_experiment

if __name__ == "__main__":
    result = run_experiment("bnn-classification", out="runs")
    print(result.out_dir, result.metrics)
