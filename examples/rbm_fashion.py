"""Run the ``rbm-fashion`` experiment at full settings (60000 binarised images, 500 hidden units, CD-1 /
CD-10 / PCD for 10 epochs each, AIS with 100 chains and 10000 betas).

Run at full size on 2026-11-22 with the current training step (64-bit uniform draws, gradient computed with
the loss): 291 s wall (285 s user CPU) on a shared 2-core Intel Xeon (Sapphire Rapids) VM, one core (taskset -c 1,
OMP_NUM_THREADS=1), no GPU. It wrote filters.png, gibbs_chains_pcd.png, gibbs_chains_cd1.png,
test_log_likelihood.png and monitors.png. Mean test log-likelihood over the 10000 test images, log Z by AIS
(100 chains, 10000 betas): CD-10 -240.3, PCD -246.7, CD-1 -264.3 nats (s.e.m. about 0.8 each; log Z s.e.
0.10-0.15). Training took 32 s (CD-1), 37 s (PCD) and 129 s (CD-10).
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("rbm-fashion", out="runs")
    print(result.out_dir, result.metrics["ordering_best_first"])
