"""The same network trained as a Bayesian neural network two ways: bayesdl's fused layers and the Pyro route.

Both fit a mean-field Gaussian posterior over the weights of MLP(64, [100], 10) on the 8x8 digits with a N(0, 1)
prior, 20 epochs, batch 100, Adam, through the shared Trainer:

* fused: ``BayesByBackprop(net, estimator="local_reparam")`` -- closed-form KL, local reparameterisation;
* Pyro: ``to_pyro_model(net)`` with ``model.autoguide()`` (AutoNormal) under ``elbo="meanfield"``
  (TraceMeanField_ELBO: also a closed-form KL, plain weight reparameterisation).

The objectives are the same per-example negative ELBO; they differ in the gradient estimator and in overhead.
Run: OMP_NUM_THREADS=1 PYTHONPATH=. python examples/bnn_pyro_vs_fused.py
Measured once on the shared 2-core CPU (median epoch time; the machine was shared, so times are indicative):
fused 25.6 ms/epoch, test acc 0.963, NLL 0.148, ECE 0.060; Pyro route 105.1 ms/epoch, acc 0.963, NLL 0.208, ECE 0.099.
"""

import statistics

import torch

from bayesdl.data import load_digits
from bayesdl.diagnostics import accuracy, expected_calibration_error, nll
from bayesdl.inference import Trainer
from bayesdl.inference.predictive import predict
from bayesdl.models.bnn import BayesByBackprop
from bayesdl.models.nets import MLP
from bayesdl.models.pyro_bnn import PyroPosterior, to_pyro_model
from bayesdl.nn.priors import GaussianPrior


def main(epochs: int = 20) -> None:
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    torch.manual_seed(0)
    net = MLP(64, [100], 10)
    rows = []

    fused = BayesByBackprop(net, prior=GaussianPrior(1.0), estimator="local_reparam")
    history = Trainer(fused, lr=3e-3, epochs=epochs, batch_size=100, progress=False, device="cpu").fit((x, y))
    rows.append(("fused layers (local reparam)", statistics.median(history["seconds"]), predict(fused, xt, 50)))

    pyro_model = to_pyro_model(net, prior_scale=1.0)
    guide = pyro_model.autoguide(init_scale=0.05)
    history = Trainer(pyro_model, guide=guide, elbo="meanfield", lr=3e-3, epochs=epochs, batch_size=100, progress=False,
                      device="cpu").fit((x, y))
    rows.append(("Pyro PyroSample + AutoNormal", statistics.median(history["seconds"]), predict(PyroPosterior(pyro_model, guide), xt, 50)))

    print(f"{'route':32s} {'ms/epoch':>8s} {'acc':>7s} {'NLL':>7s} {'ECE':>7s}   (median epoch time)")
    for name, seconds, pred in rows:
        print(f"{name:32s} {1000 * seconds:8.1f} {accuracy(pred.probs, yt):7.4f} {nll(pred.probs, yt):7.4f} "
              f"{expected_calibration_error(pred.probs, yt):7.4f}")


if __name__ == "__main__":
    main()
