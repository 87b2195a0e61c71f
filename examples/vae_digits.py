"""Run the ``vae-digits`` experiment at full settings (1000 epochs, IWAE K up to 5000 on all test images; plus
an IAF-posterior VAE (1000 epochs) and a PixelVAE without/with free bits, 50 epochs, K=1000 on 150 test images).

Not yet run at full size (the shared core-1 queue did not reach it before the deadline); expected about
5 minutes on one core. The --quick settings took 43 s of CPU time. Expected figures: elbo_curve, elbo_vs_iwae, samples, reconstructions,
interpolation, latent_scatter, pixelvae_samples (PNG) plus metrics.json and report.html under runs/.
"""

from bayesdl.experiments import run_experiment

if __name__ == "__main__":
    result = run_experiment("vae-digits", out="runs")
    print(result.out_dir, result.metrics["test_log_likelihood"], result.metrics["test_elbo_bound"])
    for variant, scores in result.metrics["pixelvae"].items():
        print(f"PixelVAE {variant}: KL per example {scores['test_kl_per_example']:.3f} nats")
