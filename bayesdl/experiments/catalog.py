"""The names, one-line descriptions and demo flags of the registered experiments, readable without importing them.

``bayesdl list`` and ``bayesdl --help`` read this table so that they start without loading torch, Pyro or
ArviZ. The experiments' own ``@experiment(...)`` registrations are the source of truth; a test
(``tests/test_cli.py``) checks that this table matches them exactly, so a new experiment needs a row here.
"""

from __future__ import annotations

#: name -> (one-line description, whether ``bayesdl demo`` runs it)
CATALOG: dict[str, tuple[str, bool]] = {
    'ar-digits': ('NADE, MADE and gated PixelCNN on binarised 8x8 digits: exact test NLL, samples, completions', True),
    'ar-fashion': ('NADE, MADE and gated PixelCNN on statically binarised Fashion-MNIST: exact test NLL in nats', False),
    'bnn-classification': ('Digits (and Fashion-MNIST): accuracy, NLL, ECE, Brier and OOD AUROC of four uncertainty methods', True),
    'bnn-regression': ('Heteroscedastic and gap toy regression: Bayes by Backprop, MC dropout, deep ensemble, plain net', False),
    'diffusion-2d': ('DDPM with an MLP denoiser on 2-D toy densities: NLL bound (nats) and energy distance to held-out data', False),
    'diffusion-digits': ('DDPM (MLP denoiser) on 8x8 digits: bits/dim bound (17-level discretized decoder) and samples', True),
    'diffusion-fashion': ('DDPM with a small U-Net on Fashion-MNIST 28x28: bits/dim bound, ancestral and DDIM-50 samples', False),
    'fashion-dataloader': ('Fashion-MNIST classifier trained from in-memory tensors and from IDX files via a DataLoader with workers', False),
    'flow-2d': ('RealNVP, MAF and planar flows on toy 2-D densities: exact test NLL, density heatmaps, samples', False),
    'flow-digits': ('MAF and RealNVP on dequantised 8x8 digits: test NLL (nats, bits/dim) and samples', True),
    'flow-fashion': ('Multi-scale Glow-style flow on dequantised Fashion-MNIST: test bits/dim and samples', False),
    'gp-classification': ('Stochastic variational deep kernel learning (GPyTorch) next to the BNN methods on 8x8 digits: accuracy, NLL, ECE, OOD AUROC', False),
    'gp-regression': ('Exact GP, SVGP and deep kernel learning (GPyTorch) next to the BNN methods on toy data, GPs on Mauna Loa CO2: NLL, RMSE, coverage, CRPS', False),
    'mcmc-bnn': ("NUTS over the weights of the shared Pyro BNN on the 'gap' toy regression, vs Bayes by Backprop and MC dropout", False),
    'mcmc-eight-schools': ('Eight schools (non-centred) by batched-chain NUTS; centred funnel reports divergences', False),
    'mcmc-logistic': ('Bayesian logistic regression on breast cancer by batched NUTS: accuracy, PPC, LOO', False),
    'rbm-digits': ('RBMs on binarised 8x8 digits: CD-1 vs PCD, filters, Gibbs chains, AIS test log-likelihood', True),
    'rbm-fashion': ('RBMs on binarised Fashion-MNIST (500 hidden): CD-1, CD-10, PCD; AIS test log-likelihood and log Z', False),
    'svi-logistic': ('Bayesian logistic regression on 8x8 digits by SVI (Pyro model, AutoNormal guide, shared trainer)', True),
    'vae-digits': ('VAE with a 2-D latent space on binarised 8x8 digits: ELBO vs IWAE-K log-likelihood, samples, latent map', True),
    'vae-fashion': ('VAE, IWAE(k=5), IAF posterior and VampPrior on binarised Fashion-MNIST: test ELBO (bound) and IWAE-5000 log-likelihood', False),
}
