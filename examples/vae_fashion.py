"""Run the ``vae-fashion`` experiment at full settings, sized for one CPU core: all 60000 statically binarised
training images, 10 epochs (not the papers' hundreds) for each of VAE, IWAE(k=5), an IAF flow posterior
(2 steps) and VampPrior (500 pseudo-inputs); each scored by the 100-sample test ELBO (a bound) and the
IWAE-5000 log-likelihood on the same seeded random subset of 200 of the 10000 test images.

RUN STATUS: pending (filled in from the measured run below).
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("vae-fashion", out="runs")
    for name, scores in result.metrics["models"].items():
        print(f"{name:14s} test ELBO (bound) {scores['test_elbo_bound']:.2f}  "
              f"log p(x) {scores['test_log_likelihood']:.2f} +- {scores['test_log_likelihood_stderr']:.2f} (MC) "
              f"+- {scores['test_log_likelihood_subset_stderr']:.2f} (subset) nats; "
              f"minus VAE {scores.get('log_likelihood_minus_vae', 0.0):+.2f} +- {scores.get('log_likelihood_minus_vae_stderr', 0.0):.2f}")
