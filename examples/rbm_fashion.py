"""Run the ``rbm-fashion`` experiment at full settings (60000 binarised images, 500 hidden units, CD-1 /
CD-10 / PCD for 10 epochs each, AIS with 100 chains and 10000 betas).

Run at full size on 2026-11-22, before commit 029290d (which only reorganised the training step for
speed: the same update rule and the same order of random draws, so a rerun differs only through float
rounding; not re-run or re-timed since): 352 s wall (336 s CPU) on one thread (OMP_NUM_THREADS=1) of an
Intel Xeon (AVX-512) cloud VM shared with other jobs. It wrote filters.png, gibbs_chains_pcd.png,
gibbs_chains_cd1.png, test_log_likelihood.png and monitors.png. Mean test log-likelihood over the 10000
test images, log Z by AIS (100 chains, 10000 betas): CD-10 -239.8, PCD -246.2, CD-1 -263.5 nats (s.e.m.
about 0.8 each; log Z s.e. 0.12-0.15).
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("rbm-fashion", out="runs")
    print(result.out_dir, result.metrics["ordering_best_first"])
