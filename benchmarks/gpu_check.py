"""GPU readiness: every model family trains on a CUDA device, stays there, and matches the CPU; NUTS on the GPU.

On a CUDA machine, for each family below:

* build the model with a fixed seed on the CPU, copy it to the device, and train both copies a few Adam steps on the
  same minibatches, timing each (``torch.cuda.synchronize()`` around the device timings);
* check that every parameter and buffer, the loss and one output of the trained model (``predictive_samples``,
  ``log_prob``, ``predict`` or ``sample``) are on the device;
* compare the loss of one step on the two devices before training: the mean of repeated loss evaluations (in
  evaluation mode, so no state advances) agrees within 6 standard errors of the difference plus a 2e-3 relative
  allowance for float32 rounding and TF32 convolutions (for a deterministic loss only the allowance remains). With
  normal errors a correct implementation fails this for one family in about 5e8;

then NUTS on the logistic-regression benchmark (breast cancer, 31 parameters, float64) with 4 and with 256 chains on
the device and on the CPU, checking where the draws are and timing both. A markdown table goes to ``--out``.

Without CUDA the script prints why and exits with status 0. ``--device cpu`` runs every check with the CPU standing
in for the device (the test suite does this with tiny settings). Budget: under 5 minutes on one GPU.

    python benchmarks/gpu_check.py [--device cuda] [--steps 20] [--out benchmarks/GPU_CHECK.md]
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPEATS = 32  # loss evaluations per device for the one-step comparison
RELATIVE_ALLOWANCE = 2e-3
SIGMAS = 6.0


@dataclass
class Family:
    """A model family: how to build it and one minibatch (``loss(*batch)``), and the output to check."""

    name: str
    build: Callable[[], torch.nn.Module]
    batch: Callable[[torch.Generator], tuple[torch.Tensor, ...]]
    output: Callable[[torch.nn.Module, tuple[torch.Tensor, ...]], object]


def _binary(rows: int, cols: int) -> Callable[[torch.Generator], tuple[torch.Tensor, ...]]:
    return lambda g: ((torch.rand(rows, cols, generator=g) < 0.5).float(),)


def _labelled(rows: int, cols: int, classes: int) -> Callable[[torch.Generator], tuple[torch.Tensor, ...]]:
    return lambda g: (torch.randn(rows, cols, generator=g), torch.randint(0, classes, (rows,), generator=g))


def families() -> list[Family]:
    """The families checked, at sizes that train in well under a second per step on a GPU or a CPU."""
    from bayesdl.models.autoregressive import MADE, NADE, PixelCNN
    from bayesdl.models.bnn import BayesByBackprop, DeepEnsemble, MCDropout
    from bayesdl.models.diffusion import DDPM
    from bayesdl.models.flows import MAF, RealNVP
    from bayesdl.models.gp.svgp import SparseVariationalGP
    from bayesdl.models.nets import MLP
    from bayesdl.models.rbm import RBM
    from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder
    from bayesdl.nn import DenoisingMLP

    def predictive(model, batch):
        return model.predictive_samples(batch[0], num_samples=2).probs

    def log_prob(model, batch):
        return model.log_prob(batch[0])

    def sample(model, batch):
        return model.sample(4)

    return [
        Family(
            "bayes-by-backprop",
            lambda: BayesByBackprop(MLP(32, [128, 128], 10)),
            _labelled(64, 32, 10),
            predictive,
        ),
        Family(
            "mc-dropout",
            lambda: MCDropout(MLP(32, [128], 10, dropout=0.2)),
            _labelled(64, 32, 10),
            predictive,
        ),
        Family(
            "deep-ensemble",
            lambda: DeepEnsemble(MLP(32, [64], 10), num_members=3),
            _labelled(64, 32, 10),
            predictive,
        ),
        Family(
            "svgp",
            lambda: SparseVariationalGP(4, num_inducing=16),
            lambda g: (torch.randn(64, 4, generator=g), torch.randn(64, generator=g)),
            lambda model, batch: model.predict(batch[0]).mean,
        ),
        Family(
            "vae",
            lambda: VAE(MLPEncoder([64], 8, [128]), MLPDecoder(8, [64], [128])),
            _binary(64, 64),
            sample,
        ),
        Family(
            "realnvp",
            lambda: RealNVP(16, num_layers=4, hidden_sizes=[64]),
            lambda g: (torch.randn(64, 16, generator=g),),
            log_prob,
        ),
        Family(
            "maf",
            lambda: MAF(16, num_transforms=3, hidden_sizes=[64]),
            lambda g: (torch.randn(64, 16, generator=g),),
            log_prob,
        ),
        Family("nade", lambda: NADE(32, 64), _binary(64, 32), log_prob),
        Family("made", lambda: MADE(32, [128], num_masks=2), _binary(64, 32), log_prob),
        Family(
            "pixelcnn",
            lambda: PixelCNN(1, 8, num_layers=3, hidden_channels=16),
            lambda g: ((torch.rand(16, 1, 8, 8, generator=g) < 0.5).float(),),
            log_prob,
        ),
        Family("rbm", lambda: RBM(64, 16, method="pcd", num_chains=64), _binary(64, 64), log_prob),
        Family(
            "ddpm",
            lambda: DDPM(DenoisingMLP(2), data_shape=[2], num_steps=50),
            lambda g: (torch.randn(64, 2, generator=g),),
            sample,
        ),
    ]


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _off_device(module: torch.nn.Module, device: torch.device) -> list[str]:
    tensors = list(module.named_parameters()) + list(module.named_buffers())
    return [name for name, t in tensors if t.device.type != device.type]


def _tensors_in(value: object) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors_in(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors_in(v)]
    return [t for v in getattr(value, "__dict__", {}).values() for t in _tensors_in(v)]


def _loss_statistics(
    model: torch.nn.Module, batch: tuple[torch.Tensor, ...], repeats: int
) -> tuple[float, float]:
    """Mean and standard error of ``repeats`` loss evaluations in evaluation mode (no state advances)."""
    model.eval()
    with torch.no_grad():
        values = torch.tensor([float(model.loss(*batch)) for _ in range(repeats)], dtype=torch.float64)
    model.train()
    return float(values.mean()), float(values.std() / math.sqrt(repeats)) if repeats > 1 else 0.0


def _train(
    model: torch.nn.Module, batches: list[tuple[torch.Tensor, ...]], device: torch.device
) -> tuple[float, torch.Tensor]:
    """Adam steps over the batches on ``device``; wall seconds (synchronised) and the last loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    moved = [tuple(t.to(device) for t in batch) for batch in batches]
    _synchronize(device)
    start = time.perf_counter()
    for batch in moved:
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(*batch)
        loss.backward()
        optimizer.step()
    _synchronize(device)
    return time.perf_counter() - start, loss.detach()


