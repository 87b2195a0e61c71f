"""Run the ``vae-digits`` experiment at full settings (1000 epochs, IWAE K up to 5000).

Not yet run at full size. Expected figures: elbo_curve, elbo_vs_iwae, samples, reconstructions,
interpolation, latent_scatter (PNG) plus metrics.json and report.html under runs/.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("vae-digits", out="runs")
    print(result.out_dir, result.metrics["test_log_likelihood"], result.metrics["test_elbo_bound"])
