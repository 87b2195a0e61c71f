"""Counted progress of the long library calls (AIS, IWAE log-likelihood, the DDPM bound, PixelCNN sampling):
off and silent by default, a bar on request, and a callback that sees every step of the right total."""

import math

import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.inference.ais import AnnealingPath, annealed_importance_sampling
from bayesdl.inference.estimators import log_likelihood
from bayesdl.models.autoregressive import PixelCNN
from bayesdl.models.diffusion import DDPM
from bayesdl.models.diffusion.bound import variational_bound
from bayesdl.models.rbm import RBM
from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder
from bayesdl.nn import DenoisingMLP
from bayesdl.progress import ProgressCounter


class Recorder:
    """A progress callback that keeps every (done, total) it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))

    def check_complete(self, total: int, updates: int) -> None:
        assert len(self.calls) == updates
        assert all(t == total for _, t in self.calls)
        done = [d for d, _ in self.calls]
        assert done == sorted(done) and len(set(done)) == len(done) and done[-1] == total


class Coin(AnnealingPath):
    def log_z_base(self):
        return math.log(2.0)

    def sample_base(self, n, g):
        return (torch.rand(n, generator=g) < 0.5).float()

    def log_unnormalized(self, x, beta):
        return 2.0 * beta * x

    def transition(self, x, beta, g):
        return (torch.rand(x.shape, generator=g) < torch.sigmoid(torch.tensor(2.0 * beta))).float()


def test_a_bad_progress_argument_is_refused_by_name():
    with pytest.raises(InputError, match="progress must be"):
        ProgressCounter(3, 10, "x")


def test_ais_counts_every_annealing_step_and_the_result_does_not_depend_on_it():
    rec = Recorder()
    est = annealed_importance_sampling(Coin(), num_chains=50, num_betas=37, seed=0, progress=rec)
    rec.check_complete(36, 36)  # K = num_betas - 1 weight increments
    assert est.log_z == annealed_importance_sampling(Coin(), num_chains=50, num_betas=37, seed=0).log_z


def test_rbm_log_partition_passes_progress_to_ais():
    rec = Recorder()
    RBM(6, 25, seed=0).log_partition("ais", num_chains=10, num_betas=20, progress=rec)
    rec.check_complete(19, 19)


def test_iwae_log_likelihood_counts_examples_times_samples_in_uneven_chunks():
    vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
    x = torch.bernoulli(torch.full((7, 4), 0.5), generator=torch.Generator().manual_seed(0))
    rec = Recorder()
    log_likelihood(vae, x, num_samples=23, batch_size=3, chunk_size=10, seed=0, progress=rec)
    # 3 batches (3, 3, 1 examples) x 3 chunks (10, 10, 3 samples)
    rec.check_complete(7 * 23, 9)


def test_ddpm_bound_counts_all_steps_in_uneven_chunks():
    torch.manual_seed(0)
    model = DDPM(DenoisingMLP(1, hidden=8), data_shape=[1], num_steps=10)
    rec = Recorder()
    variational_bound(
        model, torch.randn(4, 1), t_chunk=4, generator=torch.Generator().manual_seed(0), progress=rec
    )
    rec.check_complete(10, 3)  # chunks of 4, 4 and 2 steps


def test_pixelcnn_sampling_counts_pixels_and_completion_counts_only_missing_ones():
    torch.manual_seed(0)
    model = PixelCNN(1, 4, num_layers=1, hidden_channels=4, kernel_size=3)
    rec = Recorder()
    first = model.sample(3, seed=0, progress=rec)
    rec.check_complete(16, 16)
    assert torch.equal(first, model.sample(3, seed=0))  # counting changes no draw
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    mask[..., :1, :] = True  # the top row is observed
    rec = Recorder()
    model.complete(first, mask, seed=0, progress=rec)
    rec.check_complete(12, 12)


def test_progress_is_silent_by_default_and_a_label_shows_a_bar(capsys):
    annealed_importance_sampling(Coin(), num_chains=10, num_betas=12, seed=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    annealed_importance_sampling(Coin(), num_chains=10, num_betas=12, seed=0, progress="AIS of the coin")
    assert "AIS of the coin" in capsys.readouterr().err