def check_family(
    family: Family, device: torch.device, steps: int, repeats: int = REPEATS
) -> dict[str, object]:
    """Train one family on ``device`` and on the CPU; the checks and timings as one table row."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    cpu_model = family.build()
    model = copy.deepcopy(cpu_model).to(device)
    batches = [family.batch(generator) for _ in range(steps)]
    first = tuple(t.to(device) for t in batches[0])
    cpu_mean, cpu_se = _loss_statistics(cpu_model, batches[0], repeats)
    dev_mean, dev_se = _loss_statistics(model, first, repeats)
    tolerance = SIGMAS * math.hypot(cpu_se, dev_se) + RELATIVE_ALLOWANCE * (1.0 + abs(cpu_mean))
    cpu_seconds, _ = _train(cpu_model, batches, torch.device("cpu"))
    dev_seconds, last_loss = _train(model, batches, device)
    model.eval()
    with torch.no_grad():
        output = family.output(model, first)
    outputs = _tensors_in(output)
    problems = [f"{name} off the device" for name in _off_device(model, device)[:3]]
    if last_loss.device.type != device.type:
        problems.append("loss off the device")
    if not outputs or any(t.device.type != device.type for t in outputs):
        problems.append("output off the device")
    if not math.isfinite(float(last_loss)):
        problems.append("non-finite loss")
    if not abs(dev_mean - cpu_mean) <= tolerance:
        problems.append(f"loss {dev_mean:.5g} vs CPU {cpu_mean:.5g} (tolerance {tolerance:.2g})")
    return {
        "check": f"train {family.name}, {steps} Adam steps",
        "cpu_s": cpu_seconds,
        "device_s": dev_seconds,
        "detail": f"first-step loss {dev_mean:.4f} +/- {dev_se:.4f} vs CPU {cpu_mean:.4f} +/- {cpu_se:.4f}",
        "ok": not problems,
        "problems": "; ".join(problems),
    }


def check_nuts(device: torch.device, chains: int, warmup: int, draws: int) -> dict[str, object]:
    """NUTS on the logistic benchmark with ``chains`` chains on ``device`` and on the CPU."""
    from bayesdl.experiments.mcmc_logistic import load_breast_cancer_standardized, logistic_model
    from bayesdl.inference.mcmc import sample_posterior

    x, y, _, _ = load_breast_cancer_standardized(seed=0, test_fraction=0.0)
    seconds, means, problems = {}, {}, []
    for role, where in (("cpu", torch.device("cpu")), ("device", device)):
        xs, ys = x.to(where), y.to(where)
        _synchronize(where)
        start = time.perf_counter()
        post = sample_posterior(
            logistic_model,
            xs,
            ys,
            num_chains=chains,
            num_warmup=warmup,
            num_samples=draws,
            seed=0,
            progress=False,
        )
        _synchronize(where)
        seconds[role] = time.perf_counter() - start
        draws_ = [v for v in post.samples.values() if isinstance(v, torch.Tensor)]
        if role == "device" and any(v.device.type != device.type for v in draws_):
            problems.append("draws off the device")
        means[role] = torch.cat([v.reshape(chains * draws, -1).double().cpu() for v in draws_], 1).mean(0)
    gap = float((means["device"] - means["cpu"]).abs().max())
    return {
        "check": f"NUTS logistic (31 parameters), {chains} chains, {warmup}+{draws}",
        "cpu_s": seconds["cpu"],
        "device_s": seconds["device"],
        "detail": f"largest gap between posterior means {gap:.3f}",
        "ok": not problems,
        "problems": "; ".join(problems),
    }


def table(rows: list[dict[str, object]], device: torch.device) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    lines = [
        f"# GPU check on {name} (torch {torch.__version__})",
        "",
        "| check | CPU s | device s | CPU / device | detail | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        speedup = float(r["cpu_s"]) / max(float(r["device_s"]), 1e-9)
        verdict = "ok" if r["ok"] else f"FAILED: {r['problems']}"
        lines.append(
            f"| {r['check']} | {float(r['cpu_s']):.3f} | {float(r['device_s']):.3f} | {speedup:.2f}x | {r['detail']} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def run(
    device: torch.device, steps: int, nuts: tuple[tuple[int, int, int], ...], names: list[str] | None = None
) -> list[dict]:
    """All checks on ``device``; the table rows."""
    rows = [check_family(f, device, steps) for f in families() if names is None or f.name in names]
    rows += [check_nuts(device, chains, warmup, draws) for chains, warmup, draws in nuts]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default="cuda", help="the device to check (default cuda; cpu runs the checks on the CPU)"
    )
    parser.add_argument("--steps", type=int, default=20, help="Adam steps per family")
    parser.add_argument(
        "--nuts", default="4:300:300,256:300:300", help="chains:warmup:draws for each NUTS run ('' for none)"
    )
    parser.add_argument("--only", nargs="*", default=None, help="family names")
    parser.add_argument("--out", default=str(HERE / "GPU_CHECK.md"))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(
            "gpu_check: no CUDA device is available (torch.cuda.is_available() is False), so there is nothing to check; "
            "run it on a machine with a GPU, or pass --device cpu to exercise the checks on the CPU."
        )
        return 0
    nuts = tuple(tuple(int(v) for v in item.split(":")) for item in args.nuts.split(",") if item)
    if any(len(item) != 3 for item in nuts):
        parser.error(f"--nuts takes chains:warmup:draws items separated by commas, got {args.nuts!r}")
    rows = run(device, args.steps, nuts, args.only)  # type: ignore[arg-type]
    text = table(rows, device)
    Path(args.out).write_text(text)
    print(text)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
