"""Low-level, speed-tuned tensor kernels with no model logic.

- :mod:`~bayesdl.ops.random_bits`: float32-resolution uniforms and Bernoulli draws from half a 64-bit word each;
- :mod:`~bayesdl.ops.ode`: one checked torchdiffeq solve (counts evaluations; a non-finite state names the time);
- :mod:`~bayesdl.ops.compiled_local_reparam`: the compiled (TorchInductor) Bayes-by-Backprop step for a stack of
  Bayesian linear layers, with its hand-written backward pass.

Their speed is measured in ``benchmarks/`` (``bench_rbm.py``, ``bench_bnn.py``), not here.
"""
