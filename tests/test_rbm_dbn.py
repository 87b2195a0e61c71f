"""Tests of the greedy deep belief net in bayesdl.models.dbn."""

from __future__ import annotations

import pytest
import torch

import bayesdl
from bayesdl.errors import InputError
from bayesdl.inference import fit_greedy
from bayesdl.models.dbn import DBN


def test_dbn_trains_each_layer_and_samples_downward(tmp_path, seed):
    gen = torch.Generator().manual_seed(seed(0))
    proto = (torch.rand(2, 12, generator=gen) < 0.5).float()
    data = proto[torch.randint(2, (200,), generator=gen)]
    dbn = DBN([12, 8, 6], method="pcd", num_chains=20)
    histories = fit_greedy(dbn, data, optimizer="sgd", lr=0.1, epochs=5, batch_size=20, progress=False)
    assert len(histories) == 2 and all(len(h) == 5 for h in histories)
    assert dbn.rbms[1].num_visible == 8 and bool(dbn.rbms[1].chain_ready)
    samples = dbn.sample(300, num_steps=200, seed=seed(1), mean=False)
    assert samples.shape == (300, 12) and set(samples.unique().tolist()) <= {0.0, 1.0}
    # samples should be near one of the two prototypes far more often than random vectors are: a uniform
    # 12-bit vector is within L1 distance 2 of one of them with p0 = 2 * 79 / 4096 = 0.039, so 300 random
    # draws exceed 0.1 with probability < 1e-5 (binomial); after 5 epochs the DBN reached 0.20-0.98 (16 seeds)
    dist = torch.cdist(samples, proto, p=1).min(1).values
    assert float((dist <= 2).float().mean()) > 0.1
    assert dbn.transform(data[:4]).shape == (4, 6)
    loaded = bayesdl.load(bayesdl.save(dbn, tmp_path / "dbn.safetensors"))
    torch.testing.assert_close(loaded.transform(data[:4]), dbn.transform(data[:4]))


def test_dbn_rejects_bad_input():
    with pytest.raises(InputError):
        DBN([5])
    with pytest.raises(InputError, match="binary"):
        DBN([5, 3]).transform(torch.full((2, 5), 0.3))
