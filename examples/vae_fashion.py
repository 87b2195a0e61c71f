"""Run the ``vae-fashion`` experiment at full settings: 60000 statically binarised training images,
100 epochs for each of VAE, IWAE(k=5), an IAF flow posterior (2 steps) and VampPrior (500 pseudo-inputs), scored on all 10000 test
images by the test ELBO (a bound) and the IWAE-5000 log-likelihood.

Not yet run at full size (the IWAE-5000 evaluation alone is about 5e7 decoder passes per model).
Expected figures: training_curves, elbo_vs_loglik, samples (PNG) plus metrics.json and report.html.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("vae-fashion", out="runs")
    for name, scores in result.metrics["models"].items():
        print(f"{name:10s} test ELBO (bound) {scores['test_elbo_bound']:.2f}  "
              f"log p(x) {scores['test_log_likelihood']:.2f} +- {scores['test_log_likelihood_stderr']:.2f} nats")
