"""Run the ``rbm-digits`` experiment at full settings (100 hidden units, 300 epochs, AIS with 14500 betas).

Run at full size on 2026-11-22, before commit 029290d (which only reorganised the training step for
speed: the same update rule and the same order of random draws, so a rerun differs only through float
rounding; not re-run or re-timed since): 86 s wall (60 s CPU) on one thread (OMP_NUM_THREADS=1) of an
Intel Xeon (AVX-512) cloud VM shared with other jobs. It wrote filters.png, gibbs_chains_pcd.png,
gibbs_chains_cd1.png, test_log_likelihood.png and monitors.png. Mean test log-likelihood (AIS): PCD
-22.81 +/- 0.24 nats, CD-1 -22.91 +/- 0.24 (s.e.m. over the 297 test images; log Z s.e. <= 0.02); AIS
check on a 20-hidden PCD model: AIS - exact log Z = +0.007 (s.e. 0.008).
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("rbm-digits", out="runs")
    print(result.out_dir, result.metrics["ordering_best_first"])
